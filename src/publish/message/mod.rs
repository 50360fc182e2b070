//! The messages lookout publishes, one file per JSON schema in `docs/schema/` (`docs/mqtt.md`
//! documents them; tests validate what is published against those schemas). Each file holds its
//! schema's identifier, carried in the message and as the MQTT 5 user property `schema`.

mod command_result;
mod counts;
mod detections;
mod event;
mod line;
mod object_event;
mod state;
mod stats;
mod zone;

pub use command_result::{CommandAck, CommandResult, COMMAND_RESULT_SCHEMA};
pub use counts::{CountsMessage, COUNTS_SCHEMA};
pub use detections::{
    object, DetectionsMessage, ImageResult, Latency, ModelInfo, Object, Size, DETECTIONS_SCHEMA,
};
pub use event::{Event, Kind as EventKind, EVENT_SCHEMA};
pub use line::{LinePayload, LINE_SCHEMA};
pub use object_event::{ObjectEventMessage, OBJECT_EVENT_SCHEMA};
pub use state::{CameraStatus, State, STATE_SCHEMA};
pub use stats::{CameraStats, Stats, STATS_SCHEMA};
pub use zone::{ZonePayload, ZONE_SCHEMA};

pub use crate::wire::{rfc3339_ms, round_to};
