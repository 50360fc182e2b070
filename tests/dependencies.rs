//! #17 dependency hygiene: `cargo deny check licenses bans` with `.ci/deny.toml` (the licences
//! lookout's dependencies may carry, the crates it must not pull in). Offline: it reads
//! Cargo.lock and the crates cargo has already downloaded. The advisories check needs the RustSec
//! database from GitHub and is a separate step where the network allows it (docs/reliability.md).

use std::path::Path;
use std::process::Command;

#[test]
fn licences_and_bans_pass_cargo_deny() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let installed = Command::new(&cargo)
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        installed,
        "cargo-deny is not installed: .ci/setup.sh installs it (cargo install --locked cargo-deny)"
    );
    let out = Command::new(&cargo)
        .current_dir(root)
        .args(["deny", "--offline", "--all-features", "--config", ".ci/deny.toml"])
        .args(["check", "licenses", "bans"])
        .output()
        .expect("cargo deny runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cargo deny check licenses bans failed:\n{stderr}");
    // The check did look at the dependency graph, not at nothing.
    assert!(stderr.contains("licenses ok"), "{stderr}");
}
