//! The admin endpoint's server: one thread, every connection non-blocking under one poll(2), so an
//! idle or slow client never holds up another (a liveness probe is answered while hundreds of
//! connections sit open). Resources are bounded: at most [`MAX_CONNECTIONS`] open (a new one
//! evicts the oldest, which is told 503), [`MAX_REQUEST_HEAD`] bytes of request head (431), and
//! [`REQUEST_TIMEOUT`] from accept to the last byte of the answer (408, or closed).

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use super::http::{self, Head};
use super::pages::{self, AdminState};
use crate::stop::StopToken;

/// Connections open at once; the next one evicts the oldest.
pub const MAX_CONNECTIONS: usize = 128;

/// The longest request head (request line and headers) read; a longer one is answered 431.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// From accept to the end of the answer; a client slower than this is answered 408 and closed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Listens on `[admin] listen`, non-blocking: [`serve`] waits with poll(2).
pub fn bind(listen: &str) -> crate::Result<TcpListener> {
    let l = TcpListener::bind(listen).map_err(|e| {
        crate::Error::Config(format!("[admin] listen = \"{listen}\": cannot listen there ({e}); pick a free address or \"\" to disable"))
    })?;
    l.set_nonblocking(true)?;
    Ok(l)
}

struct Conn {
    stream: TcpStream,
    accepted: Instant,
    /// The request head so far.
    input: Vec<u8>,
    /// The answer, once there is one, and how much of it is written.
    output: Option<(Vec<u8>, usize)>,
}

enum Next {
    Keep,
    Close,
}

impl Conn {
    fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            accepted: Instant::now(),
            input: Vec::new(),
            output: None,
        }
    }

    fn events(&self) -> libc::c_short {
        match self.output {
            Some(_) => libc::POLLOUT,
            None => libc::POLLIN,
        }
    }

    /// Reads what has arrived; answers once the head is whole.
    fn read(&mut self, state: &AdminState) -> Next {
        let mut chunk = [0u8; 2048];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Next::Close,
                Ok(n) => self.input.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Next::Close,
            }
            if self.input.len() > MAX_REQUEST_HEAD {
                break;
            }
        }
        let answer = match http::parse(&self.input) {
            Head::Incomplete if self.input.len() > MAX_REQUEST_HEAD => text(
                "431 Request Header Fields Too Large",
                "the request head is over 8 KiB\n",
            ),
            Head::Incomplete => return Next::Keep,
            Head::Bad => text("400 Bad Request", "not an HTTP/1 request\n"),
            Head::MethodNotAllowed => text(
                "405 Method Not Allowed",
                "the admin endpoint is read-only: GET or HEAD\n",
            ),
            Head::Request { head_only, path } => {
                let (status, ctype, body) = pages::page(path, state);
                http::response(status, ctype, &body, head_only)
            }
        };
        self.output = Some((answer, 0));
        self.write()
    }

    /// Writes what the socket takes of the answer.
    fn write(&mut self) -> Next {
        let Some((out, done)) = &mut self.output else {
            return Next::Keep;
        };
        while *done < out.len() {
            match self.stream.write(&out[*done..]) {
                Ok(0) => return Next::Close,
                Ok(n) => *done += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Next::Keep,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Next::Close,
            }
        }
        Next::Close
    }

    /// Says why the connection is closed, if the socket takes it at once; never waits.
    fn refuse(mut self, status: &str, why: &str) {
        let _ = self.stream.write(&text(status, why));
    }
}

fn text(status: &str, body: &str) -> Vec<u8> {
    http::response(status, "text/plain", body.as_bytes(), false)
}

