//! Where a processed frame goes. The pipeline's last step (`pipeline/emit.rs`) builds one
//! [`FrameRecord`] per frame — its metadata, the objects published for it, what the tracker made
//! of it (object events, zone and line counts), every stage's latency, the detections message as
//! JSON, and the frame's pixels when a sink asked for them — and hands it to each [`Sink`] of the
//! camera in turn.
//!
//! `api.rs` holds what a sink implements and is given. One file per sink: `mqtt.rs` (detections, events, counts, zones and lines on the broker),
//! `json_lines.rs` (the detections message as a line on stdout), `snapshot.rs` (the camera's
//! latest frame for `/cameras/<name>/snapshot.jpg` and `<camera>/snapshot`). [`build`] is the
//! registry: a new sink is one file, one config section (its own struct, gathered in
//! `config/mod.rs`) and one line in [`REGISTRY`].

pub mod json_lines;
pub mod mqtt;
pub mod snapshot;

mod api;

pub use api::{FrameRecord, Pixels, Sink, SinkContext, Written};

/// Builds a sink from the context, or `None` when it is off for this camera.
pub type Builder = fn(&SinkContext<'_>) -> Option<Box<dyn Sink>>;

/// Every kind of sink, in the order each frame visits them.
pub const REGISTRY: &[Builder] = &[mqtt::build, json_lines::build, snapshot::build];

/// The camera's sinks: every registered sink that is on for it.
pub fn build(ctx: &SinkContext<'_>) -> Vec<Box<dyn Sink>> {
    REGISTRY.iter().filter_map(|build| build(ctx)).collect()
}
