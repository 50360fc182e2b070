//! The retained `<root>/<camera>/zones/<zone>` (docs/schema/zone.schema.json): a zone's
//! objects in it per class.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::track::zones::ZoneCounts;

/// `schema` of the retained `<camera>/zones/<zone>` message.
pub const ZONE_SCHEMA: &str = "lookout.zone.v1";

/// The retained `<prefix>/<device>/<camera>/zones/<zone>` payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZonePayload {
    pub schema: &'static str,
    pub device: String,
    pub camera: String,
    pub zone: String,
    pub counts: BTreeMap<String, u64>,
    pub updated_at: String,
}

impl ZonePayload {
    /// `updated_at`: RFC 3339 UTC with milliseconds, as every other message.
    pub fn new(device: &str, camera: &str, counts: &ZoneCounts, updated_at: String) -> ZonePayload {
        ZonePayload {
            schema: ZONE_SCHEMA,
            device: device.into(),
            camera: camera.into(),
            zone: counts.zone.clone(),
            counts: counts.counts.clone(),
            updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(c, n)| (c.to_string(), *n)).collect()
    }

    #[test]
    fn payload_matches_schema() {
        let zc = ZoneCounts {
            zone: "door".into(),
            counts: counts(&[("person", 2), ("car", 0)]),
        };
        let p = ZonePayload::new("robot-1", "front", &zc, "2026-01-02T03:04:05.678Z".into());
        let json = serde_json::to_value(&p).expect("serialisable");
        assert_eq!(
            json,
            serde_json::json!({"schema": "lookout.zone.v1", "device": "robot-1", "camera": "front",
                "zone": "door", "counts": {"person": 2, "car": 0},
                "updated_at": "2026-01-02T03:04:05.678Z"})
        );
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/schema/zone.schema.json"))
                .expect("json");
        let validator = jsonschema::validator_for(&schema).expect("a valid schema");
        assert!(validator.is_valid(&json));
        let mut wrong = json.clone();
        wrong["counts"]["person"] = serde_json::json!(-1);
        assert!(!validator.is_valid(&wrong));
    }
}
