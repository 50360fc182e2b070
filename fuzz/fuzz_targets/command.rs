//! Commands on `<camera>/set`: any payload is a command or a rejection with a reason.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lookout::daemon::control::{command_id, Command};

fuzz_target!(|data: &[u8]| {
    match Command::parse(data) {
        Ok((v, c)) => {
            assert!(c.paused.is_some() || c.score_threshold.is_some());
            if let Some(t) = c.score_threshold {
                assert!((0.0..=1.0).contains(&t));
            }
            let _ = command_id(&v);
        }
        Err((v, why)) => {
            assert!(!why.is_empty());
            let _ = command_id(&v);
        }
    }
});
