//! The admin HTTP endpoint of `lookout run` (127.0.0.1 by default): `/live`, `/ready` and
//! `/metrics` in Prometheus text format, and `/cameras/<name>/snapshot.jpg` (`snapshot.rs`). Plain
//! HTTP/1.0 on std sockets: read-only pages.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Deserialize;

use crate::metrics::prometheus::{Kind, PromText};
use crate::metrics::{CameraMetrics, DropReason, RestartReason};
use crate::publish::mqtt::MqttPublisher;
use crate::stop::StopToken;

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

/// The cameras the pages report on; the daemon replaces the list when a reload adds or removes one.
pub type CameraList = Arc<RwLock<Vec<(String, Arc<CameraMetrics>)>>>;

/// What the pages report.
pub struct AdminState {
    pub cameras: CameraList,
    pub mqtt: Option<Arc<MqttPublisher>>,
}

impl AdminState {
    /// Ready: every camera has produced a frame and, when MQTT is configured, the broker is connected.
    pub fn readiness(&self) -> (bool, String) {
        let cameras = self.cameras.read().unwrap_or_else(|p| p.into_inner());
        let mut missing: Vec<String> = cameras
            .iter()
            .filter(|(_, m)| !m.has_produced())
            .map(
                |(n, m)| match m.last_error.lock().ok().and_then(|e| e.clone()) {
                    Some(e) => format!("camera {n} ({e})"),
                    None => format!("camera {n}"),
                },
            )
            .collect();
        if let Some(m) = self.mqtt.as_ref().filter(|m| !m.is_connected()) {
            missing.push(match m.last_error() {
                Some(e) => format!("mqtt ({e})"),
                None => "mqtt".into(),
            });
        }
        if missing.is_empty() {
            (true, "ready\n".into())
        } else {
            (
                false,
                format!("not ready: waiting for {}\n", missing.join(", ")),
            )
        }
    }

    /// A camera's latest processed frame, for `/cameras/<name>/snapshot.jpg`.
    fn latest_frame(&self, name: &str) -> Option<Arc<crate::snapshot::LatestFrame>> {
        let cameras = self.cameras.read().unwrap_or_else(|p| p.into_inner());
        let (_, m) = cameras.iter().find(|(n, _)| n == name)?;
        Some(m.latest_frame.clone())
    }

    pub fn metrics(&self) -> String {
        let mut p = PromText::new();
        let cameras = self.cameras.read().unwrap_or_else(|p| p.into_inner());
        type Read = fn(&CameraMetrics) -> u64;
        let per_camera: [(&str, &str, Read); 2] = [
            (
                "lookout_frames_captured_total",
                "Frames received from the camera's source.",
                |m| m.frames_captured.load(Relaxed),
            ),
            (
                "lookout_frames_processed_total",
                "Frames detected and published.",
                |m| m.frames_processed.load(Relaxed),
            ),
        ];
        for (name, help, read) in per_camera {
            p.family(name, Kind::Counter, help);
            for (cam, m) in cameras.iter() {
                p.sample(name, &[("camera", cam)], read(m));
            }
        }
        let name = "lookout_frames_dropped_total";
        p.family(
            name,
            Kind::Counter,
            "Captured frames that never reached the detector, by reason.",
        );
        for (cam, m) in cameras.iter() {
            for reason in DropReason::ALL {
                let labels = [("camera", cam.as_str()), ("reason", reason.as_str())];
                p.sample(name, &labels, m.dropped(reason));
            }
        }
        let name = "lookout_source_restarts_total";
        p.family(
            name,
            Kind::Counter,
            "Times a camera's source was restarted, by reason (open_failed, stalled, failed, ended).",
        );
        for (cam, m) in cameras.iter() {
            let restarts = m
                .source_restarts
                .lock()
                .map(|r| r.clone())
                .unwrap_or_default();
            for reason in RestartReason::ALL {
                let n = restarts.get(&reason).copied().unwrap_or(0);
                p.sample(name, &[("camera", cam), ("reason", reason.as_str())], n);
            }
        }
        write_stage_latency(&mut p, &cameras);
        if let Some(m) = &self.mqtt {
            crate::publish::mqtt::write_metrics(m, &mut p);
        }
        p.finish()
    }
}

/// Per-camera, per-stage latency summaries.
fn write_stage_latency(p: &mut PromText, cameras: &[(String, Arc<CameraMetrics>)]) {
    let name = "lookout_stage_latency_ms";
    p.family(
        name,
        Kind::Summary,
        "Per-frame stage latency in ms; stage=\"total\" is end to end, capture to publish.",
    );
    for (cam, m) in cameras.iter() {
        let Ok(h) = m.stages.lock() else { continue };
        for (stage, hist) in h.iter() {
            let labels = [("camera", cam.as_str()), ("stage", stage.as_str())];
            for q in [0.5, 0.9, 0.99] {
                let q_text = q.to_string();
                let with_q = [labels[0], labels[1], ("quantile", q_text.as_str())];
                p.sample(name, &with_q, format!("{:.3}", hist.quantile_ms(q)));
            }
            p.sample(&format!("{name}_count"), &labels, hist.count());
            let sum = hist.mean_ms() * hist.count() as f64;
            p.sample(&format!("{name}_sum"), &labels, format!("{sum:.3}"));
        }
    }
}

