//! The MQTT sink: each frame's detections message to `<camera>/detections` (never blocking: the
//! publisher queues it and drops detections, never events, when full), the class and object
//! events it causes to `<camera>/events` (QoS 1, store-and-forward), and, retained, the zones' and
//! lines' counts when they change and (with `[homeassistant]`) the objects per class on
//! `<camera>/counts`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::api::{FrameRecord, Sink, SinkContext, Written};
use crate::error::Result;
use crate::events::EventLog;
use crate::publish::message::{self, CountsMessage};
use crate::publish::message::{LinePayload, ZonePayload, LINE_SCHEMA, ZONE_SCHEMA};
use crate::publish::mqtt::MqttPublisher;
use crate::publish::topics::Topics;
use crate::track::lines::LineTotals;
use crate::track::zones::ZoneCounts;
use crate::track::{FrameOutput, ObjectEvent, TrackStage};

pub struct MqttSink {
    mqtt: Arc<MqttPublisher>,
    device: String,
    camera: String,
    topics: Topics,
    events: Option<Arc<Mutex<EventLog>>>,
    /// The classes `<camera>/counts` lists (with `[homeassistant]`).
    counts: Option<Vec<String>>,
    /// The last `<camera>/counts` sent.
    counts_sent: Option<BTreeMap<String, usize>>,
    tracking: Option<Arc<Mutex<TrackStage>>>,
}

/// On whenever the camera has a broker connection.
pub fn build(ctx: &SinkContext<'_>) -> Option<Box<dyn Sink>> {
    Some(Box::new(MqttSink {
        mqtt: ctx.mqtt?.clone(),
        device: ctx.device.into(),
        camera: ctx.camera.into(),
        topics: ctx.topics.clone(),
        events: ctx.events.cloned(),
        counts: ctx.counts.map(<[String]>::to_vec),
        counts_sent: None,
        tracking: ctx.tracking.cloned(),
    }))
}

impl Sink for MqttSink {
    fn start(&mut self) {
        if let Some(stage) = &self.tracking {
            // Zones and lines as they stand (zero at first start), retained: a subscriber that
            // connects late sees the truth.
            let (zones, lines) = stage.lock().unwrap_or_else(|p| p.into_inner()).current();
            let who = (self.device.as_str(), self.camera.as_str());
            publish_regions(&self.mqtt, &self.topics, who, &zones, &lines);
        }
        // Zero before the first frame: a subscriber never reads a count from an earlier run.
        self.counts_sent = None;
        self.publish_class_counts(&BTreeMap::new());
    }

    fn frame(&mut self, r: &mut FrameRecord<'_>) -> Result<Written> {
        self.mqtt.publish(self.topics.detections(), r.json.to_vec());
        self.publish_class_counts(r.counts);
        let m = &self.mqtt;
        if let Some(t) = r.tracked {
            let who = (self.device.as_str(), self.camera.as_str());
            publish_regions(m, &self.topics, who, &t.zones, &t.lines);
        }
        let Some(log) = &self.events else {
            return Ok(Written::Ok);
        };
        let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
        let counts: BTreeMap<&str, usize> =
            r.counts.iter().map(|(c, n)| (c.as_str(), *n)).collect();
        let captured_at = message::rfc3339_ms(r.captured_at);
        for e in log.update(&counts, r.captured_mono, r.seq, &captured_at) {
            if let Ok(payload) = serde_json::to_vec(&e) {
                m.publish_event(self.topics.events(), payload);
            }
        }
        if let Some(t) = r.tracked {
            self.publish_object_events(&mut log, &t.events);
        }
        Ok(Written::Ok)
    }

    fn finish(&mut self, stopped: &FrameOutput) {
        if let Some(log) = &self.events {
            let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
            self.publish_object_events(&mut log, &stopped.events);
        }
        let who = (self.device.as_str(), self.camera.as_str());
        publish_regions(
            &self.mqtt,
            &self.topics,
            who,
            &stopped.zones,
            &stopped.lines,
        );
    }
}

impl MqttSink {
    /// Object events, numbered in the camera's sequence by its event log.
    fn publish_object_events(&self, log: &mut EventLog, events: &[ObjectEvent]) {
        for e in events {
            if let Ok(payload) = log.object_event(e) {
                self.mqtt.publish_event(self.topics.events(), payload);
            }
        }
    }

    /// The retained `<camera>/counts`, when asked for and changed: the listed classes (zero when
    /// absent) and any other class in view.
    fn publish_class_counts(&mut self, in_view: &BTreeMap<String, usize>) {
        let Some(listed) = &self.counts else {
            return;
        };
        let mut counts: BTreeMap<String, usize> = listed.iter().map(|c| (c.clone(), 0)).collect();
        counts.extend(in_view.iter().map(|(c, n)| (c.clone(), *n)));
        if self.counts_sent.as_ref() == Some(&counts) {
            return;
        }
        let msg = CountsMessage {
            schema: message::COUNTS_SCHEMA,
            device: &self.device,
            camera: &self.camera,
            counts: &counts,
            updated_at: message::rfc3339_ms(SystemTime::now()),
        };
        if let Ok(bytes) = serde_json::to_vec(&msg) {
            self.mqtt.publish_retained_json(
                &self.topics.counts(),
                bytes,
                Some(message::COUNTS_SCHEMA),
            );
            self.counts_sent = Some(counts);
        }
    }
}

/// Retained `<camera>/zones/<zone>` and `<camera>/lines/<line>` messages for these counts.
pub fn publish_regions(
    m: &MqttPublisher,
    topics: &Topics,
    (device, camera): (&str, &str),
    zones: &[ZoneCounts],
    lines: &[LineTotals],
) {
    let now = message::rfc3339_ms(SystemTime::now());
    for z in zones {
        let payload = ZonePayload::new(device, camera, z, now.clone());
        if let Ok(bytes) = serde_json::to_vec(&payload) {
            m.publish_retained_json(&topics.zone(&z.zone), bytes, Some(ZONE_SCHEMA));
        }
    }
    for l in lines {
        let payload = LinePayload::new(device, camera, l, now.clone());
        if let Ok(bytes) = serde_json::to_vec(&payload) {
            m.publish_retained_json(&topics.line(&l.line), bytes, Some(LINE_SCHEMA));
        }
    }
}

/// Clears the retained messages of zones and lines that no longer exist (after a reload).
pub fn clear_regions(m: &MqttPublisher, topics: &Topics, zones: &[String], lines: &[String]) {
    for z in zones {
        m.publish_state(&topics.zone(z), Vec::new());
    }
    for l in lines {
        m.publish_state(&topics.line(l), Vec::new());
    }
}
