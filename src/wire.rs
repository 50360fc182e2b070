//! How lookout writes numbers and times in its JSON: rounded decimals and RFC 3339 timestamps
//! with milliseconds. The lowest layer: every message-building module (publish, track) uses it.

use std::time::SystemTime;

/// RFC 3339, UTC, millisecond precision: `2026-11-26T05:01:02.345Z`.
pub fn rfc3339_ms(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".into())
}

/// `v` rounded to `decimals` places; never `-0.0` (a velocity of -0.04 px/s is written 0.0).
pub fn round_to(v: f64, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    (v * k).round() / k + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_with_milliseconds() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_764_133_262_345);
        assert_eq!(rfc3339_ms(t), "2025-11-26T05:01:02.345Z");
    }

    #[test]
    fn rounding_never_writes_negative_zero() {
        assert_eq!(round_to(1.2345, 2), 1.23);
        assert!(round_to(-0.04, 1).is_sign_positive());
        assert_eq!(
            serde_json::to_string(&round_to(-0.04, 1)).expect("json"),
            "0.0"
        );
    }
}
