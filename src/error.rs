//! The crate's error type. Every message says what went wrong and what to do next; the CLI prints it
//! on one line and exits with [`Error::exit_code`].

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
    /// JSON that could not be written: lookout's fault, not the input's (exit code 1).
    #[error("internal error: cannot serialise {what}: {source}")]
    Serialise {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// Already formatted as `file:line:col: message` (exit code 2).
    #[error("{0}")]
    Config(String),
    /// The config file could not be read (exit code 2).
    #[error(
        "{}: cannot read the config file: {source}; pass --config with an existing file \
         (config/lookout.toml is the documented example)",
        path.display()
    )]
    ConfigRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The config file is not TOML or does not fit the schema; `at` is `file:line:col: message`
    /// (exit code 2).
    #[error("{at}")]
    ConfigSyntax {
        at: String,
        #[source]
        source: toml::de::Error,
    },
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

impl Error {
    /// The process exit code for this error: 2 when the user can fix the invocation or the
    /// config file, 1 for everything else (input, model, broker, or lookout itself).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_)
            | Error::Config(_)
            | Error::ConfigRead { .. }
            | Error::ConfigSyntax { .. } => 2,
            _ => 1,
        }
    }
}

/// A setting that fails validation: the key that holds the bad value, and why. The config file
/// turns `key` into `file:line:col`; the command line prints only the message.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The key within its table, e.g. `score_threshold`.
    pub key: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(key: &'static str, message: impl Into<String>) -> Invalid {
        Invalid {
            key,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Invalid {}

impl From<Invalid> for Error {
    /// Outside the config file (flags, runtime changes) a bad setting is a usage error.
    fn from(e: Invalid) -> Self {
        Error::Usage(e.message)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_and_config_exit_2_everything_else_1() {
        assert_eq!(Error::Usage("x".into()).exit_code(), 2);
        assert_eq!(Error::Config("x".into()).exit_code(), 2);
        assert_eq!(Error::Internal("x".into()).exit_code(), 1);
        assert_eq!(Error::Mqtt("x".into()).exit_code(), 1);
        let io = std::io::Error::other("disk");
        assert_eq!(Error::Io(io).exit_code(), 1);
    }

    #[test]
    fn wrapped_errors_keep_their_source() {
        let read = Error::ConfigRead {
            path: "x.toml".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(read.exit_code(), 2);
        assert!(std::error::Error::source(&read).is_some());
        assert!(read
            .to_string()
            .starts_with("x.toml: cannot read the config file: gone;"));
    }
}
