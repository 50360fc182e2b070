//! Talking to systemd under `Type=notify`: the state lines (READY, STATUS, RELOADING, STOPPING,
//! WATCHDOG) sent to $NOTIFY_SOCKET, and the watchdog, pinged only while every camera shows progress
//! so that a hung pipeline gets the service restarted. Without systemd all of this is a no-op.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::camera::Camera;

/// Sends a state line to systemd when run with `Type=notify` ($NOTIFY_SOCKET); a no-op otherwise.
pub fn sd_notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|a| sock.send_to_addr(state.as_bytes(), &a))
    } else {
        sock.send_to(state.as_bytes(), &path)
    };
    if let Err(e) = sent {
        tracing::debug!("sd_notify failed: {e}");
    }
}

/// The systemd watchdog interval ($WATCHDOG_USEC, for this process), if one is set.
fn watchdog_interval() -> Option<Duration> {
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok() != Some(std::process::id()) {
            return None;
        }
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// The systemd watchdog, when the unit sets `WatchdogSec=`.
pub(super) struct Watchdog {
    interval: Duration,
    last_ping: Instant,
    /// The silent cameras were logged once; quiet until the pings resume.
    silent_logged: bool,
}

impl Watchdog {
    /// The watchdog systemd asked for, if any. Warns when a camera's stall timeout is as long as
    /// the watchdog: such a stall would restart the whole service before the camera's own restart.
    pub(super) fn from_env(longest_stall_timeout_s: f64) -> Option<Watchdog> {
        let interval = watchdog_interval()?;
        if longest_stall_timeout_s >= interval.as_secs_f64() {
            tracing::warn!(
                "the systemd watchdog ({:.0} s) is shorter than a camera's stall_timeout_s \
                 ({longest_stall_timeout_s} s): a stalled camera restarts the whole service",
                interval.as_secs_f64()
            );
        }
        Some(Watchdog {
            interval,
            last_ping: Instant::now(),
            silent_logged: false,
        })
    }

    /// Pings at half the interval, but only while no camera is hung (see [`Camera::hung`]).
    pub(super) fn tick(&mut self, cameras: &BTreeMap<String, Camera>) {
        let half = self.interval / 2;
        if self.last_ping.elapsed() < half {
            return;
        }
        let hung: Vec<&str> = cameras
            .iter()
            .filter(|(_, c)| c.hung(half))
            .map(|(n, _)| n.as_str())
            .collect();
        if hung.is_empty() {
            sd_notify("WATCHDOG=1");
            self.last_ping = Instant::now();
            self.silent_logged = false;
        } else if !self.silent_logged {
            tracing::error!(
                "no progress from camera(s) {}: not pinging the systemd watchdog",
                hung.join(", ")
            );
            self.silent_logged = true;
        }
    }
}
