//! Reading an HTTP/1.x request head: enough of HTTP for read-only pages. Headers are read to their
//! end (a client may send them in pieces) and otherwise ignored; a body is never read.

/// What the bytes received so far amount to.
#[derive(Debug, PartialEq)]
pub enum Head<'a> {
    /// The blank line that ends the head has not arrived yet.
    Incomplete,
    /// The head is whole: `GET`/`HEAD` and the path, without its query string.
    Request { head_only: bool, path: &'a str },
    /// A method other than GET or HEAD.
    MethodNotAllowed,
    /// Not an HTTP request line.
    Bad,
}

/// Parses `buf`, the bytes received on a connection so far.
pub fn parse(buf: &[u8]) -> Head<'_> {
    let end = find(buf, b"\r\n\r\n").or_else(|| find(buf, b"\n\n"));
    if end.is_none() {
        return Head::Incomplete;
    }
    let line_end = buf
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(buf.len());
    let Ok(line) = std::str::from_utf8(&buf[..line_end]) else {
        return Head::Bad;
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Head::Bad;
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Head::Bad;
    }
    let path = target.split(['?', '#']).next().unwrap_or(target);
    match method {
        "GET" => Head::Request {
            head_only: false,
            path,
        },
        "HEAD" => Head::Request {
            head_only: true,
            path,
        },
        m if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) => Head::MethodNotAllowed,
        _ => Head::Bad,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A whole HTTP/1.0 response; `body` is left out (its length kept) for HEAD.
pub fn response(status: &str, ctype: &str, body: &[u8], head_only: bool) -> Vec<u8> {
    let allow = if status.starts_with("405") {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let mut out = format!(
        "HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{allow}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_heads_parse_to_a_path_or_a_refusal() {
        let get = |path| Head::Request {
            head_only: false,
            path,
        };
        assert_eq!(parse(b"GET /live HTTP/1.0\r\n\r\n"), get("/live"));
        assert_eq!(
            parse(b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n"),
            get("/live")
        );
        assert_eq!(
            parse(b"GET /metrics?name[]=x HTTP/1.1\r\n\r\n"),
            get("/metrics")
        );
        assert_eq!(parse(b"GET /ready HTTP/1.0\n\n"), get("/ready"));
        assert_eq!(
            parse(b"HEAD /live HTTP/1.1\r\n\r\n"),
            Head::Request {
                head_only: true,
                path: "/live"
            }
        );
        assert_eq!(
            parse(b"GET /live HTTP/1.1\r\nHost: x\r\n"),
            Head::Incomplete
        );
        assert_eq!(parse(b""), Head::Incomplete);
        assert_eq!(
            parse(b"POST /live HTTP/1.1\r\n\r\n"),
            Head::MethodNotAllowed
        );
        assert_eq!(parse(b"DELETE / HTTP/1.1\r\n\r\n"), Head::MethodNotAllowed);
        for bad in [
            &b"GET /live\r\n\r\n"[..],
            b"GET live HTTP/1.0\r\n\r\n",
            b"GET /live SMTP/1.0\r\n\r\n",
            b"\x16\x03\x01\x02\x00\r\n\r\n",
            b"get /live HTTP/1.0\r\n\r\n",
            b"GET  /live HTTP/1.0\r\n\r\n",
        ] {
            assert_eq!(parse(bad), Head::Bad, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn head_responses_keep_the_length_and_drop_the_body() {
        let full = response("200 OK", "text/plain", b"live\n", false);
        assert!(full.ends_with(b"Content-Length: 5\r\nConnection: close\r\n\r\nlive\n"));
        let head = response("200 OK", "text/plain", b"live\n", true);
        assert!(head.ends_with(b"Content-Length: 5\r\nConnection: close\r\n\r\n"));
        let refused =
            String::from_utf8(response("405 Method Not Allowed", "text/plain", b"", false))
                .expect("text");
        assert!(refused.contains("\r\nAllow: GET, HEAD\r\n"), "{refused}");
    }
}
