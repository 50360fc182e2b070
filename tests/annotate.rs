//! `lookout detect --annotate`: the real model on tests/data, the pictures decoded and checked
//! against the input and the detections printed on stdout.

mod common;

use common::*;
use serde_json::Value;

fn rgb(path: &std::path::Path) -> image::RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

fn boxes(image: &Value) -> Vec<[f64; 4]> {
    image["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| {
            let b = o["box"].as_array().expect("a box");
            [0, 1, 2, 3].map(|i| b[i].as_f64().expect("a number"))
        })
        .collect()
}

/// Points along the four edges of `b`, 1 pixel inside (the line is drawn inwards).
fn edge_points(b: [f64; 4], w: u32, h: u32) -> Vec<(u32, u32)> {
    let clamp = |v: f64, max: u32| (v.round().max(0.0) as u32).min(max - 1);
    let (x0, y0, x1, y1) = (
        clamp(b[0], w),
        clamp(b[1], h),
        clamp(b[2], w),
        clamp(b[3], h),
    );
    let mut pts = Vec::new();
    for i in 1..10 {
        let x = x0 + (x1 - x0) * i / 10;
        let y = y0 + (y1 - y0) * i / 10;
        pts.extend([(x, y0 + 1), (x, y1 - 1), (x0 + 1, y), (x1 - 1, y)]);
    }
    pts
}

fn differs(a: &image::Rgb<u8>, b: &image::Rgb<u8>) -> bool {
    a.0.iter()
        .zip(b.0)
        .map(|(x, y)| (*x as i32 - y as i32).abs())
        .sum::<i32>()
        > 40
}

#[test]
fn one_image_to_a_png_has_its_boxes_drawn_and_nothing_else_changed() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("bus-annotated.png");
    let run = lookout()
        .arg("detect")
        .arg("--annotate")
        .arg(&out)
        .arg(data("bus.jpg"))
        .finish()
        .success();
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1, "stdout is still one JSON object per image");
    let found = boxes(&lines[0]);
    assert!(found.len() >= 3, "bus.jpg has people and a bus: {found:?}");

    let input = rgb(&data("bus.jpg"));
    let drawn = rgb(&out);
    assert_eq!(drawn.dimensions(), input.dimensions());
    for b in &found {
        let pts = edge_points(*b, input.width(), input.height());
        let changed = pts
            .iter()
            .filter(|&&(x, y)| differs(drawn.get_pixel(x, y), input.get_pixel(x, y)))
            .count();
        assert!(
            changed * 10 >= pts.len() * 9,
            "box {b:?}: only {changed} of {} edge pixels drawn",
            pts.len()
        );
    }
    // PNG is lossless: a pixel far from every box (and its label) is the input's, exactly.
    let (w, h) = input.dimensions();
    let clear = (0..h)
        .step_by(7)
        .flat_map(|y| (0..w).step_by(7).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            found.iter().all(|b| {
                let (fx, fy) = (x as f64, y as f64);
                let off_box =
                    fx < b[0] - 10.0 || fx > b[2] + 10.0 || fy < b[1] - 10.0 || fy > b[3] + 10.0;
                // The label: up to ~16 characters of 32 px, above the box (inside at the top),
                // moved left near the right edge.
                let label_left = b[0].min(w as f64 - 540.0) - 10.0;
                let off_label =
                    fx < label_left || fx > b[0] + 540.0 || fy < b[1] - 60.0 || fy > b[1] + 60.0;
                off_box && off_label
            })
        })
        .collect::<Vec<_>>();
    assert!(!clear.is_empty(), "some of the image is far from every box");
    for (x, y) in clear {
        assert_eq!(drawn.get_pixel(x, y), input.get_pixel(x, y), "({x}, {y})");
    }
}

#[test]
fn a_folder_of_images_goes_to_a_folder_of_jpegs_named_after_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).expect("mkdir");
    for name in ["bus.jpg", "zidane.jpg"] {
        std::fs::copy(data(name), inputs.join(name)).expect("copy");
    }
    let out = dir.path().join("annotated");
    let run = lookout()
        .arg("detect")
        .arg("--annotate")
        .arg(&out)
        .arg(&inputs)
        .finish()
        .success();
    assert_eq!(run.json_lines().len(), 2);
    for name in ["bus.jpg", "zidane.jpg"] {
        let written = out.join(name);
        assert_eq!(
            image::guess_format(&std::fs::read(&written).expect("written")).ok(),
            Some(image::ImageFormat::Jpeg)
        );
        assert_eq!(
            rgb(&written).dimensions(),
            rgb(&inputs.join(name)).dimensions(),
            "{name}"
        );
    }
}

#[test]
fn annotate_never_overwrites_an_input_and_one_file_takes_one_image() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("bus.jpg");
    std::fs::copy(data("bus.jpg"), &input).expect("copy");
    let before = std::fs::read(&input).expect("read");
    let run = lookout()
        .arg("detect")
        .arg("--annotate")
        .arg(dir.path())
        .arg(&input)
        .finish();
    assert_eq!(run.code(), Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("would overwrite the input"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&input).expect("read"),
        before,
        "the input is intact"
    );

    let run = lookout()
        .arg("detect")
        .arg("--annotate")
        .arg(dir.path().join("one.jpg"))
        .arg(data("bus.jpg"))
        .arg(data("zidane.jpg"))
        .finish();
    assert!(!run.status.success());
    assert!(run.stderr.contains("name a folder"), "{}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "nothing is detected before the usage error"
    );
}
