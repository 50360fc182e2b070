//! Text in the public-domain 8×8 bitmap font (`font8x8`), each font pixel drawn as a
//! `scale`×`scale` square: crisp at any size, no font file, no system library.

use font8x8::legacy::BASIC_LEGACY;
use image::RgbImage;

/// Width and height in pixels of `text` at `scale`.
pub fn text_size(text: &str, scale: u32) -> (u32, u32) {
    (text.chars().count() as u32 * 8 * scale, 8 * scale)
}

/// The glyph of `c`; `?` for anything outside ASCII.
fn glyph(c: char) -> [u8; 8] {
    let i = if c.is_ascii() {
        c as usize
    } else {
        '?' as usize
    };
    BASIC_LEGACY[i]
}

/// Draws `text` with its top-left corner at (x, y), clipped to the image.
pub fn draw_text(img: &mut RgbImage, x: u32, y: u32, text: &str, scale: u32, colour: [u8; 3]) {
    let (w, h) = img.dimensions();
    for (i, c) in text.chars().enumerate() {
        let gx = x + i as u32 * 8 * scale;
        for (row, bits) in glyph(c).iter().enumerate() {
            for col in 0..8u32 {
                // Bit 0 is the leftmost pixel of the row.
                if bits >> col & 1 == 0 {
                    continue;
                }
                let (px, py) = (gx + col * scale, y + row as u32 * scale);
                for dy in 0..scale {
                    for dx in 0..scale {
                        if px + dx < w && py + dy < h {
                            img.put_pixel(px + dx, py + dy, image::Rgb(colour));
                        }
                    }
                }
            }
        }
    }
}
