//! Home Assistant without a custom integration: MQTT discovery (`[homeassistant]`). Each camera
//! gets one retained device-based discovery message on
//! `<discovery_prefix>/device/<node_id>/<camera>/config`, all naming one device (this lookout):
//! per-class counts, person occupancy, zone counts, line totals, a snapshot image where snapshots
//! go to MQTT, and (for `lookout run`) status, fps and inference latency. Every entity's
//! availability is lookout's retained `<root>/status` with its last will.
//!
//! Discovery and state are retained and sent again on every (re)connect and whenever Home
//! Assistant announces `online` on `<discovery_prefix>/status` (its birth message). A camera
//! removed from the config (SIGHUP, or a restart with a new config) gets an empty retained
//! discovery message, which removes its entities.

pub mod discovery;

use std::sync::Mutex;

use serde::Deserialize;

use crate::detect::{named_classes, TRAFFIC_CLASSES};
use crate::publish::mqtt::MqttPublisher;
use crate::publish::topics::DeviceTopics;
use crate::track::TrackStage;
pub use discovery::{CameraEntities, DeviceInfo};

/// `[homeassistant]` in the config file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HomeAssistantConfig {
    /// Publish discovery messages (and the per-class `<camera>/counts` they read).
    pub enabled: bool,
    /// Home Assistant's discovery prefix (its MQTT integration's setting).
    pub discovery_prefix: String,
    /// The discovery topic level and unique-id prefix of this lookout; default `lookout_<device>`.
    pub node_id: Option<String>,
    /// The device's name in Home Assistant; default `lookout <device>`.
    pub device_name: Option<String>,
    /// Home Assistant's "visit device" link; default: the admin endpoint's `/ready` when it
    /// listens on an address Home Assistant can reach (not loopback).
    pub configuration_url: Option<String>,
}

impl Default for HomeAssistantConfig {
    fn default() -> Self {
        HomeAssistantConfig {
            enabled: false,
            discovery_prefix: "homeassistant".into(),
            node_id: None,
            device_name: None,
            configuration_url: None,
        }
    }
}

impl HomeAssistantConfig {
    pub fn validate(&self) -> Result<(), String> {
        let p = &self.discovery_prefix;
        if p.is_empty() || p.contains(['+', '#']) || p.starts_with('/') || p.ends_with('/') {
            return Err(format!(
                "discovery_prefix '{p}' must be a topic without '+', '#' or a leading/trailing '/' \
                 (Home Assistant's default is \"homeassistant\")"
            ));
        }
        if let Some(n) = &self.node_id {
            if n.is_empty() || discovery::object_id(n) != *n {
                return Err(format!(
                    "node_id '{n}' may only use letters, digits, '_' and '-' (Home Assistant's rule)"
                ));
            }
        }
        if let Some(u) = &self.configuration_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(format!(
                    "configuration_url '{u}' must start with http:// or https://"
                ));
            }
        }
        Ok(())
    }

    /// This lookout's discovery topic level and unique-id prefix.
    pub fn node_id(&self, device: &str) -> String {
        self.node_id
            .clone()
            .unwrap_or_else(|| format!("lookout_{}", discovery::object_id(device)))
    }

    /// Where one camera's discovery message goes.
    pub fn discovery_topic(&self, device: &str, camera: &str) -> String {
        format!(
            "{}/device/{}/{}/config",
            self.discovery_prefix,
            self.node_id(device),
            discovery::object_id(camera)
        )
    }

    /// Home Assistant's birth and last-will topic.
    pub fn birth_topic(&self) -> String {
        format!("{}/status", self.discovery_prefix)
    }

    /// The device for `device` under `root`; `admin_listen`: `[admin] listen` ("" when off).
    pub fn device_info(
        &self,
        device: &str,
        topics: &DeviceTopics,
        admin_listen: &str,
    ) -> DeviceInfo {
        DeviceInfo {
            device: device.into(),
            topics: topics.clone(),
            name: self
                .device_name
                .clone()
                .unwrap_or_else(|| format!("lookout {device}")),
            configuration_url: self
                .configuration_url
                .clone()
                .or_else(|| admin_url(admin_listen)),
        }
    }
}

/// The admin endpoint's `/ready` page, when it listens beyond loopback (Home Assistant's browser
/// could not reach 127.0.0.1 of this machine); an unspecified address is named by the hostname.
fn admin_url(listen: &str) -> Option<String> {
    let addr: std::net::SocketAddr = listen.parse().ok()?;
    if addr.ip().is_loopback() {
        return None;
    }
    let host = if addr.ip().is_unspecified() {
        crate::publish::hostname()
    } else {
        match addr.ip() {
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        }
    };
    Some(format!("http://{host}:{}/ready", addr.port()))
}

/// The classes that get entities: the camera's class filter, or the traffic classes when it
/// reports every class (80 COCO classes of entities would drown the device page).
pub fn entity_classes(classes: &[String]) -> Vec<String> {
    match named_classes(classes) {
        [] => TRAFFIC_CLASSES.iter().map(|c| c.to_string()).collect(),
        named => named.to_vec(),
    }
}

