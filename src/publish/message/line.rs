//! The retained `<root>/<camera>/lines/<line>` (docs/schema/line.schema.json): a line's crossings
//! per class and direction since its totals began.

use serde::Serialize;

use crate::track::lines::{LineTotals, Totals};

/// `schema` of the retained `<camera>/lines/<line>` message.
pub const LINE_SCHEMA: &str = "lookout.line.v1";

/// The retained `<prefix>/<device>/<camera>/lines/<line>` payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinePayload {
    pub schema: &'static str,
    pub device: String,
    pub camera: String,
    pub line: String,
    pub totals: Totals,
    pub updated_at: String,
}

impl LinePayload {
    /// `updated_at`: RFC 3339 UTC with milliseconds, as every other message.
    pub fn new(device: &str, camera: &str, totals: &LineTotals, updated_at: String) -> LinePayload {
        LinePayload {
            schema: LINE_SCHEMA,
            device: device.into(),
            camera: camera.into(),
            line: totals.line.clone(),
            totals: totals.totals.clone(),
            updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::lines::InOut;

    fn totals(pairs: &[(&str, u64, u64)]) -> Totals {
        pairs
            .iter()
            .map(|(c, i, o)| (c.to_string(), InOut { r#in: *i, out: *o }))
            .collect()
    }

    #[test]
    fn payload_matches_schema() {
        let lt = LineTotals {
            line: "walk".into(),
            totals: totals(&[("person", 3, 1)]),
        };
        let p = LinePayload::new("robot-1", "front", &lt, "2026-01-02T03:04:05.678Z".into());
        let json = serde_json::to_value(&p).expect("serialisable");
        assert_eq!(
            json,
            serde_json::json!({"schema": "lookout.line.v1", "device": "robot-1", "camera": "front",
                "line": "walk", "totals": {"person": {"in": 3, "out": 1}},
                "updated_at": "2026-01-02T03:04:05.678Z"})
        );
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/schema/line.schema.json"))
                .expect("json");
        let validator = jsonschema::validator_for(&schema).expect("a valid schema");
        assert!(validator.is_valid(&json));
        let mut wrong = json.clone();
        wrong["totals"]["person"]["sideways"] = serde_json::json!(0);
        assert!(!validator.is_valid(&wrong));
    }
}
