//! Home Assistant's device-based MQTT discovery payloads: one discovery message per camera, all
//! naming the same device (this lookout), each declaring the camera's entities bound to topics
//! lookout already publishes retained. The fields are Home Assistant's documented ones
//! (docs/schema/homeassistant-discovery.schema.json cites them); docs/mqtt.md shows an example.

use serde_json::{json, Map, Value};

use crate::publish::topics::{DeviceTopics, Topics};

/// The lookout device as Home Assistant sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    /// The topic segment naming this machine (`[mqtt] device`, default the hostname).
    pub device: String,
    /// `<topic_prefix>/<device>`: where `status` and the cameras' topics are.
    pub topics: DeviceTopics,
    /// The device's name in Home Assistant.
    pub name: String,
    /// Home Assistant's "visit device" link (the admin endpoint), if there is one.
    pub configuration_url: Option<String>,
}

/// What one camera has that Home Assistant can show.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraEntities {
    pub camera: String,
    /// Classes with a count sensor.
    pub classes: Vec<String>,
    /// Zones and lines, each with the classes it counts (a sensor per class; per direction for
    /// lines).
    pub zones: Vec<(String, Vec<String>)>,
    pub lines: Vec<(String, Vec<String>)>,
    /// The camera's retained JPEG snapshot topic, when snapshots go to MQTT.
    pub snapshot_topic: Option<String>,
    /// `<camera>/state` is published (`lookout run`): status, fps and latency sensors.
    pub state: bool,
}

/// The characters Home Assistant allows in ids and discovery topic levels: `[a-zA-Z0-9_-]`.
pub fn object_id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A template reading `path` of the JSON payload, 0 where the key is absent (a class not seen
/// yet); `path`'s last key is looked up with `.get`, the others must exist.
fn number_at(path: &[&str]) -> String {
    let (last, parents) = path.split_last().expect("a path has a key");
    let mut t = String::from("value_json");
    for p in parents {
        t += &format!("[{}]", quoted(p));
    }
    format!("{{{{ {t}.get({}, 0) }}}}", quoted(last))
}

/// A Jinja string literal.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The discovery payload for one camera (`<prefix>/device/<node_id>/<camera>/config`).
/// `node_id` prefixes every unique id, so ids are stable across restarts and distinct per device.
pub fn camera_payload(node_id: &str, dev: &DeviceInfo, cam: &CameraEntities) -> Value {
    let version = env!("CARGO_PKG_VERSION");
    let mut device = json!({
        "identifiers": [node_id],
        "name": dev.name,
        "manufacturer": "lookout",
        "model": "lookout edge perception daemon",
        "sw_version": version,
    });
    if let Some(url) = &dev.configuration_url {
        device["configuration_url"] = json!(url);
    }
    let topics = dev.topics.camera(&cam.camera);
    let mut cmps = Components {
        node_id,
        camera: &cam.camera,
        map: Map::new(),
    };
    add_counts(&mut cmps, cam, &topics);
    add_regions(&mut cmps, cam, &topics);
    if let Some(topic) = &cam.snapshot_topic {
        cmps.add(
            "snapshot",
            "image",
            format!("{} snapshot", cam.camera),
            json!({"image_topic": topic, "content_type": "image/jpeg"}),
        );
    }
    if cam.state {
        add_diagnostics(&mut cmps, &cam.camera, &topics.state());
    }
    json!({
        "dev": device,
        "o": {"name": "lookout", "sw_version": version},
        "availability": [{
            "topic": dev.topics.status(),
            "payload_available": "online",
            "payload_not_available": "offline",
        }],
        "qos": 1,
        "cmps": cmps.map,
    })
}

/// A camera's entities, by unique id.
struct Components<'a> {
    node_id: &'a str,
    camera: &'a str,
    map: Map<String, Value>,
}

impl Components<'_> {
    /// One entity: `what` names it within the camera (its unique id is `<node>_<camera>_<what>`).
    fn add(&mut self, what: &str, platform: &str, name: String, mut fields: Value) {
        let uid = format!(
            "{}_{}_{}",
            self.node_id,
            object_id(self.camera),
            object_id(what)
        );
        fields["p"] = json!(platform);
        fields["name"] = json!(name);
        fields["unique_id"] = json!(uid);
        self.map.insert(uid, fields);
    }
}

