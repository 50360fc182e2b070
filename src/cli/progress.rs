//! `replay`'s progress bar: frames done of the file's total, the rate and the time left, on
//! stderr. Only when stderr is a terminal and the source is a file whose frame count ffprobe
//! knows; stdout's JSON lines and the summary are the same with or without it.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use lookout::metrics::{DropReason, FrameObserver, StageMs};
use lookout::source::{ffmpeg, is_device, is_image_path, is_stream};

/// Counts frames through the pipeline (published or dropped) on a bar.
pub struct Progress {
    bar: ProgressBar,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("position", &self.bar.position())
            .field("length", &self.bar.length())
            .finish()
    }
}

impl FrameObserver for Progress {
    fn frame_done(&self, _: &StageMs) {
        self.bar.inc(1);
    }

    fn frame_dropped(&self, _: DropReason) {
        self.bar.inc(1);
    }
}

impl Progress {
    /// A bar for replaying `uri`, or `None` when there is no terminal to draw on or no known end
    /// (a stream, a camera, images, `--loop`, or a file whose container does not say).
    pub fn for_replay(uri: &str, looping: bool, max_frames: Option<u64>) -> Option<Arc<Progress>> {
        if !std::io::stderr().is_terminal()
            || looping
            || is_stream(uri)
            || is_device(uri)
            || is_image_path(Path::new(uri))
            || Path::new(uri).is_dir()
        {
            return None;
        }
        let frames = ffmpeg::probe(uri, Some(Duration::from_secs(10)))
            .ok()?
            .frames?;
        let total = max_frames.map_or(frames, |m| m.min(frames));
        let style = ProgressStyle::with_template("{bar:30} {pos}/{len} frames, {fps}, ETA {eta} ")
            .ok()?
            .with_key("fps", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1} fps", s.per_sec());
            });
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(style);
        Some(Arc::new(Progress { bar }))
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