/// A camera's entities: `classes` (its class filter), the zones and lines of its tracking stage,
/// its snapshot topic, and whether `<camera>/state` is published (`lookout run`).
pub fn camera_entities(
    camera: &str,
    classes: &[String],
    tracking: Option<&Mutex<TrackStage>>,
    snapshot_topic: Option<String>,
    state: bool,
) -> CameraEntities {
    let classes = entity_classes(classes);
    // A zone or line lists the classes it counts (at zero too); one that counts every class
    // gets the camera's.
    let own = |listed: Vec<String>| {
        if listed.is_empty() {
            classes.clone()
        } else {
            listed
        }
    };
    let (zones, lines) = match tracking {
        Some(t) => {
            let (z, l) = t.lock().unwrap_or_else(|p| p.into_inner()).current();
            (
                z.into_iter()
                    .map(|z| (z.zone, own(z.counts.into_keys().collect())))
                    .collect(),
                l.into_iter()
                    .map(|l| (l.line, own(l.totals.into_keys().collect())))
                    .collect(),
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    CameraEntities {
        camera: camera.into(),
        classes,
        zones,
        lines,
        snapshot_topic,
        state,
    }
}

/// Publishing discovery for one lookout on one broker connection.
pub struct Discovery<'a> {
    pub config: &'a HomeAssistantConfig,
    pub device: DeviceInfo,
}

impl Discovery<'_> {
    /// Listens for Home Assistant's birth message (then every retained message is sent again).
    /// `clear_stale`: also clear the discovery of cameras this lookout declared in an earlier run
    /// but not in this one (`lookout run`, whose config names every camera; call it after
    /// [`Self::announce`] has declared them).
    pub fn watch(&self, m: &MqttPublisher, clear_stale: bool) {
        m.resend_on_birth(&self.config.birth_topic());
        if clear_stale {
            let prefix = format!(
                "{}/device/{}/",
                self.config.discovery_prefix,
                self.config.node_id(&self.device.device)
            );
            m.clear_stale_retained(&prefix, "/config");
        }
    }

    /// Declares (or updates) one camera's entities.
    pub fn announce(&self, m: &MqttPublisher, cam: &CameraEntities) {
        let node = self.config.node_id(&self.device.device);
        let payload = discovery::camera_payload(&node, &self.device, cam);
        match serde_json::to_vec(&payload) {
            Ok(bytes) => m.publish_retained_json(&self.topic(&cam.camera), bytes, None),
            Err(e) => {
                tracing::error!(camera = %cam.camera, "Home Assistant discovery not sent: {e}")
            }
        }
    }

    /// Removes one camera's entities: an empty retained discovery message.
    pub fn withdraw(&self, m: &MqttPublisher, camera: &str) {
        m.publish_retained_json(&self.topic(camera), Vec::new(), None);
    }

    fn topic(&self, camera: &str) -> String {
        self.config.discovery_topic(&self.device.device, camera)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_checks_and_defaults() {
        let c = HomeAssistantConfig::default();
        assert!(c.validate().is_ok());
        assert_eq!(c.birth_topic(), "homeassistant/status");
        assert_eq!(
            c.discovery_topic("robot.1", "front cam"),
            "homeassistant/device/lookout_robot_1/front_cam/config"
        );
        for (bad, why) in [
            (
                HomeAssistantConfig {
                    discovery_prefix: "ha/#".into(),
                    ..c.clone()
                },
                "discovery_prefix",
            ),
            (
                HomeAssistantConfig {
                    node_id: Some("a.b".into()),
                    ..c.clone()
                },
                "node_id",
            ),
            (
                HomeAssistantConfig {
                    configuration_url: Some("robot:9464".into()),
                    ..c.clone()
                },
                "http://",
            ),
        ] {
            let e = bad.validate().expect_err("rejected");
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn configuration_url_only_where_home_assistant_can_reach_it() {
        let c = HomeAssistantConfig::default();
        let d = c.device_info("r", &DeviceTopics::new("lookout", "r"), "127.0.0.1:9464");
        assert_eq!(d.configuration_url, None);
        assert_eq!(d.name, "lookout r");
        let d = c.device_info("r", &DeviceTopics::new("lookout", "r"), "192.168.1.5:9464");
        assert_eq!(
            d.configuration_url.as_deref(),
            Some("http://192.168.1.5:9464/ready")
        );
        assert_eq!(
            c.device_info("r", &DeviceTopics::new("lookout", "r"), "")
                .configuration_url,
            None
        );
        let set = HomeAssistantConfig {
            configuration_url: Some("https://robot.example/".into()),
            ..c
        };
        assert_eq!(
            set.device_info("r", &DeviceTopics::new("lookout", "r"), "127.0.0.1:9464")
                .configuration_url
                .as_deref(),
            Some("https://robot.example/")
        );
    }

    #[test]
    fn all_classes_fall_back_to_the_traffic_classes() {
        assert_eq!(entity_classes(&["all".into()]).len(), TRAFFIC_CLASSES.len());
        assert_eq!(entity_classes(&["dog".into()]), ["dog"]);
    }
}
