//! `<root>/stats` (docs/schema/stats.schema.json), every stats interval.

use std::collections::BTreeMap;

use serde::Serialize;

/// `<root>/stats`.
pub const STATS_SCHEMA: &str = "lookout.stats.v1";

#[derive(Debug, Serialize)]
/// One camera in `stats`.
pub struct CameraStats {
    pub captured: u64,
    pub processed: u64,
    pub dropped: BTreeMap<&'static str, u64>,
    pub restarts: u64,
    pub fps: f64,
    pub latency_ms: BTreeMap<String, f64>,
}

/// `<root>/stats`: every camera's counters and latency, and the connection's.
#[derive(Debug, Serialize)]
pub struct Stats<'a> {
    pub schema: &'static str,
    pub device: &'a str,
    pub at: String,
    pub uptime_s: f64,
    pub cameras: BTreeMap<&'a str, CameraStats>,
    pub mqtt: crate::publish::mqtt::MqttSnapshot,
}
