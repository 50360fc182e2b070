//! Video files and network streams through the `ffmpeg` command-line tool: it decodes any codec it
//! knows and writes raw RGB24 frames to a pipe that we read.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use super::frame::{Frame, Source};
use super::kind::is_stream;
use super::options::SourceOptions;
use crate::error::{Error, Result};

/// What ffprobe says about the first video stream.
#[derive(Debug, Clone, Copy)]
pub struct VideoInfo {
    pub width: u32,
    pub height: u32,
    pub fps: Option<f64>,
    pub frames: Option<u64>,
}

pub struct FfmpegSource {
    uri: String,
    info: VideoInfo,
    child: Child,
    stdout: ChildStdout,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    seq: u64,
    opts: SourceOptions,
    finished: bool,
}

fn err(uri: &str, msg: impl Into<String>) -> Error {
    Error::Source {
        uri: uri.to_string(),
        msg: msg.into(),
    }
}

fn spawn_error(uri: &str, tool: &str, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        err(
            uri,
            format!(
                "`{tool}` is not installed; install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg)"
            ),
        )
    } else {
        err(uri, format!("cannot run `{tool}`: {e}"))
    }
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<ProbeStream>,
}

#[derive(Deserialize)]
struct ProbeStream {
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    nb_frames: Option<String>,
    /// The display matrix's rotation (phone recordings), in degrees.
    #[serde(default)]
    side_data_list: Vec<ProbeSideData>,
    /// The older `rotate` tag, which some muxers still write.
    #[serde(default)]
    tags: ProbeTags,
}

#[derive(Deserialize)]
struct ProbeSideData {
    rotation: Option<f64>,
}

#[derive(Deserialize, Default)]
struct ProbeTags {
    rotate: Option<String>,
}

impl ProbeStream {
    /// How far the player turns the picture, in degrees (0 when nothing says so).
    fn rotation(&self) -> f64 {
        let matrix = self.side_data_list.iter().find_map(|d| d.rotation);
        let tag = self
            .tags
            .rotate
            .as_deref()
            .and_then(|r| r.trim().parse().ok());
        matrix
            .or(tag)
            .filter(|r: &f64| r.is_finite())
            .unwrap_or(0.0)
    }
}

/// The size of the frames ffmpeg writes for a stream coded at `width × height` and shown turned by
/// `rotation` degrees: ffmpeg turns frames upright as players do (autorotate), so a quarter turn
/// swaps the sides.
fn displayed_size(width: u32, height: u32, rotation: f64) -> (u32, u32) {
    let quarter_turns = (rotation / 90.0).round() as i64;
    match quarter_turns.rem_euclid(2) {
        1 => (height, width),
        _ => (width, height),
    }
}

fn parse_rate(r: &str) -> Option<f64> {
    let (n, d) = r.split_once('/').unwrap_or((r, "1"));
    let (n, d) = (n.parse::<f64>().ok()?, d.parse::<f64>().ok()?);
    (n > 0.0 && d > 0.0)
        .then(|| n / d)
        .filter(|f| f.is_finite() && *f < 1000.0)
}

/// ffprobe's JSON about the first video stream; its last words when it cannot read the input.
fn run_ffprobe(uri: &str, timeout: Option<Duration>) -> Result<Vec<u8>> {
    let child = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .arg(
            "stream=codec_name,width,height,avg_frame_rate,r_frame_rate,nb_frames\
             :stream_tags=rotate:stream_side_data=rotation",
        )
        .args(["-of", "json", "--", uri])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_error(uri, "ffprobe", e))?;
    let out = wait_output(child, timeout).map_err(|e| match e {
        Some(e) => err(uri, format!("running ffprobe: {e}")),
        None => Error::Stalled {
            uri: uri.to_string(),
            secs: timeout.map(|t| t.as_secs_f64()).unwrap_or_default(),
        },
    })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reason = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string();
    if !out.status.success() {
        return Err(err(
            uri,
            format!(
                "ffmpeg cannot read it as a video ({reason}); is it a video file or stream URL?"
            ),
        ));
    }
    Ok(out.stdout)
}

