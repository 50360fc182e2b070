//! The admin HTTP endpoint of `lookout run` (127.0.0.1 by default): `/live`, `/ready` and
//! `/metrics` in Prometheus text format, and `/cameras/<name>/snapshot.jpg` (`snapshot.rs`).
//! Read-only pages over HTTP/1.0: `pages.rs` writes them, `server.rs` serves them, `http.rs` reads
//! requests.

pub mod http;
mod pages;
mod server;

pub use pages::{AdminCamera, AdminState, CameraList};
pub use server::{bind, serve, MAX_CONNECTIONS, MAX_REQUEST_HEAD, REQUEST_TIMEOUT};

use serde::Deserialize;

/// `[admin]` in the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Address of the admin endpoint; keep it on loopback unless a firewall guards it. "" disables it.
    pub listen: String,
}

impl AdminConfig {
    /// `listen` is empty or an address to listen on (`host:port`; the name is resolved, nothing is
    /// bound), so `check-config` rejects what `run` would.
    pub fn validate(&self) -> Result<(), String> {
        use std::net::ToSocketAddrs;
        if self.listen.is_empty() {
            return Ok(());
        }
        match self.listen.to_socket_addrs().map(|mut a| a.next()) {
            Ok(Some(_)) => Ok(()),
            _ => Err(format!(
                "listen '{}' is not an address to listen on: write host:port, e.g. \"127.0.0.1:9464\", \
                 or \"\" to turn the endpoint off",
                self.listen
            )),
        }
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: "127.0.0.1:9464".into(),
        }
    }
}
