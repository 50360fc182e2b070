//! The admin endpoint's request-head parser: any bytes are a request, a refusal or "more to come";
//! a parsed path is always part of the input and starts with '/'.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lookout::admin::http::{parse, response, Head};

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Head::Request { head_only, path } => {
            assert!(path.starts_with('/'));
            let text = String::from_utf8_lossy(data);
            assert!(text.contains(path));
            let r = response("200 OK", "text/plain", path.as_bytes(), head_only);
            assert!(r.starts_with(b"HTTP/1.0 200 OK\r\n"));
        }
        Head::Incomplete | Head::MethodNotAllowed | Head::Bad => {}
    }
});