/// Asks ffprobe for the first video stream's size and rate; a stream that does not answer within
/// `timeout` is an error (ffprobe alone waits forever on a hung server).
pub fn probe(uri: &str, timeout: Option<Duration>) -> Result<VideoInfo> {
    if !is_stream(uri) && !Path::new(uri.trim_start_matches("file://")).exists() {
        return Err(err(
            uri,
            "no such file; check the path (or give a stream URL such as rtsp://...)",
        ));
    }
    let stdout = run_ffprobe(uri, timeout)?;
    let probe: Probe = serde_json::from_slice(&stdout)
        .map_err(|e| err(uri, format!("unexpected ffprobe output: {e}")))?;
    let s = probe.streams.into_iter().next().ok_or_else(|| {
        err(
            uri,
            "it has no video stream; give a video file or stream URL",
        )
    })?;
    // ffmpeg renders any text file as "video" through its tty demuxer; that is not a camera.
    if s.codec_name.as_deref() == Some("ansi") {
        return Err(err(
            uri,
            "this is a text file, not a video; give a video file or stream URL",
        ));
    }
    let (Some(coded_w), Some(coded_h)) = (s.width, s.height) else {
        return Err(err(uri, "its video stream has no frame size"));
    };
    let rotation = s.rotation();
    let (width, height) = displayed_size(coded_w, coded_h, rotation);
    if rotation != 0.0 {
        tracing::info!(
            source = uri,
            rotation,
            width,
            height,
            "the video is shown rotated: frames are turned upright"
        );
    }
    if let Some(why) = super::frame::frame_size_error(width, height) {
        return Err(err(uri, why));
    }
    let fps = s
        .avg_frame_rate
        .as_deref()
        .and_then(parse_rate)
        .or_else(|| s.r_frame_rate.as_deref().and_then(parse_rate));
    let frames = s.nb_frames.and_then(|n| n.parse().ok());
    Ok(VideoInfo {
        width,
        height,
        fps,
        frames,
    })
}

/// Like `Child::wait_with_output`, but kills the child after `timeout`: `Err(None)` then.
fn wait_output(
    mut child: Child,
    timeout: Option<Duration>,
) -> std::result::Result<std::process::Output, Option<std::io::Error>> {
    // Drain both pipes on threads so a chatty child cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let errs = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = timeout.map(|t| Instant::now() + t);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(Some)? {
            break status;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ok(std::process::Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: errs.join().unwrap_or_default(),
    })
}

impl FfmpegSource {
    pub fn open(uri: &str, opts: SourceOptions) -> Result<FfmpegSource> {
        let info = probe(uri, opts.stall_timeout)?;
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error"]);
        if opts.realtime && !is_stream(uri) {
            match opts.speed {
                s if s > 0.0 && s != 1.0 => cmd.args(["-readrate", &format!("{s}")]),
                _ => cmd.arg("-re"),
            };
        }
        if opts.looping && !is_stream(uri) {
            cmd.args(["-stream_loop", "-1"]);
        }
        cmd.args(["-i", uri, "-map", "0:v:0", "-fps_mode", "passthrough"])
            .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // ffmpeg dies with us, even if we are killed with SIGKILL.
        // SAFETY: prctl is async-signal-safe; the closure touches nothing else.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|e| spawn_error(uri, "ffmpeg", e))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| err(uri, "ffmpeg has no stdout"))?;
        grow_pipe(&stdout, info.width as usize * info.height as usize * 3);
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(stderr) = child.stderr.take() {
            let tail = stderr_tail.clone();
            let faults = opts.faults.clone();
            let label = uri.to_string();
            std::thread::Builder::new()
                .name("ffmpeg-stderr".into())
                .spawn(move || {
                    // At `-loglevel error` every line is an error: on a file that ffmpeg reads
                    // to its end, damaged or truncated data (the frames it could decode went on).
                    for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                        if faults.damaged.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0 {
                            tracing::warn!(source = %label, "ffmpeg reports damaged data (more at debug level): {line}");
                        }
                        tracing::debug!(source = %label, "ffmpeg: {line}");
                        if let Ok(mut t) = tail.lock() {
                            if t.len() == 8 {
                                t.pop_front();
                            }
                            t.push_back(line);
                        }
                    }
                })
                .map_err(|e| err(uri, format!("cannot start a thread: {e}")))?;
        }
        tracing::info!(source = uri, width = info.width, height = info.height, fps = ?info.fps, "opened video");
        Ok(FfmpegSource {
            uri: uri.to_string(),
            info,
            child,
            stdout,
            stderr_tail,
            seq: 0,
            opts,
            finished: false,
        })
    }

    fn stderr_summary(&self) -> String {
        self.stderr_tail
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>().join(" | "))
            .unwrap_or_default()
    }

    /// ffmpeg ended: Ok(None) if it finished cleanly, an error with its last words otherwise.
    fn end(&mut self, partial: usize) -> Result<Option<Frame>> {
        self.finished = true;
        let status = self
            .child
            .wait()
            .map_err(|e| err(&self.uri, format!("waiting for ffmpeg: {e}")))?;
        if partial > 0 {
            self.opts
                .faults
                .damaged
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(source = %self.uri, bytes = partial, "video ended inside a frame (truncated file?)");
        }
        if status.success() {
            return Ok(None);
        }
        // Failed before the first frame, or later: a damaged file, a dropped stream, a killed ffmpeg.
        let after = match self.seq {
            0 => String::new(),
            n => format!(" after {n} frames"),
        };
        Err(err(
            &self.uri,
            format!("ffmpeg failed{after} ({status}): {}", self.stderr_summary()),
        ))
    }

    /// Waits until ffmpeg's pipe has data, the stall timeout passes (an error), or `stop` is set
    /// (false: give up).
    fn wait_readable(&self, since: Instant) -> Result<bool> {
        use std::os::fd::AsRawFd;
        loop {
            if self.opts.stop.as_ref().is_some_and(|s| s.is_stopped()) {
                return Ok(false);
            }
            let mut fd = libc::pollfd {
                fd: self.stdout.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one pollfd for a pipe we own, valid for the call.
            let rc = unsafe { libc::poll(&mut fd, 1, 200) };
            if rc > 0 {
                return Ok(true); // readable, or hung up (read then returns 0)
            }
            if rc < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(err(&self.uri, format!("waiting for ffmpeg: {e}")));
                }
            }
            if let Some(limit) = self.opts.stall_timeout {
                if since.elapsed() >= limit {
                    return Err(Error::Stalled {
                        uri: self.uri.clone(),
                        secs: limit.as_secs_f64(),
                    });
                }
            }
        }
    }
}

