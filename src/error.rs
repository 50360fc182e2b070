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
    #[error("mqtt: {0}")]
    Mqtt(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;
