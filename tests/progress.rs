//! `replay`'s progress bar: on a terminal (a pty from `script`) stderr shows frames, fps and the
//! time left; without one there is no trace of it; stdout's JSON lines are the same either way.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

const FRAMES: usize = 12;

/// A JSON line without what differs from run to run (times, latencies).
fn timeless(mut v: Value) -> Value {
    for key in ["captured_at", "latency_ms"] {
        v.as_object_mut().expect("an object").remove(key);
    }
    v
}

/// Single quotes for a `sh -c` word.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn a_bar_on_a_terminal_only_and_the_same_json_lines() {
    let n = FRAMES.to_string();
    let args = [
        "replay",
        "tests/data/vtest.avi",
        "--max-frames",
        &n,
        "--no-track",
    ];
    // stderr is a pipe here: no bar.
    let piped = lookout().args(args).finish().success();
    assert!(!piped.stderr.contains("ETA"), "{}", piped.stderr);
    assert!(
        !piped.stderr.contains('\r') && !piped.stderr.contains('\u{1b}'),
        "{}",
        piped.stderr
    );
    let plain: Vec<Value> = piped.json_lines().into_iter().map(timeless).collect();
    assert_eq!(plain.len(), FRAMES);

    // On a pty (`script` gives the command one), stdout still to a file.
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("out.jsonl");
    let cmd = format!(
        "{} {} > {}",
        sh_quote(env!("CARGO_BIN_EXE_lookout")),
        args.map(sh_quote).join(" "),
        sh_quote(&path_str(&out))
    );
    let tty = Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .current_dir(root())
        .env(
            "TERM",
            std::env::var("TERM").unwrap_or_else(|_| "xterm".into()),
        )
        .output()
        .expect("script (util-linux) runs");
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{screen}");
    let bar = format!("/{FRAMES} frames");
    assert!(screen.contains(&bar), "no progress line in {screen:?}");
    assert!(
        screen.contains(" fps") && screen.contains("ETA"),
        "{screen:?}"
    );
    assert!(
        screen.contains("replay: "),
        "the summary follows the bar: {screen:?}"
    );
    let text = std::fs::read_to_string(&out).expect("stdout file");
    let on_tty: Vec<Value> = text
        .lines()
        .map(|l| timeless(serde_json::from_str(l).expect("a JSON line")))
        .collect();
    assert_eq!(on_tty, plain);
}