/// Lets ffmpeg write up to a whole frame ahead instead of 64 KiB at a time (fewer context switches
/// per frame). Linux caps it at /proc/sys/fs/pipe-max-size (1 MiB by default); failure is harmless.
fn grow_pipe(pipe: &ChildStdout, frame_bytes: usize) {
    use std::os::fd::AsRawFd;
    let size = frame_bytes.min(1 << 20) as libc::c_int;
    // SAFETY: F_SETPIPE_SZ on a pipe fd we own; the call only resizes the kernel buffer.
    let rc = unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, size) };
    if rc < 0 {
        tracing::debug!(
            "could not enlarge the ffmpeg pipe: {}",
            std::io::Error::last_os_error()
        );
    }
}

impl Source for FfmpegSource {
    fn next_frame(&mut self, mut buf: Vec<u8>) -> Result<Option<Frame>> {
        if self.finished {
            return Ok(None);
        }
        let size = self.info.width as usize * self.info.height as usize * 3;
        buf.resize(size, 0);
        let start = Instant::now();
        let mut first_byte = None;
        let mut filled = 0;
        while filled < size {
            if !self.wait_readable(start)? {
                return Ok(None);
            }
            match self.stdout.read(&mut buf[filled..]) {
                Ok(0) => return self.end(filled),
                Ok(n) => {
                    first_byte.get_or_insert_with(Instant::now);
                    filled += n;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(err(&self.uri, format!("reading frames from ffmpeg: {e}"))),
            }
        }
        let done = Instant::now();
        // With --realtime the wait for the frame's due time is not decoding: count from the first byte.
        let from = if self.opts.realtime {
            first_byte.unwrap_or(start)
        } else {
            start
        };
        let frame = Frame {
            seq: self.seq,
            captured_at: SystemTime::now(),
            captured_mono: done,
            pts: self.info.fps.map(|f| self.seq as f64 / f),
            width: self.info.width,
            height: self.info.height,
            pixels: buf,
            decode: done.saturating_duration_since(from),
            label: None,
        };
        self.seq += 1;
        Ok(Some(frame))
    }
}

impl Drop for FfmpegSource {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_turn_swaps_the_frame_sides() {
        for (rotation, size) in [
            (0.0, (768, 576)),
            (90.0, (576, 768)),
            (-90.0, (576, 768)),
            (270.0, (576, 768)),
            (180.0, (768, 576)),
            (-180.0, (768, 576)),
            (450.0, (576, 768)),
        ] {
            assert_eq!(displayed_size(768, 576, rotation), size, "{rotation}");
        }
    }

    #[test]
    fn rotation_comes_from_the_display_matrix_or_the_tag() {
        let stream = |json: &str| -> ProbeStream { serde_json::from_str(json).expect("parses") };
        assert_eq!(
            stream(r#"{"side_data_list": [{"rotation": -90}]}"#).rotation(),
            -90.0
        );
        assert_eq!(stream(r#"{"tags": {"rotate": "90"}}"#).rotation(), 90.0);
        assert_eq!(
            stream(r#"{"side_data_list": [{}], "tags": {}}"#).rotation(),
            0.0
        );
        assert_eq!(
            stream(r#"{"tags": {"rotate": "sideways"}}"#).rotation(),
            0.0
        );
    }

    #[test]
    fn frame_rates_parse() {
        assert_eq!(parse_rate("10/1"), Some(10.0));
        assert!((parse_rate("30000/1001").unwrap_or(0.0) - 29.97).abs() < 0.01);
        assert_eq!(parse_rate("0/0"), None);
        assert_eq!(parse_rate("abc"), None);
    }
}