/// Serves until `stop` is stopped, returning the moment it is.
pub fn serve(listener: TcpListener, state: &AdminState, stop: &StopToken) {
    let woken = match wake_on_stop(stop) {
        Ok(w) => w,
        Err(e) => {
            tracing::error!("admin endpoint off: cannot watch for the stop signal ({e})");
            return;
        }
    };
    // Oldest first.
    let mut conns: Vec<Conn> = Vec::new();
    let mut fds: Vec<libc::pollfd> = Vec::new();
    let mut pause_accept_until: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let accepting = pause_accept_until.is_none_or(|t| now >= t);
        fds.clear();
        fds.push(pollfd(woken.as_raw_fd(), libc::POLLIN));
        fds.push(pollfd(
            listener.as_raw_fd(),
            if accepting { libc::POLLIN } else { 0 },
        ));
        fds.extend(
            conns
                .iter()
                .map(|c| pollfd(c.stream.as_raw_fd(), c.events())),
        );
        let mut deadline = conns.first().map(|c| c.accepted + REQUEST_TIMEOUT);
        if let Some(t) = pause_accept_until.filter(|_| !accepting) {
            deadline = Some(deadline.map_or(t, |d| d.min(t)));
        }
        let timeout_ms = deadline.map_or(-1, |d| {
            d.saturating_duration_since(now).as_millis().min(60_000) as libc::c_int + 1
        });
        if let Err(e) = poll(&mut fds, timeout_ms) {
            tracing::error!("admin endpoint off: cannot wait for connections ({e})");
            return;
        }
        if fds[0].revents != 0 || stop.is_stopped() {
            return;
        }
        // Existing connections first (the fds after the first two are theirs, in order).
        let mut keep = Vec::with_capacity(conns.len());
        for (conn, fd) in conns.drain(..).zip(&fds[2..]) {
            let mut conn = conn;
            let next = if fd.revents == 0 {
                Next::Keep
            } else if conn.output.is_some() {
                conn.write()
            } else {
                conn.read(state)
            };
            if let Next::Keep = next {
                keep.push(conn);
            }
        }
        conns = keep;
        // Clients too slow to ask or to read the answer.
        let now = Instant::now();
        while conns
            .first()
            .is_some_and(|c| now >= c.accepted + REQUEST_TIMEOUT)
        {
            let c = conns.remove(0);
            if c.output.is_none() {
                c.refuse("408 Request Timeout", "no whole request within 5 s\n");
            }
        }
        if fds[1].revents != 0 {
            pause_accept_until = accept_all(&listener, &mut conns, state, stop);
        }
    }
}

/// Accepts every waiting connection, evicting the oldest beyond [`MAX_CONNECTIONS`]. A request
/// that is already whole is answered at once. Returns when to accept again after an error such as
/// running out of file descriptors (the listener would stay readable, and the loop would spin).
fn accept_all(
    listener: &TcpListener,
    conns: &mut Vec<Conn>,
    state: &AdminState,
    stop: &StopToken,
) -> Option<Instant> {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                if stream.set_nonblocking(true).is_err() {
                    continue;
                }
                if conns.len() >= MAX_CONNECTIONS {
                    conns.remove(0).refuse(
                        "503 Service Unavailable",
                        "too many connections to the admin endpoint\n",
                    );
                }
                let mut conn = Conn::new(stream);
                if let Next::Keep = conn.read(state) {
                    conns.push(conn);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                ) => {}
            Err(e) => {
                if !stop.is_stopped() {
                    tracing::warn!("admin endpoint: {e}");
                }
                return Some(Instant::now() + Duration::from_millis(200));
            }
        }
    }
}

