//! `lookout run`: every camera of the config concurrently, one shared MQTT connection, systemd
//! notifications, and a clean stop on SIGTERM/SIGINT. A camera whose source fails is restarted
//! with exponential backoff and a logged reason; it never takes the others down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{CameraConfig, Config};
use crate::detect::{Detector, ModelSpec};
use crate::error::Result;
use crate::pipeline::{self, ReplayOptions};
use crate::publish::mqtt::MqttPublisher;
use crate::source::{self, SourceOptions};

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

/// Loads and warms every camera's detector (failing early on a bad model or config; a GPU compiles
/// its kernels here, before READY), then runs the cameras
/// until `stop` is set or every non-looping camera has reached the end of its source.
pub fn run(
    config: &Config,
    resolve_model: &dyn Fn(&std::path::Path) -> std::path::PathBuf,
    device: &str,
    stop: &Arc<AtomicBool>,
) -> Result<()> {
    if config.cameras.is_empty() {
        return Err(crate::Error::Config(
            "the config has no [[cameras]]; add one (see config/lookout.toml)".into(),
        ));
    }
    let mut detectors = Vec::new();
    for cam in &config.cameras {
        let cfg = cam.detector(&config.detector);
        let spec = ModelSpec::load(&resolve_model(&cfg.model))?;
        let mut detector = Detector::new(spec, cfg)?;
        sd_notify(&format!(
            "STATUS=warming up the {} engine for camera {}",
            detector.engine_name(),
            cam.name
        ));
        let took = detector.warm_up()?;
        tracing::info!(camera = %cam.name, engine = detector.engine_name(), ms = took.as_millis() as u64, "detector warmed up");
        detectors.push(detector);
    }
    let listener = match config.admin.listen.as_str() {
        "" => None,
        addr => Some(crate::admin::bind(addr)?),
    };
    let camera_metrics: Vec<Arc<crate::metrics::CameraMetrics>> =
        config.cameras.iter().map(|_| Arc::default()).collect();
    let mqtt = match &config.mqtt.url {
        Some(_) => Some(MqttPublisher::start(
            &config.mqtt,
            &format!("{}/{device}", config.mqtt.topic_prefix),
        )?),
        None => None,
    };
    sd_notify(&format!(
        "READY=1\nSTATUS=running {} camera(s)",
        config.cameras.len()
    ));
    tracing::info!(cameras = config.cameras.len(), "lookout running");
    let cameras_done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let mut cameras = Vec::new();
        for ((cam, detector), metrics) in config
            .cameras
            .iter()
            .zip(detectors.iter_mut())
            .zip(&camera_metrics)
        {
            let mqtt = mqtt.as_ref();
            let topic_prefix = config.mqtt.topic_prefix.as_str();
            let spawned = std::thread::Builder::new()
                .name(format!("camera-{}", cam.name))
                .spawn_scoped(scope, move || {
                    run_camera(cam, detector, mqtt, device, topic_prefix, metrics, stop)
                });
            match spawned {
                Ok(handle) => cameras.push(handle),
                Err(e) => {
                    tracing::error!(camera = %cam.name, "cannot start the camera thread: {e}")
                }
            }
        }
        if let Some(listener) = listener {
            let state = crate::admin::AdminState {
                cameras: config
                    .cameras
                    .iter()
                    .map(|c| c.name.clone())
                    .zip(camera_metrics.iter().cloned())
                    .collect(),
                mqtt: mqtt.as_ref(),
            };
            let done = &cameras_done;
            // Serves until the daemon stops or every camera has finished its file.
            scope.spawn(move || {
                crate::admin::serve(listener, &state, &|| {
                    stop.load(Ordering::SeqCst) || done.load(Ordering::SeqCst)
                })
            });
        }
        for handle in cameras {
            let _ = handle.join();
        }
        cameras_done.store(true, Ordering::SeqCst);
    });
    sd_notify("STOPPING=1");
    if let Some(m) = mqtt {
        m.close(Duration::from_secs(3));
    }
    Ok(())
}

/// One camera: open, process until the source ends or fails, restart with backoff.
fn run_camera(
    cam: &CameraConfig,
    detector: &mut Detector,
    mqtt: Option<&MqttPublisher>,
    device: &str,
    topic_prefix: &str,
    metrics: &Arc<crate::metrics::CameraMetrics>,
    stop: &Arc<AtomicBool>,
) {
    let mut backoff = Duration::from_millis(500);
    let observer: Arc<dyn pipeline::FrameObserver> = metrics.clone();
    let opts = ReplayOptions {
        latest_wins: cam.realtime,
        json_lines: false,
        observer: Some(observer),
        ..ReplayOptions::new(device, &cam.name, topic_prefix)
    };
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        let outcome = source::open(
            &cam.source,
            SourceOptions {
                realtime: cam.realtime,
                looping: cam.looping,
            },
        )
        .and_then(|src| pipeline::replay(detector, src, mqtt, &mut std::io::sink(), &opts, stop));
        match outcome {
            Ok(summary) if summary.source_error.is_none() && !cam.looping => {
                tracing::info!(camera = %cam.name, frames = summary.frames, "source ended");
                return;
            }
            Ok(summary) => {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let reason = summary
                    .source_error
                    .unwrap_or_else(|| "the source ended".into());
                tracing::warn!(camera = %cam.name, frames = summary.frames, "{reason}; restarting in {backoff:?}");
            }
            Err(e) => tracing::error!(camera = %cam.name, "{e}; retrying in {backoff:?}"),
        }
        metrics.source_restarts.fetch_add(1, Ordering::Relaxed);
        // A source that ran a while before failing starts again quickly.
        if started.elapsed() > Duration::from_secs(30) {
            backoff = Duration::from_millis(500);
        }
        let until = Instant::now() + backoff;
        while Instant::now() < until && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}
