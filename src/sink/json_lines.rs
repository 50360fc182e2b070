//! The JSON lines sink of `replay`: each frame's detections message as one line on stdout
//! (`--quiet` turns it off). A closed pipe (`| head`) ends the run instead of failing it.

use std::io::Write;

use super::api::{FrameRecord, Sink, SinkContext, Written};
use crate::error::{Error, Result};

pub struct JsonLines<W> {
    out: W,
}

impl<W: Write + Send> JsonLines<W> {
    pub fn new(out: W) -> JsonLines<W> {
        JsonLines { out }
    }
}

/// On for `replay` unless `--quiet`.
pub fn build(ctx: &SinkContext<'_>) -> Option<Box<dyn Sink>> {
    ctx.stdout
        .then(|| Box::new(JsonLines::new(std::io::stdout())) as Box<dyn Sink>)
}

impl<W: Write + Send> Sink for JsonLines<W> {
    fn frame(&mut self, r: &mut FrameRecord<'_>) -> Result<Written> {
        let written = self
            .out
            .write_all(r.json)
            .and_then(|()| self.out.write_all(b"\n"))
            .and_then(|()| self.out.flush());
        match written {
            Ok(()) => Ok(Written::Ok),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Written::Closed),
            Err(e) => Err(Error::Io(e)),
        }
    }
}
