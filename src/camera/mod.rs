//! One way to build a camera from the config, for `replay`, `bench` and `lookout run` alike:
//! [`CameraPlan::build`] turns a `[[cameras]]` entry (for `replay`, one made from its flags), the
//! camera's [`Kept`] state and how it is driven ([`Drive`]) into the source to open, how the
//! pipeline runs, and the camera's sinks.
//!
//! [`Kept`] is what a camera keeps across source restarts and reloads (counters, latest frame,
//! event numbering, tracks, zone and line totals); [`load_detector`] loads and checks a camera's
//! model.

mod kept;
mod plan;

pub use kept::{track_stage, Kept};
pub use plan::{Bus, CameraPlan, Drive};

use std::path::{Path, PathBuf};

use crate::detect::{Detector, DetectorConfig, ModelSpec};
use crate::error::Result;

/// Loads a camera's model; `resolve` finds a relative model path (beside the config file for
/// `lookout run`, from the working directory for the command line). Logs why the bundled model
/// was swapped (precision `auto`), if it was.
pub fn load_detector(
    camera: Option<&str>,
    cfg: DetectorConfig,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<Detector> {
    cfg.validate()?;
    let (model, why) = cfg.model_to_load();
    match (why, camera) {
        (Some(why), Some(camera)) => tracing::info!(camera, "{why}"),
        (Some(why), None) => tracing::info!("{why}"),
        (None, _) => {}
    }
    let spec = ModelSpec::load_as(&resolve(&model), cfg.family)?;
    Detector::new(spec, cfg)
}
