//! Broker URLs and the redaction of passwords in any text: parsing never panics, redaction is
//! idempotent, and a parsed URL with a password is shown as the parser split it, the password
//! replaced by `***`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lookout::publish::mqtt::{redacted, BrokerUrl};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let once = lookout::redact::text(text).into_owned();
    assert_eq!(
        lookout::redact::text(&once),
        once,
        "redaction is idempotent"
    );
    match BrokerUrl::parse(text) {
        Ok(u) => {
            // What is shown is exactly the URL as the parser split it, the password replaced.
            if u.password.is_some() {
                let (prefix, rest) = match text.split_once("://") {
                    Some((scheme, rest)) => (format!("{scheme}://"), rest),
                    None => (String::new(), text),
                };
                let (creds, host) = rest.rsplit_once('@').expect("a password needs user info");
                let (user, _) = creds.split_once(':').expect("a password follows a ':'");
                assert_eq!(redacted(text), format!("{prefix}{user}:***@{host}"));
            }
        }
        Err(e) => assert!(!e.is_empty()),
    }
});
