//! The config file: TOML → validated `Config`, with located errors. Never a panic, whatever the text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ =
            lookout::config::Config::parse(text, std::path::Path::new("/nonexistent/fuzz.toml"));
    }
});
