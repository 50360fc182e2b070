//! V4L2 cameras (`/dev/videoN`, `/dev/v4l/by-id/...`) through nokhwa. nokhwa's camera is not
//! `Send` and its `frame()` blocks without a timeout, so a thread of its own opens and reads the
//! camera and hands frames over a channel; waiting on the channel gives stall detection and a
//! prompt stop.

use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use super::frame::{Frame, Source};
use super::options::{CaptureRequest, PixelFormat, SourceOptions};
use crate::error::{Error, Result};
use crate::stop::StopToken;

/// `/dev/video2`, `/dev/v4l/by-id/...` (a link to one) or `v4l2://2` → 2.
fn device_index(uri: &str) -> std::result::Result<u32, String> {
    if let Some(n) = uri.strip_prefix("v4l2://") {
        return n
            .parse()
            .map_err(|_| format!("'{n}' is not a device number; use v4l2://N or /dev/videoN"));
    }
    let real = std::fs::canonicalize(uri).map_err(|e| {
        format!(
            "no such camera ({e}); is it plugged in? `ls /dev/video*` lists the cameras, and \
             `v4l2-ctl --list-devices` names them"
        )
    })?;
    real.to_str()
        .and_then(|s| s.strip_prefix("/dev/video"))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("{} is not a /dev/videoN device", real.display()))
}

enum Message {
    Opened(String),
    /// RGB pixels, width, height, when the camera delivered it, how long decoding took.
    Frame(Vec<u8>, u32, u32, Instant, Duration),
    Failed(String),
}

pub struct V4l2Source {
    uri: String,
    rx: Receiver<Message>,
    recycle: Sender<Vec<u8>>,
    stop_thread: StopToken,
    opts: SourceOptions,
    seq: u64,
}

fn err(uri: &str, msg: impl Into<String>) -> Error {
    Error::Source {
        uri: uri.to_string(),
        msg: msg.into(),
    }
}

impl V4l2Source {
    /// Opens the camera and starts its stream; waits for the camera's answer up to the stall
    /// timeout (10 s without one).
    pub fn open(uri: &str, opts: SourceOptions) -> Result<V4l2Source> {
        let request = &opts.capture;
        let index = device_index(uri).map_err(|m| err(uri, m))?;
        let (tx, rx) = bounded::<Message>(2);
        let (recycle, recycled) = bounded::<Vec<u8>>(2);
        // Stopped with the source, or with whoever stops the source.
        let stop_thread = opts.stop.as_ref().map(StopToken::child).unwrap_or_default();
        {
            let (request, stop) = (request.clone(), stop_thread.clone());
            std::thread::Builder::new()
                .name(format!("v4l2-{index}"))
                .spawn(move || capture(index, &request, &tx, &recycled, &stop))
                .map_err(|e| err(uri, format!("cannot start a thread: {e}")))?;
        }
        let wait = opts.stall_timeout.unwrap_or(Duration::from_secs(10));
        match rx.recv_timeout(wait) {
            Ok(Message::Opened(mode)) => {
                tracing::info!(source = uri, mode, "opened camera");
            }
            Ok(Message::Failed(m)) => return Err(err(uri, m)),
            Ok(Message::Frame(..)) => {}
            Err(_) => {
                stop_thread.stop();
                return Err(Error::Stalled {
                    uri: uri.into(),
                    secs: wait.as_secs_f64(),
                });
            }
        }
        Ok(V4l2Source {
            uri: uri.into(),
            rx,
            recycle,
            stop_thread,
            opts,
            seq: 0,
        })
    }
}

