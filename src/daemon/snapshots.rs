//! A camera's retained snapshot on MQTT (`<root>/<camera>/snapshot`, `[snapshots]
//! mqtt_interval_s`): every interval, the latest processed frame, annotated, as a JPEG. Its own
//! thread encodes it, so the camera's pipeline never waits for a picture; a frame already sent is
//! not sent again, and a busy connection drops the picture rather than delay detections.

use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::publish::mqtt::MqttPublisher;
use crate::snapshot::{LatestFrame, Snapshot, SnapshotsConfig};
use crate::stop::StopToken;

/// Starts the camera's snapshot thread when `[snapshots] mqtt_interval_s` > 0 and MQTT is on.
/// It ends when `stop` is stopped.
pub(super) fn start(
    camera: &str,
    topic: String,
    latest: Arc<LatestFrame>,
    mqtt: Option<Arc<MqttPublisher>>,
    cfg: &SnapshotsConfig,
    stop: &StopToken,
) -> Option<JoinHandle<()>> {
    let mqtt = mqtt?;
    if cfg.mqtt_interval_s <= 0.0 {
        return None;
    }
    let every = Duration::from_secs_f64(cfg.mqtt_interval_s);
    let (quality, stop, name) = (cfg.quality(), stop.clone(), camera.to_string());
    let spawned = std::thread::Builder::new()
        .name(format!("snapshot-{camera}"))
        .spawn(move || {
            let mut sent: Weak<Snapshot> = Weak::new();
            while !stop.wait_timeout(every) {
                let Some(s) = latest.latest() else { continue };
                if Weak::ptr_eq(&sent, &Arc::downgrade(&s)) {
                    continue; // no new frame since the last picture
                }
                let published = s
                    .annotated_jpeg(quality)
                    .and_then(|jpeg| mqtt.publish_snapshot(&topic, jpeg));
                match published {
                    Ok(true) => sent = Arc::downgrade(&s),
                    Ok(false) => {} // broker away or busy: the next interval tries again
                    Err(e) => tracing::warn!(camera = %name, "snapshot not published: {e}"),
                }
            }
        });
    spawned
        .inspect_err(|e| tracing::error!(camera, "snapshots off: cannot start their thread ({e})"))
        .ok()
}
