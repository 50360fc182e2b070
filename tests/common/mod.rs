//! Shared helpers for the integration tests: paths, the golden reference, a JSON Schema validator,
//! MQTT subscribers and private Mosquitto brokers.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn data(name: &str) -> PathBuf {
    root().join("tests/data").join(name)
}

pub fn model(precision: &str) -> PathBuf {
    root().join(format!("models/nanodet-m-{precision}.toml"))
}

/// The `lookout` binary under test, run from the repository root with no stdin.
pub fn lookout() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lookout"));
    c.current_dir(root()).stdin(Stdio::null());
    c
}

/// What a finished `lookout` run printed, and how it exited.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// Asserts the run succeeded, showing its stderr otherwise.
    #[track_caller]
    pub fn success(self) -> Finished {
        assert!(
            self.status.success(),
            "lookout failed ({}):\n{}",
            self.status,
            self.stderr
        );
        self
    }

    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// stdout as one JSON document.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// stdout as one JSON value per line.
    #[track_caller]
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
}

/// Ways to run a command made with [`lookout`].
pub trait Run {
    /// Runs it to the end.
    fn finish(&mut self) -> Finished;
    /// Starts it in the background: stdout discarded, stderr kept for [`wait_success`].
    fn start(&mut self) -> Child;
    /// Starts it in the background with its stdout's JSON lines delivered on a channel.
    fn start_lines(&mut self) -> (Child, std::sync::mpsc::Receiver<Value>);
}

impl Run for Command {
    #[track_caller]
    fn finish(&mut self) -> Finished {
        let out = self.output().expect("lookout runs");
        Finished {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn start(&mut self) -> Child {
        self.stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lookout starts")
    }

    fn start_lines(&mut self) -> (Child, std::sync::mpsc::Receiver<Value>) {
        let mut child = self
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lookout starts");
        let lines = json_lines(&mut child);
        (child, lines)
    }
}

/// `lookout ARGS`, run to the end.
#[track_caller]
pub fn run_lookout<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Finished {
    lookout().args(args).finish()
}

/// Waits for a background lookout to exit and asserts it succeeded; returns its stderr.
#[track_caller]
pub fn wait_success(child: Child) -> String {
    let out = child.wait_with_output().expect("lookout exits");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "lookout failed ({}):\n{stderr}",
        out.status
    );
    stderr
}

/// A name no other test (or test run) uses, for devices and topics.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn reference() -> Value {
    let text = std::fs::read_to_string(data("reference_detections.json")).expect("reference file");
    serde_json::from_str(&text).expect("reference json")
}

pub fn schema_validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("docs/schema").join(name)).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema json");
    jsonschema::validator_for(&schema).expect("valid schema")
}

pub fn assert_valid(v: &jsonschema::Validator, msg: &Value) {
    let errors: Vec<String> = v
        .iter_errors(msg)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "message does not match the schema: {errors:?}\n{msg}"
    );
}

pub fn iou(a: &[f64], b: &[f64]) -> f64 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until something accepts TCP connections on `port`.
pub fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A private Mosquitto on a free port, killed on drop.
pub struct Broker {
    pub port: u16,
    child: Option<Child>,
    conf: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Broker {
    pub fn start() -> Broker {
        Broker::start_with(|_| "allow_anonymous true\n".into())
    }

    /// `extra(dir)`: listener options and settings after `listener <port> 127.0.0.1`; `dir` is the
    /// broker's own folder (for password files, certificates, persistence).
    pub fn start_with(extra: impl FnOnce(&Path) -> String) -> Broker {
        Broker::start_conf(|port, dir| format!("listener {port} 127.0.0.1\n{}", extra(dir)))
    }

    /// `conf(port, dir)`: the whole configuration, whose first listener must be on `port` (free,
    /// chosen here) on 127.0.0.1; `dir` is the broker's own folder.
    pub fn start_conf(conf: impl FnOnce(u16, &Path) -> String) -> Broker {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let text = conf(port, dir.path());
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            // `user root`: when the tests run as root, mosquitto keeps root instead of switching
            // to the mosquitto user, which could not read this private folder (certificates,
            // password file, persistence). Ignored when not root.
            format!("user root\n{text}"),
        )
        .expect("write conf");
        let mut b = Broker {
            port,
            child: None,
            conf,
            dir,
        };
        b.run();
        b
    }