/// The camera thread: open, report the mode, then read, decode to RGB and send frames until
/// `stop` or an error.
fn capture(
    index: u32,
    request: &CaptureRequest,
    tx: &Sender<Message>,
    recycled: &Receiver<Vec<u8>>,
    stop: &StopToken,
) {
    use nokhwa::pixel_format::RgbFormat;
    use nokhwa::utils::{CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType};

    let wanted: &[FrameFormat] = match request.format {
        Some(PixelFormat::Mjpeg) => &[FrameFormat::MJPEG],
        Some(PixelFormat::Yuyv) => &[FrameFormat::YUYV],
        None => &[FrameFormat::MJPEG, FrameFormat::YUYV],
    };
    let opened = (|| -> std::result::Result<nokhwa::Camera, nokhwa::NokhwaError> {
        let mut cam = nokhwa::Camera::new(
            CameraIndex::Index(index),
            RequestedFormat::with_formats(RequestedFormatType::None, wanted),
        )?;
        // nokhwa 0.10's `Closest` only matches exact resolutions: choose the mode here.
        let best = cam
            .compatible_camera_formats()?
            .into_iter()
            .filter(|f| wanted.contains(&f.format()))
            .min_by_key(|f| {
                let res = match request.resolution {
                    Some((w, h)) => {
                        (f.width() as i64 - w as i64).pow(2) + (f.height() as i64 - h as i64).pow(2)
                    }
                    None => -((f.width() * f.height()) as i64),
                };
                let fps = match request.fps {
                    Some(r) => (f.frame_rate() as i64 - r as i64).abs(),
                    None => -(f.frame_rate() as i64),
                };
                let format = wanted.iter().position(|w| *w == f.format()).unwrap_or(9);
                (res, fps, format)
            })
            .ok_or_else(|| nokhwa::NokhwaError::GetPropertyError {
                property: "format".into(),
                error: "the camera offers neither MJPEG nor YUYV".into(),
            })?;
        cam.set_camera_requset(RequestedFormat::with_formats(
            RequestedFormatType::Exact(best),
            wanted,
        ))?;
        cam.open_stream()?;
        Ok(cam)
    })();
    let mut cam = match opened {
        Ok(cam) => cam,
        Err(e) => {
            let _ = tx.send(Message::Failed(describe(&e)));
            return;
        }
    };
    let f = cam.camera_format();
    let _ = tx.send(Message::Opened(format!(
        "{}x{} {:?} at {} fps",
        f.width(),
        f.height(),
        f.format(),
        f.frame_rate()
    )));
    while !stop.is_stopped() {
        let frame = cam.frame().and_then(|buf| {
            let (at, res) = (Instant::now(), buf.resolution());
            let mut pixels = recycled.try_recv().unwrap_or_default();
            pixels.resize(res.width() as usize * res.height() as usize * 3, 0);
            buf.decode_image_to_buffer::<RgbFormat>(&mut pixels)?;
            Ok((pixels, res.width(), res.height(), at))
        });
        let msg = match frame {
            Ok((pixels, w, h, at)) => Message::Frame(pixels, w, h, at, at.elapsed()),
            Err(e) => Message::Failed(describe(&e)),
        };
        let failed = matches!(msg, Message::Failed(_));
        if tx.send(msg).is_err() || failed {
            break;
        }
    }
    let _ = cam.stop_stream();
}

/// nokhwa's error, with what to do about the common ones.
fn describe(e: &nokhwa::NokhwaError) -> String {
    use nokhwa::NokhwaError as E;
    let hint = match e {
        E::OpenDeviceError(_, m) if m.contains("No such file") => {
            "; is the camera plugged in? `ls /dev/video*` lists the cameras"
        }
        E::OpenDeviceError(_, m) if m.contains("ermission") => {
            "; the user needs the `video` group (the systemd unit has SupplementaryGroups=video)"
        }
        E::OpenDeviceError(_, m) if m.contains("busy") => "; another program is using the camera",
        E::ReadFrameError(_) => "; the camera was unplugged or stopped sending",
        _ => "",
    };
    format!("{e}{hint}")
}

impl Source for V4l2Source {
    fn next_frame(&mut self, buf: Vec<u8>) -> Result<Option<Frame>> {
        let _ = self.recycle.try_send(buf);
        let start = Instant::now();
        loop {
            if self.opts.stop.as_ref().is_some_and(|s| s.is_stopped()) {
                return Ok(None);
            }
            match self.rx.recv_timeout(Duration::from_millis(200)) {
                Ok(Message::Frame(pixels, width, height, at, decode)) => {
                    let frame = Frame {
                        seq: self.seq,
                        captured_at: SystemTime::now() - at.elapsed(),
                        captured_mono: at,
                        pts: None,
                        width,
                        height,
                        pixels,
                        decode,
                        label: None,
                    };
                    self.seq += 1;
                    return Ok(Some(frame));
                }
                Ok(Message::Failed(m)) => return Err(err(&self.uri, m)),
                Ok(Message::Opened(_)) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(err(&self.uri, "the camera thread ended"))
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(limit) = self.opts.stall_timeout {
                        if start.elapsed() >= limit {
                            return Err(Error::Stalled {
                                uri: self.uri.clone(),
                                secs: limit.as_secs_f64(),
                            });
                        }
                    }
                }
            }
        }
    }
}

impl Drop for V4l2Source {
    fn drop(&mut self) {
        // The thread sees this after its current frame; a camera that hangs keeps it until the
        // kernel gives up on the device.
        self.stop_thread.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::super::kind::is_device;
    use super::*;

    #[test]
    fn device_names() {
        assert!(is_device("/dev/video0") && is_device("v4l2://3"));
        assert!(!is_device("rtsp://cam/stream"));
        assert_eq!(device_index("v4l2://3"), Ok(3));
        assert!(device_index("v4l2://x").is_err());
        let e = device_index("/dev/video99").expect_err("absent");
        assert!(e.contains("plugged in"), "{e}");
    }
}
