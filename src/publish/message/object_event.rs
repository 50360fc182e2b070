//! `<root>/<camera>/events` of a tracked object (docs/schema/object_event.schema.json): its
//! life (new, update, end), numbered in the camera's event sequence.

use serde::Serialize;

use crate::track::ObjectEvent;

/// `<root>/<camera>/events`: a tracked object's life (new, update, end).
pub const OBJECT_EVENT_SCHEMA: &str = "lookout.object.v1";

/// `<root>/<camera>/events` payload of a tracked object's event: the same numbering as the
/// class events, so `seq` stays contiguous per camera.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectEventMessage<'a> {
    pub schema: &'static str,
    pub device: &'a str,
    pub camera: &'a str,
    pub run: &'a str,
    pub seq: u64,
    #[serde(flatten)]
    pub body: &'a ObjectEvent,
}
