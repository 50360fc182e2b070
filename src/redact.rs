//! Keeping passwords out of what lookout shows. A camera URL (`rtsp://admin:pw@cam/stream`, the
//! usual form for IP cameras) or a broker URL can carry a password; wherever a URL is shown, in a
//! log line at any level, an error, `/ready`, the retained `<camera>/state`, a replay summary, its
//! password is replaced by `***`. Applied where text leaves the process (the log writer, the error
//! line, the state and readiness texts), so a message written anywhere else is covered too.

use std::borrow::Cow;
use std::io::Write;

/// What a password is replaced with.
pub const MASK: &str = "***";

/// `url` with the password in its user info, if any, replaced by `***` (`mqtt://user:***@host`).
pub fn url(url: &str) -> String {
    text(url).into_owned()
}

/// `text` with the password of every URL in it replaced by `***`. A URL's user info is what lies
/// between `scheme://` and the last `@` before the end of the authority (the next `/`, `?`, `#`,
/// whitespace or quote); its password is what follows the first `:` there.
pub fn text(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut done = 0; // bytes of `text` already copied to `out`
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let start = from + found + 3;
        let rest = &text[start..];
        let end = rest
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '\\') || c.is_whitespace()
            })
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        if let Some(at) = authority.rfind('@') {
            if let Some(colon) = authority[..at].find(':') {
                let pw_start = start + colon + 1;
                let pw_end = start + at;
                if text[pw_start..pw_end] != *MASK {
                    out.push_str(&text[done..pw_start]);
                    out.push_str(MASK);
                    done = pw_end;
                }
            }
        }
        // The next URL may start inside this one's authority (`a://b@c://u:p@d`).
        from = start;
    }
    if done == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[done..]);
    Cow::Owned(out)
}

/// stderr, with every line's URL passwords masked: the writer of lookout's log subscriber.
pub struct Stderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Stderr {
    type Writer = StderrWriter;

    fn make_writer(&'a self) -> StderrWriter {
        StderrWriter
    }
}

/// One log event's bytes (the subscriber formats an event, then writes it whole) go through
/// [`text`] before they reach stderr.
pub struct StderrWriter;

impl Write for StderrWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        std::io::stderr().lock().write_all(text(&line).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked_and_the_rest_is_kept() {
        let cases = [
            (
                "rtsp://admin:hunter2@10.0.0.5:554/stream1",
                "rtsp://admin:***@10.0.0.5:554/stream1",
            ),
            ("mqtt://u:pa%40ss@host:1883", "mqtt://u:***@host:1883"),
            // '@' inside the password: the last '@' of the authority ends the user info.
            ("mqtts://bob:p@ss@broker", "mqtts://bob:***@broker"),
            ("mqtt://bob@host", "mqtt://bob@host"),
            ("mqtt://host:1883", "mqtt://host:1883"),
            // An '@' in the path is not user info.
            ("http://host/a:b@c", "http://host/a:b@c"),
            ("no url here", "no url here"),
            (
                "opened rtsp://a:1@x/s and rtsp://b:2@y/s, \"source\":\"http://c:3@z\"",
                "opened rtsp://a:***@x/s and rtsp://b:***@y/s, \"source\":\"http://c:***@z\"",
            ),
            ("rtsp://u:***@cam", "rtsp://u:***@cam"),
            ("x://a:b@c://d:e@f", "x://a:***@c://d:***@f"),
            ("tail ://", "tail ://"),
        ];
        for (input, want) in cases {
            assert_eq!(text(input), want, "{input}");
        }
        assert!(matches!(text("nothing to hide"), Cow::Borrowed(_)));
    }
}
