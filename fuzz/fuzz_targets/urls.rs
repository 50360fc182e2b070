//! Broker URLs and the redaction of passwords in any text: parsing never panics, redaction is
//! idempotent, and a parsed URL's password never survives redaction of the URL.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lookout::publish::mqtt::{redacted, BrokerUrl};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let once = lookout::redact::text(text).into_owned();
    assert_eq!(lookout::redact::text(&once), once, "redaction is idempotent");
    match BrokerUrl::parse(text) {
        Ok(u) => {
            let shown = redacted(text);
            if let Some(pw) = u.password.filter(|p| p.len() >= 4 && !"***".contains(p.as_str())) {
                // The password as written in the URL (percent-encoded or not) is gone.
                let raw = text
                    .split_once("://")
                    .and_then(|(_, rest)| rest.rsplit_once('@'))
                    .and_then(|(creds, _)| creds.split_once(':'))
                    .map(|(_, p)| p.to_string());
                // (The user name may hold the same characters: what matters is the user info's
                // password part, `:<password>@`.)
                if let Some(raw) = raw.filter(|r| r.len() >= 4) {
                    let exposed = format!(":{raw}@");
                    assert!(!shown.contains(&exposed), "{shown:?} shows {raw:?} ({pw:?})");
                }
            }
        }
        Err(e) => assert!(!e.is_empty()),
    }
});
