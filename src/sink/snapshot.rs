//! The snapshot sink of `lookout run`: each processed frame, with the objects published for it,
//! becomes the camera's latest frame (`snapshot.rs`), drawn on and encoded only when
//! `/cameras/<name>/snapshot.jpg` is asked for or the camera's snapshot thread publishes it. The
//! frame's buffer is taken, not copied; the one it replaces goes back to capture.

use std::sync::Arc;

use super::api::{FrameRecord, Pixels, Sink, SinkContext, Written};
use crate::annotate::Annotation;
use crate::error::Result;
use crate::publish::message::Object;
use crate::snapshot::{LatestFrame, Snapshot};

pub struct SnapshotSink {
    latest: Arc<LatestFrame>,
}

/// On for the cameras of `lookout run` (they have a latest frame to fill).
pub fn build(ctx: &SinkContext<'_>) -> Option<Box<dyn Sink>> {
    Some(Box::new(SnapshotSink {
        latest: ctx.latest_frame?.clone(),
    }))
}

/// A published object, as the snapshot draws it.
fn annotation(o: &Object<'_>) -> Annotation {
    Annotation {
        bbox: o.bbox.map(|v| v as f32),
        class_id: o.class_id,
        class: o.class.to_string(),
        score: o.score as f32,
        track_id: o.track_id,
    }
}

impl Sink for SnapshotSink {
    fn wants_pixels(&self) -> bool {
        true
    }

    fn frame(&mut self, r: &mut FrameRecord<'_>) -> Result<Written> {
        let Some(Pixels { width, height, rgb }) = r.pixels.take() else {
            return Ok(Written::Ok);
        };
        r.spare = self.latest.put(Snapshot {
            seq: r.seq,
            width,
            height,
            pixels: rgb,
            annotations: r.objects.iter().map(annotation).collect(),
        });
        Ok(Written::Ok)
    }
}
