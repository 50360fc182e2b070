//! Checks and messages shared by everything that opens a model file (the `.onnx` reader and both
//! engines). A leaf: it imports nothing of the detector.

use std::path::Path;

/// The largest model file lookout loads: detectors for the edge are a few to a few hundred MB
/// (YOLOv8x is 260 MB in FP32); a bigger file is a mistake, and would be read whole into memory.
pub const MAX_MODEL_BYTES: u64 = 1 << 30;

/// Whether `path` is a plausible model file (present, a file, not truncated, not huge), as a message
/// for the caller to attach the path to; checked before a parser reads it whole.
pub(crate) fn check_file(path: &Path) -> std::result::Result<(), String> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(
            "model file not found; pass --model with a manifest such as models/nanodet-m-fp32.toml \
             (run from the repository root) or an absolute path"
                .into(),
        ),
        Err(e) => Err(format!("cannot read the model file: {e}")),
        Ok(m) if !m.is_file() => Err("not a file; pass --model with a manifest or .onnx file".into()),
        Ok(m) if m.len() < 64 => Err(format!("the model file has only {} bytes: truncated or empty", m.len())),
        Ok(m) if m.len() > MAX_MODEL_BYTES => Err(format!(
            "the model file is {} MiB, over lookout's limit of {} MiB: is it the right file?",
            m.len() >> 20,
            MAX_MODEL_BYTES >> 20
        )),
        Ok(_) => Ok(()),
    }
}

/// The first line of an error: tract's and onnxruntime's chains run to many lines, a user needs the
/// first.
pub(crate) fn first_line(e: &impl std::fmt::Display) -> String {
    let s = format!("{e:#}");
    s.lines().next().unwrap_or("").to_string()
}