fn pollfd(fd: std::os::fd::RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

fn poll(fds: &mut [libc::pollfd], timeout_ms: libc::c_int) -> std::io::Result<()> {
    loop {
        // SAFETY: `fds` is a valid, exclusively borrowed array of pollfd for the call's duration.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if rc >= 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != ErrorKind::Interrupted {
            return Err(e);
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

#[cfg(test)]
mod tests {
    use super::super::pages::CameraList;
    use super::*;

    fn idle_state() -> AdminState {
        AdminState {
            cameras: CameraList::default(),
            mqtt: None,
        }
    }

    fn get(addr: std::net::SocketAddr, request: &[u8]) -> String {
        let mut conn = TcpStream::connect(addr).expect("connects");
        conn.write_all(request).expect("sends");
        let mut reply = String::new();
        conn.read_to_string(&mut reply).expect("reads");
        reply
    }

    /// Starts a server on a free port; the returned token stops it.
    fn start() -> (std::net::SocketAddr, StopToken, std::thread::JoinHandle<()>) {
        let listener = bind("127.0.0.1:0").expect("binds");
        let addr = listener.local_addr().expect("an address");
        let stop = StopToken::new();
        let server = {
            let stop = stop.clone();
            std::thread::spawn(move || serve(listener, &idle_state(), &stop))
        };
        (addr, stop, server)
    }

    #[test]
    fn whole_requests_in_pieces_methods_and_query_strings() {
        let (addr, stop, server) = start();
        let reply = get(addr, b"GET /live HTTP/1.0\r\n\r\n");
        assert!(
            reply.starts_with("HTTP/1.0 200") && reply.ends_with("live\n"),
            "{reply}"
        );
        let reply = get(addr, b"GET /live?verbose=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(reply.starts_with("HTTP/1.0 200"), "{reply}");
        let reply = get(addr, b"HEAD /live HTTP/1.1\r\n\r\n");
        assert!(
            reply.starts_with("HTTP/1.0 200") && reply.ends_with("\r\n\r\n"),
            "{reply}"
        );
        let reply = get(addr, b"POST /live HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        assert!(
            reply.starts_with("HTTP/1.0 405") && reply.contains("Allow: GET, HEAD"),
            "{reply}"
        );
        let reply = get(addr, b"hello\r\n\r\n");
        assert!(reply.starts_with("HTTP/1.0 400"), "{reply}");
        let mut huge = b"GET /live HTTP/1.1\r\n".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_REQUEST_HEAD + 10));
        let mut conn = TcpStream::connect(addr).expect("connects");
        conn.write_all(&huge).expect("sends");
        let mut reply = String::new();
        let _ = conn.read_to_string(&mut reply);
        assert!(reply.starts_with("HTTP/1.0 431"), "{reply}");

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
        stop.stop();
        server.join().expect("serve returns");
    }

    /// #17 probe defect 3: idle connections (a slowloris, a stuck client) never keep a liveness
    /// probe waiting, even beyond the connection limit; they are answered 408 at the deadline.
    #[test]
    fn idle_connections_do_not_delay_other_clients() {
        let (addr, stop, server) = start();
        let idle: Vec<TcpStream> = (0..MAX_CONNECTIONS + 20)
            .map(|_| {
                let c = TcpStream::connect(addr).expect("connects");
                c.set_read_timeout(Some(REQUEST_TIMEOUT * 3))
                    .expect("timeout");
                c
            })
            .collect();
        // Each probe is answered at once: the read below would otherwise wait for the idle ones'
        // 5 s deadline. Its own read timeout is the bound, not a measurement.
        for _ in 0..5 {
            let mut conn = TcpStream::connect(addr).expect("connects");
            conn.set_read_timeout(Some(Duration::from_secs(2)))
                .expect("timeout");
            conn.write_all(b"GET /live HTTP/1.1\r\n\r\n")
                .expect("sends");
            let mut reply = String::new();
            conn.read_to_string(&mut reply)
                .expect("answered while the idle connections wait");
            assert!(reply.starts_with("HTTP/1.0 200"), "{reply}");
        }
        // The oldest idle ones were evicted with a 503; the newest are answered 408 at their deadline.
        let mut first = String::new();
        let _ = (&idle[0]).read_to_string(&mut first);
        assert!(first.starts_with("HTTP/1.0 503"), "{first}");
        let mut last = String::new();
        let _ = (&idle[idle.len() - 1]).read_to_string(&mut last);
        assert!(last.starts_with("HTTP/1.0 408"), "{last}");
        stop.stop();
        server.join().expect("serve returns");
    }

    #[test]
    fn serve_returns_when_its_token_stops() {
        let (_addr, stop, server) = start();
        stop.stop();
        let (done, finished) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let _ = done.send(server.join().is_ok());
        });
        let ok = finished
            .recv_timeout(Duration::from_secs(5))
            .expect("serve returned after its token stopped");
        assert!(ok, "serve panicked");
    }
}
