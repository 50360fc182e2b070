//! Model manifests: TOML → `Manifest`, and its class list.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = std::path::Path::new("/nonexistent/model.toml");
        if let Ok(m) = lookout::detect::manifest::Manifest::parse(text, path) {
            let _ = m.classes();
        }
    }
});
