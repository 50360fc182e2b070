//! Logs go to stderr (stdout carries the JSON lines): human-readable, or one JSON object per line
//! for log shippers.

use clap::Args;

#[derive(Args)]
pub struct LogArgs {
    /// Log filter (error, warn, info, debug, or a tracing filter); RUST_LOG also works.
    #[arg(long, global = true, default_value = "warn")]
    log_level: String,
    /// Log format: human (default; journald adds timestamps) or json (one object per line).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

impl LogArgs {
    /// Installs the global subscriber; RUST_LOG wins over --log-level.
    pub fn init(&self) {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .or_else(|_| tracing_subscriber::EnvFilter::try_new(&self.log_level))
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        // Colours only on a terminal (journald and files get plain text); every line goes through
        // lookout::redact, so no URL's password reaches the logs at any level.
        let logs = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(lookout::redact::Stderr);
        match self.log_format {
            LogFormat::Human => logs.init(),
            // One JSON object per line, for log shippers (Loki, Elasticsearch, journald's JSON export).
            LogFormat::Json => logs
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .init(),
        }
    }
}
