//! `<root>/<camera>/events` of a class (docs/schema/event.schema.json): a class of object
//! appeared in the camera's view, or left it.

use serde::Serialize;

/// `<root>/<camera>/events`: a class appeared or left.
pub const EVENT_SCHEMA: &str = "lookout.event.v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    ObjectAppeared,
    ObjectLeft,
}

/// `<root>/<camera>/events` payload.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub schema: &'static str,
    pub device: String,
    pub camera: String,
    /// When this lookout process started (RFC 3339): `(run, camera, seq)` identifies an event.
    pub run: String,
    pub seq: u64,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub class: String,
    /// Objects of the class in the frame that caused the event (0 when it left).
    pub count: usize,
    /// The frame: its `seq` on the detections topic and its capture time.
    pub frame_seq: u64,
    pub captured_at: String,
}
