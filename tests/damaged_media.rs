//! Damaged input is processed as far as it can be, said, and counted (#17 probe defects 4, 6, 12):
//! an undecodable image in a folder is skipped (replay exits 3; `run` goes on and counts it);
//! a truncated or corrupt video gives its decodable frames and a warning (exit 3); a video
//! declaring a frame size over the limit is refused before ffmpeg decodes anything.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// A folder with two good images and two that cannot be decoded.
fn folder_with_bad_images(dir: &std::path::Path) -> std::path::PathBuf {
    let folder = dir.join("images");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::copy(data("bus.jpg"), folder.join("a-bus.jpg")).expect("copy");
    std::fs::write(
        folder.join("b-broken.jpg"),
        b"\xff\xd8\xff\xe0 not really a jpeg",
    )
    .expect("write");
    std::fs::write(folder.join("c-broken.png"), b"\x89PNG\r\n\x1a\n garbage").expect("write");
    std::fs::copy(data("dog.jpg"), folder.join("d-dog.jpg")).expect("copy");
    folder
}

#[test]
fn replay_skips_undecodable_images_and_exits_3() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = folder_with_bad_images(dir.path());
    let out = run_lookout(["replay".as_ref(), folder.as_os_str()]);
    assert_eq!(out.code(), Some(3), "{}", out.stderr);
    let frames = out.json_lines();
    assert_eq!(frames.len(), 2, "the two good images: {}", out.stdout);
    assert!(
        out.stderr.contains("b-broken.jpg") && out.stderr.contains("c-broken.png"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("2 image(s) could not be decoded"),
        "{}",
        out.stderr
    );

    // Nothing readable at all is an error, not an empty success.
    let none = dir.path().join("none");
    std::fs::create_dir_all(&none).expect("mkdir");
    std::fs::write(none.join("x.jpg"), b"nope").expect("write");
    let out = run_lookout(["replay".as_ref(), none.as_os_str()]);
    assert_eq!(out.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("none of the 1 images can be read"),
        "{}",
        out.stderr
    );
}

#[test]
fn truncated_and_corrupt_videos_give_their_frames_and_exit_3() {
    let dir = tempfile::tempdir().expect("tmp");
    let whole = std::fs::read(data("vtest.avi")).expect("vtest.avi");
    let truncated = dir.path().join("truncated.avi");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).expect("write");
    // Bytes overwritten in a quarter of the file: the decoder reports damaged blocks.
    let mut damaged = whole.clone();
    let mut x: u32 = 12345;
    for k in 0..40 {
        let at = whole.len() / 4 + k * 20_000;
        for b in &mut damaged[at..at + 2000] {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            *b = (x >> 16) as u8;
        }
    }
    let corrupt = dir.path().join("corrupt.avi");
    std::fs::write(&corrupt, &damaged).expect("write");
    for video in [&truncated, &corrupt] {
        let out = run_lookout([
            "replay".as_ref(),
            video.as_os_str(),
            "--quiet".as_ref(),
            "--no-track".as_ref(),
            "--max-frames".as_ref(),
            "400".as_ref(),
        ]);
        assert_eq!(out.code(), Some(3), "{}: {}", video.display(), out.stderr);
        assert!(
            out.stderr.contains("the video is damaged or truncated"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("replay: "),
            "the summary is printed: {}",
            out.stderr
        );
    }
    // The intact file is not flagged.
    let out = run_lookout([
        "replay".as_ref(),
        data("vtest.avi").as_os_str(),
        "--quiet".as_ref(),
        "--no-track".as_ref(),
        "--max-frames".as_ref(),
        "20".as_ref(),
    ]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    assert!(!out.stderr.contains("damaged"), "{}", out.stderr);
}

/// A few KB declaring 9000×9000 frames (81 MP, 243 MB each as RGB): refused from ffprobe's answer.
#[test]
fn a_video_declaring_huge_frames_is_refused_before_decoding() {
    let dir = tempfile::tempdir().expect("tmp");
    let video = dir.path().join("bomb.y4m");
    let mut bytes = b"YUV4MPEG2 W9000 H9000 F10:1 Ip A1:1 C420jpeg\nFRAME\n".to_vec();
    bytes.extend(std::iter::repeat_n(0u8, 4096));
    std::fs::write(&video, bytes).expect("write");
    let out = run_lookout(["replay".as_ref(), video.as_os_str()]);
    assert_eq!(out.code(), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("9000x9000"), "{}", out.stderr);
    assert!(
        out.stderr.contains("over lookout's limit"),
        "{}",
        out.stderr
    );
}

/// `run` with a folder camera: the bad images are skipped and counted, and the camera goes on
/// (it used to restart from the first image for ever, re-publishing it as seq 0).
#[test]
fn run_skips_bad_images_counts_them_and_goes_on() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = folder_with_bad_images(dir.path());
    let device = unique("damaged");
    let admin = free_port();
    let config = dir.path().join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            "[detector]\nmodel = \"{}\"\n\n[mqtt]\nurl = \"mqtt://127.0.0.1:1883\"\ndevice = \"{device}\"\n\n\
             [admin]\nlisten = \"127.0.0.1:{admin}\"\n\n[[cameras]]\nname = \"stills\"\nsource = \"{}\"\nloop = true\n",
            path_str(&model("fp32")),
            path_str(&folder)
        ),
    )
    .expect("write config");
    let sub = Subscriber::new(1883, &format!("lookout/{device}/stills/detections"));
    let child = lookout().args(["run", "--config"]).arg(&config).start();
    // Six frames: each good image three times, in a row of sequence numbers that never restarts.
    let mut seqs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while seqs.len() < 6 && Instant::now() < deadline {
        if let Some((payload, _)) = sub.next_on(
            &format!("lookout/{device}/stills/detections"),
            Duration::from_secs(5),
        ) {
            let v: serde_json::Value = serde_json::from_slice(&payload).expect("JSON");
            seqs.push(v["seq"].as_u64().expect("seq"));
        }
    }
    let metrics = metrics_until(admin, Duration::from_secs(10), |m| {
        metric(m, "lookout_source_skipped_total{camera=\"stills\"}").is_some_and(|n| n >= 2.0)
    });
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let log = wait_success(child);
    assert_eq!(seqs, [0, 1, 2, 3, 4, 5], "{log}");
    let skipped = metric(&metrics, "lookout_source_skipped_total{camera=\"stills\"}");
    assert!(skipped.is_some_and(|n| n >= 2.0), "{metrics}");
    assert!(
        !log.contains("restarting"),
        "the camera was not restarted: {log}"
    );
}
