//! `--mqtt` and `--device` on top of the config file's `[mqtt]`, the connection they open, and the
//! line that reports it at the end of a run.

use lookout::config::Config;
use lookout::publish::hostname;
use lookout::publish::mqtt::{MqttConfig, MqttPublisher};
use lookout::publish::topics::DeviceTopics;
use lookout::Error;

/// The `[mqtt]` settings with the flags applied, and the device name (default: the hostname).
pub fn mqtt_settings(
    config: &Config,
    url: Option<&String>,
    device: Option<&String>,
) -> Result<(MqttConfig, String), Error> {
    let mut mqtt = config.mqtt.clone();
    if let Some(u) = url {
        mqtt.url = Some(u.clone());
    }
    if let Some(d) = device {
        mqtt.device = Some(d.clone());
    }
    mqtt.validate().map_err(Error::Usage)?;
    let device = mqtt.device.clone().unwrap_or_else(hostname);
    Ok((mqtt, device))
}

/// Connects when a broker URL is set; fails when the broker cannot be reached at start.
pub fn connect_mqtt(
    cfg: &MqttConfig,
    topics: &DeviceTopics,
) -> Result<Option<MqttPublisher>, Error> {
    match &cfg.url {
        Some(_) => Ok(Some(MqttPublisher::connect(cfg, topics)?)),
        None => Ok(None),
    }
}

/// What the connection did: published, dropped, reconnects, events, and its last error.
pub fn mqtt_summary(m: &MqttPublisher) -> String {
    let n = m.snapshot();
    let mut s = format!(
        "mqtt: {} published, {} dropped while disconnected, {} dropped on a full queue, {} reconnects ({}); \
         events: {} sent, {} unacknowledged, {} dropped on a full event queue, {} spooled",
        n.published,
        n.dropped_disconnected,
        n.dropped_queue_full,
        n.reconnects,
        m.url(),
        n.events_sent,
        n.events_queued,
        n.events_dropped,
        n.events_spooled
    );
    if let Some(e) = m.last_error() {
        s += &format!("; last error: {e}");
    }
    s
}
