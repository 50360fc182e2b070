//! Where detections go: MQTT (rumqttc) and JSON lines on stdout. Publishing never blocks the
//! pipeline.

pub mod client;
mod config;
mod connection;
pub mod message;
pub mod mqtt;
pub mod outbox;
pub mod publisher;
mod shared;
pub mod spool;
pub mod tls;
pub mod topics;

/// Topic segments (device, camera) must not contain MQTT wildcards or separators.
pub fn valid_topic_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Turns a free-form name (hostname, file stem) into a valid topic segment.
/// Why a publish could never go to `topic`, if it could not: empty or over MQTT's length, or a
/// wildcard or NUL in it.
pub fn topic_problem(topic: &str) -> Option<&'static str> {
    if topic.is_empty() || topic.len() > 65_535 {
        Some("the topic is empty or longer than MQTT allows")
    } else if topic.contains(['+', '#', '\0']) {
        Some("the topic has a wildcard or NUL, which a publish cannot have")
    } else {
        None
    }
}

pub fn sanitize_segment(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if out.is_empty() {
        "default".into()
    } else {
        out
    }
}

/// This machine's hostname, as a topic segment.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let name = if rc == 0 {
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    sanitize_segment(name.split('.').next().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_segments() {
        assert!(valid_topic_segment("front-cam_1"));
        assert!(!valid_topic_segment("a/b"));
        assert!(!valid_topic_segment("#"));
        assert_eq!(sanitize_segment("my cam+1"), "my_cam_1");
        assert!(valid_topic_segment(&hostname()));
    }
}
