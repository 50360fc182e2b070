//! Pixel checks on synthetic frames: the box edges carry the class colour, the inside and the
//! outside keep the frame's, the label sits on its background above the box.

use super::*;

const GREY: [u8; 3] = [90, 90, 90];

fn frame(w: u32, h: u32) -> RgbImage {
    RgbImage::from_pixel(w, h, image::Rgb(GREY))
}

fn person(bbox: [f32; 4]) -> Annotation {
    Annotation {
        bbox,
        class_id: 0,
        class: "person".into(),
        score: 0.87,
        track_id: None,
    }
}

fn at(img: &RgbImage, x: u32, y: u32) -> [u8; 3] {
    img.get_pixel(x, y).0
}

#[test]
fn box_edges_have_the_class_colour_and_the_rest_is_untouched() {
    let mut img = frame(640, 480);
    draw(&mut img, &[person([100.0, 150.0, 300.0, 400.0])]);
    let red = class_colour(0);
    for (x, y) in [
        (100, 250),
        (300, 250),
        (200, 150),
        (200, 400),
        (100, 150),
        (300, 400),
    ] {
        assert_eq!(at(&img, x, y), red, "edge pixel ({x}, {y})");
    }
    for (x, y) in [
        (200, 275),
        (110, 160),
        (290, 390),
        (50, 300),
        (400, 300),
        (200, 420),
    ] {
        assert_eq!(at(&img, x, y), GREY, "pixel ({x}, {y}) off the box");
    }
}

#[test]
fn the_label_sits_on_a_filled_background_above_the_box() {
    let mut img = frame(640, 480);
    let a = person([100.0, 150.0, 300.0, 400.0]);
    draw(&mut img, std::slice::from_ref(&a));
    let (thickness, scale) = scale_for(640, 480);
    let (tw, th) = text_size(&a.text(), scale);
    let pad = thickness.max(scale);
    let bg = class_colour(0);
    // The padding rows just above the box are background, across the label's width.
    for x in [100, 100 + tw / 2, 100 + tw + 2 * pad - 1] {
        assert_eq!(at(&img, x, 149), bg, "label background at ({x}, 149)");
    }
    // The text is drawn in the contrasting colour inside the label.
    let label_top = 150 - (th + 2 * pad);
    let text_pixels = (label_top..150)
        .flat_map(|y| (100..100 + tw + 2 * pad).map(move |x| (x, y)))
        .filter(|&(x, y)| at(&img, x, y) == text_colour(bg))
        .count();
    assert!(text_pixels > 20, "{text_pixels} text pixels");
    // Nothing beyond the label's extent.
    assert_eq!(at(&img, 100, label_top - 1), GREY);
    assert_eq!(at(&img, 100 + tw + 2 * pad, 140), GREY);
}

#[test]
fn line_width_and_text_grow_with_the_image() {
    let (small_t, small_s) = scale_for(320, 240);
    let (big_t, big_s) = scale_for(3840, 2160);
    assert_eq!((small_t, small_s), (1, 1));
    assert!(big_t >= 8 && big_s >= 10, "{big_t} {big_s}");

    let mut img = frame(3840, 2160);
    draw(&mut img, &[person([1000.0, 1000.0, 2000.0, 2000.0])]);
    let red = class_colour(0);
    assert_eq!(
        at(&img, 1000 + big_t - 1, 1500),
        red,
        "inside the line width"
    );
    assert_eq!(
        at(&img, 1000 + big_t, 1500),
        GREY,
        "just past the line width"
    );
    // The label is as tall as the scaled font plus padding.
    let pad = big_t.max(big_s);
    assert_eq!(at(&img, 1001, 1000 - 8 * big_s - 2 * pad), red);
    assert_eq!(at(&img, 1001, 1000 - 8 * big_s - 2 * pad - 1), GREY);
}

#[test]
fn a_box_at_the_top_gets_its_label_inside_and_tracks_show_their_id() {
    let mut img = frame(320, 240);
    let mut a = person([10.0, 0.0, 200.0, 100.0]);
    a.track_id = Some(7);
    a.class_id = 2;
    assert_eq!(a.text(), "#7 person 0.87");
    draw(&mut img, &[a]);
    let colour = class_colour(2);
    assert_ne!(colour, class_colour(0), "classes differ in colour");
    // Just under the top edge (the label's top padding row): its background, inside the box.
    assert_eq!(at(&img, 15, 1), colour);
    assert_eq!(at(&img, 100, 50), GREY);
}

#[test]
fn boxes_outside_the_image_or_not_finite_are_clipped_or_skipped() {
    let mut img = frame(100, 80);
    draw(
        &mut img,
        &[
            person([-50.0, -50.0, 500.0, 500.0]),
            person([f32::NAN, 0.0, 10.0, 10.0]),
        ],
    );
    assert_eq!(at(&img, 0, 40), class_colour(0), "clipped to the left edge");
    assert_eq!(
        at(&img, 99, 40),
        class_colour(0),
        "clipped to the right edge"
    );
    assert_eq!(at(&img, 50, 60), GREY);
}

#[test]
fn jpeg_and_png_decode_to_the_same_size() {
    let mut img = frame(64, 48);
    draw(&mut img, &[person([5.0, 20.0, 40.0, 40.0])]);
    for format in [Format::Jpeg { quality: 80 }, Format::Png] {
        let bytes = encode(&img, format).expect("encodes");
        let back = image::load_from_memory(&bytes).expect("decodes").to_rgb8();
        assert_eq!(back.dimensions(), (64, 48), "{format:?}");
        if format == Format::Png {
            assert_eq!(back, img, "PNG is lossless");
        }
    }
    assert_eq!(Format::for_path("a/b.PNG".as_ref()), Format::Png);
    assert_eq!(
        Format::for_path("a/b.jpg".as_ref()),
        Format::Jpeg { quality: 90 }
    );
}