/// A count per class in view, and person occupancy, from `<camera>/counts`.
fn add_counts(cmps: &mut Components<'_>, cam: &CameraEntities, topics: &Topics) {
    let counts = topics.counts();
    for class in &cam.classes {
        cmps.add(
            &format!("count_{class}"),
            "sensor",
            format!("{} {class} count", cam.camera),
            json!({
                "state_topic": counts,
                "value_template": number_at(&["counts", class.as_str()]),
                "state_class": "measurement",
                "icon": "mdi:counter",
            }),
        );
    }
    if cam.classes.iter().any(|c| c == "person") {
        cmps.add(
            "occupancy",
            "binary_sensor",
            format!("{} person occupancy", cam.camera),
            json!({
                "state_topic": counts,
                "device_class": "occupancy",
                "value_template":
                    "{{ 'ON' if value_json['counts'].get('person', 0) > 0 else 'OFF' }}",
            }),
        );
    }
}

/// Each zone's count and each line's totals per class (and direction).
fn add_regions(cmps: &mut Components<'_>, cam: &CameraEntities, topics: &Topics) {
    for (zone, classes) in &cam.zones {
        for class in classes {
            cmps.add(
                &format!("zone_{zone}_{class}"),
                "sensor",
                format!("{} {zone} {class}", cam.camera),
                json!({
                    "state_topic": topics.zone(zone),
                    "value_template": number_at(&["counts", class.as_str()]),
                    "state_class": "measurement",
                    "icon": "mdi:vector-square",
                }),
            );
        }
    }
    for (line, classes) in &cam.lines {
        for class in classes {
            for dir in ["in", "out"] {
                cmps.add(
                    &format!("line_{line}_{class}_{dir}"),
                    "sensor",
                    format!("{} {line} {class} {dir}", cam.camera),
                    json!({
                        "state_topic": topics.line(line),
                        "value_template":
                            number_at_class_dir(class, dir),
                        "state_class": "total_increasing",
                        "icon": "mdi:transit-transfer",
                    }),
                );
            }
        }
    }
}

/// Status, fps and inference latency from the camera's retained `state` (`lookout run` only).
fn add_diagnostics(cmps: &mut Components<'_>, camera: &str, state: &str) {
    cmps.add(
        "status",
        "sensor",
        format!("{camera} status"),
        json!({
            "state_topic": state,
            "value_template": "{{ value_json['status'] }}",
            "device_class": "enum",
            "options": ["starting", "running", "paused", "restarting", "stopped"],
            "entity_category": "diagnostic",
        }),
    );
    cmps.add(
        "fps",
        "sensor",
        format!("{camera} fps"),
        json!({
            "state_topic": state,
            "value_template": "{{ value_json['fps'] }}",
            "unit_of_measurement": "fps",
            "state_class": "measurement",
            "entity_category": "diagnostic",
            "icon": "mdi:speedometer",
        }),
    );
    cmps.add(
        "inference_ms",
        "sensor",
        format!("{camera} inference latency"),
        json!({
            "state_topic": state,
            "value_template": number_at(&["latency_ms", "inference_p50"]),
            "unit_of_measurement": "ms",
            "device_class": "duration",
            "state_class": "measurement",
            "entity_category": "diagnostic",
        }),
    );
}

