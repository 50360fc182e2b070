//! The crate's error type. Every message says what went wrong and what to do next; the CLI prints it
//! on one line.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("model {}: {msg}", path.display())]
    Model { path: PathBuf, msg: String },
    #[error("inference failed: {0}")]
    Inference(String),
    /// Bad flags or arguments (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// A failure inside lookout, not the user's doing: a thread that could not start or panicked,
    /// a message that could not be serialised (exit code 1).
    #[error("internal error: {0}")]
    Internal(String),
    /// Already formatted as `file:line:col: message`.
    #[error("{0}")]
    Config(String),
    #[error("source {uri}: {msg}")]
    Source { uri: String, msg: String },
    /// A source that delivered no frame for `secs` seconds (a hung stream or camera).
    #[error("source {uri}: no frame for {secs} s; the stream stalled")]
    Stalled { uri: String, secs: f64 },
    #[error("mqtt: {0}")]
    Mqtt(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;
