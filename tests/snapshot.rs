//! Camera snapshots of `lookout run`: the admin endpoint's `/cameras/<name>/snapshot.jpg` and the
//! retained `<camera>/snapshot` on MQTT, with a looping video, the real model and a private
//! Mosquitto. The pictures are decoded and measured against the source's frame size.

mod common;

use std::process::Child;
use std::time::Duration;

use common::*;

/// vtest.avi's frame size.
const VTEST_SIZE: (u32, u32) = (768, 576);

/// A running `lookout run`, killed at the end of the test whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GET `path` from the admin endpoint: (status code, content type, body bytes).
fn http_get(port: u16, path: &str) -> Option<(u16, String, Vec<u8>)> {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(conn, "GET {path} HTTP/1.0\r\n\r\n").ok()?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    let ctype = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap_or("")
        .to_string();
    Some((code, ctype, raw[split + 4..].to_vec()))
}

fn decoded_size(jpeg: &[u8]) -> (u32, u32) {
    let format = image::guess_format(jpeg).expect("a picture");
    assert_eq!(format, image::ImageFormat::Jpeg);
    let img = image::load_from_memory(jpeg).expect("decodes");
    (img.width(), img.height())
}

#[test]
fn a_camera_snapshot_is_served_over_http_and_retained_on_mqtt() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tmp");
    let device = unique("pics");
    let admin_port = free_port();
    let config = dir.path().join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            "[detector]\nmodel = \"{}\"\n\n[mqtt]\nurl = \"{}\"\ndevice = \"{device}\"\n\n\
             [admin]\nlisten = \"127.0.0.1:{admin_port}\"\n\n\
             [snapshots]\nmqtt_interval_s = 0.5\njpeg_quality = 70\n\n\
             [[cameras]]\nname = \"street\"\nsource = \"{}\"\nloop = true\n",
            path_str(&model("fp32")),
            broker.url(),
            path_str(&data("vtest.avi"))
        ),
    )
    .expect("write config");
    lookout()
        .arg("check-config")
        .arg(&config)
        .finish()
        .success();
    let topic = format!("lookout/{device}/street/snapshot");
    let live = Subscriber::new(broker.port, &topic);
    let _run = Running(lookout().args(["run", "--config"]).arg(&config).start());

    // MQTT: a JPEG of the camera's frame size.
    let (jpeg, _) = live
        .next_on(&topic, Duration::from_secs(90))
        .expect("a snapshot on MQTT within 90 s");
    assert_eq!(decoded_size(&jpeg), VTEST_SIZE);
    // Retained: a subscriber that comes later gets it at once, flagged as retained.
    let late = Subscriber::new(broker.port, &topic);
    let (jpeg, retained) = late
        .next_on(&topic, Duration::from_secs(10))
        .expect("the retained snapshot");
    assert!(retained, "the snapshot is retained");
    assert_eq!(decoded_size(&jpeg), VTEST_SIZE);

    // HTTP: the same camera's latest frame (frames are processed by now, so no 503).
    assert!(wait_for_port(admin_port, Duration::from_secs(10)));
    let (code, ctype, body) =
        http_get(admin_port, "/cameras/street/snapshot.jpg").expect("an answer");
    assert_eq!(
        (code, ctype.as_str()),
        (200, "image/jpeg"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(decoded_size(&body), VTEST_SIZE);
    let (code, _, body) = http_get(admin_port, "/cameras/nope/snapshot.jpg").expect("an answer");
    assert_eq!(code, 404);
    assert!(String::from_utf8_lossy(&body).contains("no camera named 'nope'"));
    // The endpoint's other pages still answer.
    assert_eq!(http_get(admin_port, "/live").map(|r| r.0), Some(200));
}