/// Listens on `[admin] listen`. Non-blocking: [`serve`] waits for connections with poll(2), so it
/// can also wake when it is told to stop.
pub fn bind(listen: &str) -> crate::Result<TcpListener> {
    let l = TcpListener::bind(listen).map_err(|e| {
        crate::Error::Config(format!("[admin] listen = \"{listen}\": cannot listen there ({e}); pick a free address or \"\" to disable"))
    })?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Serves until `stop` is stopped, returning the moment it is (not at a polling interval). Each
/// request is answered on this thread: the pages are tiny.
pub fn serve(listener: TcpListener, state: &AdminState, stop: &StopToken) {
    let woken = match wake_on_stop(stop) {
        Ok(w) => w,
        Err(e) => {
            tracing::error!("admin endpoint off: cannot watch for the stop signal ({e})");
            return;
        }
    };
    loop {
        match wait_for_connection(&listener, &woken) {
            Ok(false) if !stop.is_stopped() => {}
            Ok(_) => return,
            Err(e) => {
                tracing::error!("admin endpoint off: cannot wait for connections ({e})");
                return;
            }
        }
        match listener.accept() {
            Ok((conn, _)) => {
                if let Err(e) = answer(conn, state) {
                    tracing::debug!("admin request failed: {e}");
                }
            }
            // Another waiter took it, or the client gave up: wait again.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => {
                // Out of file descriptors, say: the listener stays readable, so pause before
                // accepting again rather than spin.
                tracing::warn!("admin endpoint: {e}");
                if stop.wait_timeout(Duration::from_millis(200)) {
                    return;
                }
            }
        }
    }
}

/// A socket that becomes readable (end of file) when `stop` is stopped: a stop token has no file
/// descriptor of its own to poll, so a watcher thread closes the other end of a pair on its behalf.
fn wake_on_stop(stop: &StopToken) -> std::io::Result<UnixStream> {
    let (woken, closer) = UnixStream::pair()?;
    stop.on_stop("admin-stop", move || drop(closer))?;
    Ok(woken)
}

/// Blocks until a connection waits on `listener` (false) or `woken` is closed (true).
fn wait_for_connection(listener: &TcpListener, woken: &UnixStream) -> std::io::Result<bool> {
    let ready = libc::POLLIN | libc::POLLHUP | libc::POLLERR;
    let mut fds = [listener.as_raw_fd(), woken.as_raw_fd()].map(|fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    loop {
        // SAFETY: `fds` is a valid array of two pollfd for the duration of the call.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if rc >= 0 {
            return Ok(fds[1].revents & ready != 0);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Reads until the blank line that ends the request's head (or EOF, or a full buffer: only the
/// request line matters). A client may send the request in several segments, and answering after
/// the first would close the connection on unread data, which resets it before the client reads.
fn read_request_head(conn: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() && !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf[n..])? {
            0 => break,
            got => n += got,
        }
    }
    Ok(n)
}

fn answer(mut conn: TcpStream, state: &AdminState) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = [0u8; 2048];
    let n = read_request_head(&mut conn, &mut buf)?;
    let request = String::from_utf8_lossy(&buf[..n]);
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let (status, ctype, body) = match path {
        "/live" => ("200 OK", "text/plain", "live\n".to_string()),
        "/ready" => match state.readiness() {
            (true, body) => ("200 OK", "text/plain", body),
            (false, body) => ("503 Service Unavailable", "text/plain", body),
        },
        "/metrics" => ("200 OK", "text/plain; version=0.0.4", state.metrics()),
        _ => match crate::snapshot::http_answer(path, |name| state.latest_frame(name)) {
            Some((status, ctype, bytes)) => return reply(&mut conn, status, ctype, &bytes),
            None => (
                "404 Not Found",
                "text/plain",
                "try /live, /ready, /metrics or /cameras/<name>/snapshot.jpg\n".to_string(),
            ),
        },
    };
    reply(&mut conn, status, ctype, body.as_bytes())
}

fn reply(conn: &mut TcpStream, status: &str, ctype: &str, body: &[u8]) -> std::io::Result<()> {
    write!(conn, "HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
    conn.write_all(body)?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn idle_state() -> AdminState {
        AdminState {
            cameras: CameraList::default(),
            mqtt: None,
        }
    }

    #[test]
    fn serve_answers_whole_requests_and_returns_promptly_when_its_token_stops() {
        let listener = bind("127.0.0.1:0").expect("binds");
        let addr = listener.local_addr().expect("an address");
        let stop = StopToken::new();
        let server = {
            let stop = stop.clone();
            std::thread::spawn(move || serve(listener, &idle_state(), &stop))
        };
        let mut conn = TcpStream::connect(addr).expect("connects");
        conn.write_all(b"GET /live HTTP/1.0\r\n\r\n")
            .expect("sends");
        let mut reply = String::new();
        conn.read_to_string(&mut reply).expect("reads");
        assert!(
            reply.starts_with("HTTP/1.0 200") && reply.ends_with("live\n"),
            "{reply}"
        );

        // A request that arrives in pieces is answered once it is whole, not reset.
        let mut conn = TcpStream::connect(addr).expect("connects");
        conn.set_nodelay(true).expect("nodelay");
        for piece in ["GET ", "/nope", " HTTP/1.0\r\n", "\r\n"] {
            conn.write_all(piece.as_bytes()).expect("sends");
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut reply = String::new();
        conn.read_to_string(&mut reply).expect("reads");
        assert!(reply.starts_with("HTTP/1.0 404"), "{reply}");

        // Idle in poll(2) now; a stop must wake it at once, not at some polling interval.
        std::thread::sleep(Duration::from_millis(50));
        let stopped_at = Instant::now();
        stop.stop();
        let (done, finished) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let _ = done.send(server.join().is_ok());
        });
        let ok = finished
            .recv_timeout(Duration::from_secs(5))
            .expect("serve returned after its token stopped");
        assert!(ok, "serve panicked");
        let took = stopped_at.elapsed();
        assert!(
            took < Duration::from_millis(100),
            "serve took {took:?} to stop"
        );
    }
}
