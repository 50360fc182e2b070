//! `bench --profile RUNS`: where inference time goes, operation by operation, on the input's
//! first frame.

use lookout::detect::engine::OpTime;
use lookout::detect::{Detector, Prepared};
use lookout::source::{self, SourceOptions};
use lookout::Error;

/// Per-operation profile of the network on the first frame of `input`.
pub fn profile_first_frame(
    detector: &mut Detector,
    input: &str,
    runs: usize,
) -> Result<Option<Vec<OpTime>>, Error> {
    let mut src = source::open(input, SourceOptions::default())?;
    let Some(frame) = src.next_frame(Vec::new())? else {
        return Ok(None);
    };
    let mut prepared = Prepared::default();
    detector
        .preparer()
        .prepare(&frame.pixels, frame.width, frame.height, &mut prepared);
    let profile = detector.profile(&prepared, runs)?;
    if profile.is_none() {
        eprintln!(
            "--profile: the {} engine has no per-operation profile",
            detector.engine_name()
        );
    }
    Ok(profile)
}
