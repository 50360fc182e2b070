//! The crate's error type. Every message says what went wrong and what to do next; the CLI prints it
//! on one line.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("model {}: {msg}", path.display())]
    Model { path: PathBuf, msg: String },
    #[error("inference failed: {0}")]
    Inference(String),
    #[error("{0}")]
    Usage(String),
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
