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
        .args([
            "deny",
            "--offline",
            "--all-features",
            "--config",
            ".ci/deny.toml",
        ])
        .args(["check", "--show-stats", "licenses", "bans"])
        .output()
        .expect("cargo deny runs");
    // cargo-deny writes its report to stderr or stdout depending on where it runs: read both.
    let stderr = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.status.success(),
        "cargo deny check licenses bans failed:\n{stderr}"
    );
    // The check did look at the dependency graph, not at nothing: one note per licensed crate.
    let notes: u32 = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("licenses ok: 0 errors, "))
        .and_then(|rest| rest.split(", ").nth(1))
        .and_then(|n| n.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no licence statistics in: {stderr}"));
    assert!(notes > 100, "only {notes} crates checked: {stderr}");
}
