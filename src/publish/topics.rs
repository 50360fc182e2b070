//! Every topic lookout publishes to or listens on, built in one place (docs/mqtt.md lists them):
//! [`DeviceTopics`] for one lookout process (`<prefix>/<device>`), [`Topics`] for one of its
//! cameras (`<prefix>/<device>/<camera>`). Built once, then asked; nothing else formats a topic.

/// `<prefix>/<device>`: the topics of one lookout process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTopics {
    root: String,
}

impl DeviceTopics {
    pub fn new(prefix: &str, device: &str) -> DeviceTopics {
        DeviceTopics {
            root: format!("{prefix}/{device}"),
        }
    }

    /// `<prefix>/<device>`, the root every other topic of this process starts with.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// `<root>/status`: retained `online`/`offline`, and the last will.
    pub fn status(&self) -> String {
        format!("{}/status", self.root)
    }

    /// `<root>/stats`: every camera's counters, each stats interval.
    pub fn stats(&self) -> String {
        format!("{}/stats", self.root)
    }

    /// `<root>/+/set`: what the connection subscribes to for commands.
    pub fn commands(&self) -> String {
        format!("{}/+/set", self.root)
    }

    /// One camera's topics.
    pub fn camera(&self, camera: &str) -> Topics {
        Topics::under(&self.root, camera)
    }

    /// The camera a command topic (`<root>/<camera>/set`) addresses.
    pub fn camera_of_command<'t>(&self, topic: &'t str) -> Option<&'t str> {
        topic
            .strip_prefix(self.root.as_str())?
            .strip_prefix('/')?
            .strip_suffix("/set")
            .filter(|c| !c.contains('/'))
    }
}

/// `<prefix>/<device>/<camera>`: one camera's topics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    base: String,
    detections: String,
    events: String,
}

impl Topics {
    pub fn new(prefix: &str, device: &str, camera: &str) -> Topics {
        DeviceTopics::new(prefix, device).camera(camera)
    }

    fn under(root: &str, camera: &str) -> Topics {
        let base = format!("{root}/{camera}");
        Topics {
            detections: format!("{base}/detections"),
            events: format!("{base}/events"),
            base,
        }
    }

    /// `<root>/<camera>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Every processed frame's detections message.
    pub fn detections(&self) -> &str {
        &self.detections
    }

    /// Class and object events (QoS 1, store-and-forward).
    pub fn events(&self) -> &str {
        &self.events
    }

    /// Retained objects per class (Home Assistant's count entities).
    pub fn counts(&self) -> String {
        format!("{}/counts", self.base)
    }

    /// The camera's retained state.
    pub fn state(&self) -> String {
        format!("{}/state", self.base)
    }

    /// The camera's retained annotated JPEG.
    pub fn snapshot(&self) -> String {
        format!("{}/snapshot", self.base)
    }

    /// A zone's retained counts.
    pub fn zone(&self, zone: &str) -> String {
        format!("{}/zones/{zone}", self.base)
    }

    /// A line's retained totals.
    pub fn line(&self, line: &str) -> String {
        format!("{}/lines/{line}", self.base)
    }

    /// The camera's command topic.
    pub fn set(&self) -> String {
        format!("{}/set", self.base)
    }

    /// Where a command's answer goes when it names no MQTT 5 response topic.
    pub fn set_result(&self) -> String {
        format!("{}/set/result", self.base)
    }

    /// The retained topics a removed camera leaves behind (its zones' and lines' come from them).
    pub fn retained(&self) -> [String; 3] {
        [self.state(), self.counts(), self.snapshot()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_of_a_camera() {
        let t = Topics::new("lookout", "robot", "front");
        assert_eq!(t.base(), "lookout/robot/front");
        assert_eq!(t.detections(), "lookout/robot/front/detections");
        assert_eq!(t.events(), "lookout/robot/front/events");
        assert_eq!(t.counts(), "lookout/robot/front/counts");
        assert_eq!(t.state(), "lookout/robot/front/state");
        assert_eq!(t.snapshot(), "lookout/robot/front/snapshot");
        assert_eq!(t.zone("door"), "lookout/robot/front/zones/door");
        assert_eq!(t.line("walk"), "lookout/robot/front/lines/walk");
        assert_eq!(t.set_result(), "lookout/robot/front/set/result");
    }

    #[test]
    fn device_topics_and_commands() {
        let d = DeviceTopics::new("a/b", "robot");
        assert_eq!(d.status(), "a/b/robot/status");
        assert_eq!(d.stats(), "a/b/robot/stats");
        assert_eq!(d.commands(), "a/b/robot/+/set");
        assert_eq!(d.camera_of_command("a/b/robot/front/set"), Some("front"));
        assert_eq!(d.camera_of_command(&d.camera("cam.1").set()), Some("cam.1"));
        for not_a_command in [
            "a/b/robot/front/set/result",
            "a/b/robot/x/y/set",
            "a/b/robotx/front/set",
            "a/b/robot/set",
        ] {
            assert_eq!(d.camera_of_command(not_a_command), None, "{not_a_command}");
        }
    }
}