    fn run(&mut self) {
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto is installed (.ci/run installs it)");
        self.child = Some(child);
        assert!(
            wait_for_port(self.port, Duration::from_secs(10)),
            "mosquitto did not start on {}",
            self.port
        );
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: the broker dies without saving anything.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM: the broker saves its persistent sessions (with `persistence true`) and exits.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let _ = c.wait();
        }
    }

    /// Starts the broker again on the same port with the same configuration.
    pub fn restart(&mut self) {
        self.run();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `mosquitto_sub` (a different MQTT client from lookout's) printing `topic payload` lines.
pub struct MosquittoSub {
    child: Child,
    pub rx: std::sync::mpsc::Receiver<(String, String)>,
}

impl MosquittoSub {
    /// Subscribes to `filter` with `args` (e.g. `-c -i ID` for a persistent session, `-V 5`).
    pub fn start(port: u16, filter: &str, args: &[&str]) -> MosquittoSub {
        let mut child = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1", "-v"])
            .args(["-t", filter])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto_sub is installed (mosquitto-clients)");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                let (t, p) = line.split_once(' ').unwrap_or((line.as_str(), ""));
                if tx.send((t.to_string(), p.to_string())).is_err() {
                    break;
                }
            }
        });
        MosquittoSub { child, rx }
    }

    /// Waits until the subscription is live: publishes probes on `probe_topic` (which the filter
    /// must match) until one comes back.
    pub fn wait_ready(&self, port: u16, probe_topic: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let _ = Command::new("mosquitto_pub")
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
                .args(["-t", probe_topic, "-m", "probe"])
                .status();
            if let Ok((t, _)) = self.rx.recv_timeout(Duration::from_millis(500)) {
                if t == probe_topic {
                    return;
                }
            }
        }
        panic!("mosquitto_sub did not subscribe within 10 s");
    }
}

impl Drop for MosquittoSub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A subscriber that collects (topic, payload, retained) into a channel; ready once subscribed.
pub struct Subscriber {
    pub rx: std::sync::mpsc::Receiver<(String, Vec<u8>, bool)>,
    client: Client,
}

impl Subscriber {
    pub fn new(port: u16, filter: &str) -> Subscriber {
        let mut opts = MqttOptions::new(unique("test-sub"), "127.0.0.1", port);
        opts.set_keep_alive(Duration::from_secs(30))
            .set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut conn) = Client::new(opts, 100);
        client
            .subscribe(filter, QoS::AtLeastOnce)
            .expect("subscribe request");
        let (tx, rx) = std::sync::mpsc::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for ev in conn.iter() {
                match ev {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if tx
                            .send((p.topic.clone(), p.payload.to_vec(), p.retain))
                            .is_err()
                        {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("subscribed within 10 s");
        Subscriber { rx, client }
    }

    /// The next message on `topic` within `within`.
    pub fn next_on(&self, topic: &str, within: Duration) -> Option<(Vec<u8>, bool)> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.rx.recv_timeout(left) {
                Ok((t, p, r)) if t == topic => return Some((p, r)),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.client.disconnect();
    }
}

/// Reads JSON lines from a child's stdout on a thread.
pub fn json_lines(child: &mut Child) -> std::sync::mpsc::Receiver<Value> {
    let out = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
            let v: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    rx
}

/// GET `path` from the admin endpoint: (status code, body).
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(conn, "GET {path} HTTP/1.0\r\n\r\n").ok()?;
    let mut text = String::new();
    conn.read_to_string(&mut text).ok()?;
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((
        code,
        text.split("\r\n\r\n").nth(1).unwrap_or("").to_string(),
    ))
}

/// The value of the metric line starting with `series` (name and labels), if present.
pub fn metric(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Polls `/metrics` until `ok` holds for it (up to `within`); returns the last body.
pub fn metrics_until(port: u16, within: Duration, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + within;
    loop {
        let body = http_get(port, "/metrics").map(|r| r.1).unwrap_or_default();
        if ok(&body) || Instant::now() > deadline {
            return body;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A folder of frames that alternate between classes, so nearly every frame makes events.
pub fn alternating_frames(dir: &Path) -> PathBuf {
    let frames = dir.join("frames");
    std::fs::create_dir(&frames).expect("mkdir");
    std::fs::copy(data("bus.jpg"), frames.join("a.jpg")).expect("copy");
    std::fs::copy(data("dog.jpg"), frames.join("b.jpg")).expect("copy");
    frames
}

/// `N <what>` in the `mqtt:` line of replay's summary.
#[track_caller]
pub fn summary_count(stderr: &str, what: &str) -> u64 {
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("mqtt: "))
        .unwrap_or_else(|| panic!("no mqtt summary: {stderr}"));
    summary
        .split(what)
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no '{what}' in the summary: {summary}"))
}

/// A CA, a broker certificate for `broker.test` and `localhost` (not for an IP address) signed by
/// it, a client certificate, and a second CA that signed nothing of ours; made with the openssl
/// tool.
pub struct Pki {
    dir: PathBuf,
}

impl Pki {
    pub fn new(dir: &Path) -> Pki {
        let run = |args: &[&str]| {
            let ok = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("openssl is installed");
            assert!(ok.success(), "openssl {args:?}");
        };
        for ca in ["ca", "other-ca"] {
            run(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=lookout test {ca}"),
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.crt"),
            ]);
        }
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=DNS:broker.test,DNS:localhost\n",
        )
        .expect("ext");
        // Extensions make version 3 certificates, which webpki requires.
        std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").expect("ext");
        for (name, ext) in [("server", "server.ext"), ("client", "client.ext")] {
            run(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                &format!("/CN={name}.test"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ]);
            let mut args = vec![
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
            ]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
            args.push(format!("{name}.crt"));
            args.extend(["-extfile".into(), ext.into()]);
            run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        }
        Pki {
            dir: dir.to_path_buf(),
        }
    }

    pub fn path(&self, f: &str) -> String {
        path_str(&self.dir.join(f))
    }
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}