/// A line's total for one class and direction: 0 until the class has crossed.
fn number_at_class_dir(class: &str, dir: &str) -> String {
    format!(
        "{{{{ value_json['totals'].get({}, {{}}).get({}, 0) }}}}",
        quoted(class),
        quoted(dir)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> DeviceInfo {
        DeviceInfo {
            device: "robot-1".into(),
            topics: DeviceTopics::new("lookout", "robot-1"),
            name: "lookout robot-1".into(),
            configuration_url: Some("http://robot-1:9464/ready".into()),
        }
    }

    fn gate(snapshot: Option<&str>) -> CameraEntities {
        CameraEntities {
            camera: "gate.1".into(),
            classes: vec!["person".into(), "traffic light".into()],
            zones: vec![("left".into(), vec!["person".into(), "traffic light".into()])],
            lines: vec![("walkway".into(), vec!["person".into()])],
            snapshot_topic: snapshot.map(str::to_string),
            state: true,
        }
    }

    #[test]
    fn one_component_per_entity_with_stable_ids() {
        let v = camera_payload("lookout_robot-1", &device(), &gate(None));
        let cmps = v["cmps"].as_object().expect("components");
        // 2 counts, occupancy, 2 zone counts, 2 line totals, status, fps, latency.
        assert_eq!(cmps.len(), 10, "{cmps:?}");
        for (key, c) in cmps {
            assert_eq!(c["unique_id"], json!(key));
            let chars_ok = key
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "_-".contains(ch));
            assert!(chars_ok, "{key}");
        }
        let count = &cmps["lookout_robot-1_gate_1_count_traffic_light"];
        assert_eq!(count["state_topic"], "lookout/robot-1/gate.1/counts");
        assert_eq!(
            count["value_template"],
            "{{ value_json['counts'].get('traffic light', 0) }}"
        );
        let line = &cmps["lookout_robot-1_gate_1_line_walkway_person_out"];
        assert_eq!(line["state_class"], "total_increasing");
        assert_eq!(
            line["value_template"],
            "{{ value_json['totals'].get('person', {}).get('out', 0) }}"
        );
        assert_eq!(v["dev"]["configuration_url"], "http://robot-1:9464/ready");
        assert_eq!(v["availability"][0]["topic"], "lookout/robot-1/status");
        assert!(!cmps.values().any(|c| c["p"] == "image"));
        // The same input gives the same payload: ids do not depend on time or order of start.
        assert_eq!(v, camera_payload("lookout_robot-1", &device(), &gate(None)));
    }

    /// docs/schema/homeassistant-discovery.schema.json, written from Home Assistant's documented
    /// discovery fields.
    fn assert_documented(v: &Value) {
        let errors = schema_errors(v);
        assert!(errors.is_empty(), "{errors:?}\n{v:#}");
    }

    fn schema_errors(v: &Value) -> Vec<String> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/schema/homeassistant-discovery.schema.json"
        );
        let text = std::fs::read_to_string(path).expect("schema file");
        let schema: Value = serde_json::from_str(&text).expect("schema json");
        let validator = jsonschema::validator_for(&schema).expect("valid schema");
        validator
            .iter_errors(v)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect()
    }

    #[test]
    fn the_schema_rejects_what_home_assistant_would() {
        let good = camera_payload("n", &device(), &gate(None));
        for (pointer, bad) in [
            (
                "/cmps/n_gate_1_count_person/state_class",
                json!("sometimes"),
            ),
            ("/cmps/n_gate_1_count_person/state_topic", json!("a/+/b")),
            ("/o", json!({"sw_version": "1"})),
        ] {
            let mut v = good.clone();
            *v.pointer_mut(pointer).expect(pointer) = bad;
            assert!(!schema_errors(&v).is_empty(), "{pointer} accepted");
        }
        let mut v = good;
        v["cmps"]["n_gate_1_fps"]
            .as_object_mut()
            .expect("fps")
            .remove("unique_id");
        assert!(
            !schema_errors(&v).is_empty(),
            "a component without unique_id"
        );
    }

    #[test]
    fn snapshot_topic_declares_an_image_entity() {
        let v = camera_payload(
            "n",
            &device(),
            &gate(Some("lookout/robot-1/gate.1/snapshot")),
        );
        assert_documented(&v);
        let image = &v["cmps"]["n_gate_1_snapshot"];
        assert_eq!(image["p"], "image");
        assert_eq!(image["image_topic"], "lookout/robot-1/gate.1/snapshot");
        assert_eq!(image["content_type"], "image/jpeg");
    }

    #[test]
    fn replay_has_no_state_sensors_and_no_occupancy_without_person() {
        let cam = CameraEntities {
            classes: vec!["car".into()],
            state: false,
            zones: vec![],
            lines: vec![],
            ..gate(None)
        };
        let v = camera_payload("n", &device(), &cam);
        assert_documented(&v);
        let keys: Vec<&String> = v["cmps"].as_object().expect("map").keys().collect();
        assert_eq!(keys, ["n_gate_1_count_car"]);
    }

    #[test]
    fn templates_quote_odd_class_names() {
        assert_eq!(
            number_at(&["counts", "it's"]),
            "{{ value_json['counts'].get('it\\'s', 0) }}"
        );
        assert_eq!(object_id("a.b c/d"), "a_b_c_d");
    }
}
