//! A phone recording is coded sideways with a rotation in its display matrix; players, OpenCV and
//! Ultralytics show it upright, and so must lookout (#29 item 1): frames the right way up, the
//! message's `width`/`height` those of the upright frame, the same detections as the upright
//! original.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Runs ffmpeg with these arguments (quietly), failing the test on an error.
fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs (.ci/setup.sh installs it)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn replay(video: &Path) -> Vec<serde_json::Value> {
    run_lookout(["replay".as_ref(), video.as_os_str(), "--no-track".as_ref()])
        .success()
        .json_lines()
}

#[test]
fn a_rotated_phone_recording_is_processed_upright() {
    let dir = tempfile::tempdir().expect("tmp");
    let (upright, sideways, phone) = (
        dir.path().join("upright.mp4"),
        dir.path().join("sideways.mp4"),
        dir.path().join("phone.mp4"),
    );
    let lossless = ["-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p"];
    let vtest = data("vtest.avi");
    let mut first_frames = vec!["-i", vtest.to_str().expect("utf-8 path"), "-frames:v", "3"];
    first_frames.extend(lossless);
    first_frames.push(upright.to_str().expect("utf-8 path"));
    ffmpeg(&first_frames);
    // Coded turned a quarter clockwise, as a phone held sideways records it...
    let mut turn = vec![
        "-i",
        upright.to_str().expect("utf-8 path"),
        "-vf",
        "transpose=1",
    ];
    turn.extend(lossless);
    turn.push(sideways.to_str().expect("utf-8 path"));
    ffmpeg(&turn);
    // ...and a display matrix that turns it back.
    ffmpeg(&[
        "-i",
        sideways.to_str().expect("utf-8 path"),
        "-c",
        "copy",
        "-metadata:s:v",
        "rotate=90",
        phone.to_str().expect("utf-8 path"),
    ]);

    let want = replay(&upright);
    let got = replay(&phone);
    assert_eq!(got.len(), 3, "every frame");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((&g["width"], &g["height"]), (&w["width"], &w["height"]));
        assert_eq!(
            (g["width"].as_u64(), g["height"].as_u64()),
            (Some(768), Some(576))
        );
        assert!(
            !w["objects"].as_array().expect("objects").is_empty(),
            "the street has people in it"
        );
        assert_eq!(g["objects"], w["objects"], "frame {}", g["seq"]);
    }
}
