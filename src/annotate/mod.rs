//! Detections drawn on a frame: a box per object in its class's colour, and a label (class, score,
//! track id where there is one) on a filled background above it. Line width and text size grow
//! with the image, so the picture reads the same at 320×240 and at 4K. Used by `detect
//! --annotate` and by the camera snapshots (admin endpoint, MQTT).

mod font;

use image::RgbImage;

pub use font::text_size;

/// One object to draw, in frame pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// `[x1, y1, x2, y2]`.
    pub bbox: [f32; 4],
    pub class_id: usize,
    pub class: String,
    pub score: f32,
    /// With tracking.
    pub track_id: Option<u64>,
}

impl Annotation {
    /// `person 0.87` or, tracked, `#12 person 0.87`.
    pub fn text(&self) -> String {
        match self.track_id {
            Some(id) => format!("#{id} {} {:.2}", self.class, self.score),
            None => format!("{} {:.2}", self.class, self.score),
        }
    }
}

/// Box line width and text scale (pixels per font pixel) for an image: one step per 240 pixels
/// of its short side, at least 1.
pub fn scale_for(width: u32, height: u32) -> (u32, u32) {
    let short = width.min(height);
    let thickness = (short / 240).max(1);
    let text = (short / 200).max(1);
    (thickness, text)
}

/// Distinct colours, one per class id (modulo their number); person, bicycle and car differ
/// clearly.
const PALETTE: [[u8; 3]; 16] = [
    [255, 56, 56],
    [255, 157, 151],
    [255, 112, 31],
    [255, 178, 29],
    [207, 210, 49],
    [72, 249, 10],
    [146, 204, 23],
    [61, 219, 134],
    [26, 147, 52],
    [0, 212, 187],
    [44, 153, 168],
    [0, 194, 255],
    [52, 69, 147],
    [100, 115, 255],
    [0, 24, 236],
    [132, 56, 255],
];

/// The colour of a class's boxes and label backgrounds.
pub fn class_colour(class_id: usize) -> [u8; 3] {
    PALETTE[class_id % PALETTE.len()]
}

/// Black or white, whichever reads better on `bg`.
fn text_colour(bg: [u8; 3]) -> [u8; 3] {
    let luma = 0.299 * bg[0] as f32 + 0.587 * bg[1] as f32 + 0.114 * bg[2] as f32;
    if luma > 140.0 {
        [0, 0, 0]
    } else {
        [255, 255, 255]
    }
}

/// Draws every annotation on `img`: boxes first, then labels, so no box hides a label.
pub fn draw(img: &mut RgbImage, annotations: &[Annotation]) {
    let (thickness, text_scale) = scale_for(img.width(), img.height());
    for a in annotations {
        draw_box(img, a.bbox, thickness, class_colour(a.class_id));
    }
    for a in annotations {
        draw_label(img, a, thickness, text_scale);
    }
}

/// A box's pixel rectangle (inclusive corners), clamped to the image; None when it is outside.
fn pixel_rect(img: &RgbImage, bbox: [f32; 4]) -> Option<(u32, u32, u32, u32)> {
    let (w, h) = (img.width() as f32, img.height() as f32);
    if img.width() == 0 || img.height() == 0 || bbox.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let x0 = bbox[0].min(bbox[2]).round().clamp(0.0, w - 1.0);
    let x1 = bbox[0].max(bbox[2]).round().clamp(0.0, w - 1.0);
    let y0 = bbox[1].min(bbox[3]).round().clamp(0.0, h - 1.0);
    let y1 = bbox[1].max(bbox[3]).round().clamp(0.0, h - 1.0);
    Some((x0 as u32, y0 as u32, x1 as u32, y1 as u32))
}

/// Fills the rectangle `[x0, x1) × [y0, y1)`, clipped to the image.
fn fill(img: &mut RgbImage, (x0, y0, x1, y1): (u32, u32, u32, u32), colour: [u8; 3]) {
    for y in y0..y1.min(img.height()) {
        for x in x0..x1.min(img.width()) {
            img.put_pixel(x, y, image::Rgb(colour));
        }
    }
}

/// The box's outline, `thickness` pixels wide, from its edge inwards.
fn draw_box(img: &mut RgbImage, bbox: [f32; 4], thickness: u32, colour: [u8; 3]) {
    let Some((x0, y0, x1, y1)) = pixel_rect(img, bbox) else {
        return;
    };
    let t = thickness;
    fill(img, (x0, y0, x1 + 1, (y0 + t).min(y1 + 1)), colour); // top
    fill(
        img,
        (x0, (y1 + 1).saturating_sub(t).max(y0), x1 + 1, y1 + 1),
        colour,
    ); // bottom
    fill(img, (x0, y0, (x0 + t).min(x1 + 1), y1 + 1), colour); // left
    fill(
        img,
        ((x1 + 1).saturating_sub(t).max(x0), y0, x1 + 1, y1 + 1),
        colour,
    ); // right
}

/// The label on a filled background in the class's colour: above the box's top-left corner, or
/// just inside the box when there is no room above; moved left to stay in the image.
fn draw_label(img: &mut RgbImage, a: &Annotation, thickness: u32, scale: u32) {
    let Some((x0, y0, _, _)) = pixel_rect(img, a.bbox) else {
        return;
    };
    let text = a.text();
    let (tw, th) = text_size(&text, scale);
    let pad = thickness.max(scale);
    let (lw, lh) = (tw + 2 * pad, th + 2 * pad);
    let top = if y0 >= lh { y0 - lh } else { y0 + thickness };
    let left = x0.min(img.width().saturating_sub(lw));
    let bg = class_colour(a.class_id);
    fill(img, (left, top, left + lw, top + lh), bg);
    font::draw_text(img, left + pad, top + pad, &text, scale, text_colour(bg));
}

/// How an annotated picture is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg { quality: u8 },
    Png,
}

impl Format {
    /// PNG for a `.png` name, JPEG (quality 90) otherwise.
    pub fn for_path(path: &std::path::Path) -> Format {
        let png = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        if png {
            Format::Png
        } else {
            Format::Jpeg { quality: 90 }
        }
    }
}

/// The image encoded as `format`.
pub fn encode(img: &RgbImage, format: Format) -> Result<Vec<u8>, image::ImageError> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    let (w, h) = img.dimensions();
    match format {
        Format::Jpeg { quality } => {
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
                .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)?
        }
        Format::Png => image::codecs::png::PngEncoder::new(&mut out).write_image(
            img.as_raw(),
            w,
            h,
            image::ExtendedColorType::Rgb8,
        )?,
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
