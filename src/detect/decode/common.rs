//! What the decoders share: the shape error, anchor-grid cells, argmax, the keep test and the
//! centre-to-corners box.

use crate::detect::engine::api::OutputView;
use crate::error::{Error, Result};

/// The error for outputs a decoder cannot read: what it got, what it expected.
pub(crate) fn shape_error(family: &str, outputs: &[OutputView<'_>], expected: &str) -> Error {
    let got: Vec<String> = outputs.iter().map(|o| format!("{:?}", o.shape)).collect();
    Error::Inference(format!(
        "{family} cannot read outputs {}: expected {expected}; is this the right family for the \
         model (--family, or [decoder] family in its manifest)?",
        got.join(", ")
    ))
}

/// Anchor cells of a `w`×`h` input over the grids at `strides`. A zero stride (a spec that
/// skipped validation; found by the `decoders` fuzz target) is an error, not a division by zero.
pub(crate) fn grid_cells(family: &str, strides: &[u32], w: u32, h: u32) -> Result<usize> {
    strides.iter().try_fold(0usize, |sum, &s| {
        match (w.checked_div(s), h.checked_div(s)) {
            (Some(gw), Some(gh)) => Ok(sum + gw as usize * gh as usize),
            _ => Err(Error::Inference(format!(
                "{family}: strides {strides:?} include 0; decoder.strides must be positive"
            ))),
        }
    })
}

/// Index and value of the largest of `row` (the first on ties); NaN never wins.
#[inline]
pub(crate) fn argmax(row: impl Iterator<Item = f32>) -> (usize, f32) {
    let (mut best_i, mut best) = (0usize, f32::NEG_INFINITY);
    for (i, v) in row.enumerate() {
        if v > best {
            (best_i, best) = (i, v);
        }
    }
    (best_i, best)
}

/// Whether a candidate with this score and box is kept: finite, above the threshold (NaN fails).
#[inline]
pub(crate) fn keep(score: f32, threshold: f32, bbox: &[f32; 4]) -> bool {
    score > threshold && score.is_finite() && bbox.iter().all(|v| v.is_finite())
}

/// The (x1, y1, x2, y2) box of a centre and size.
#[inline]
pub(crate) fn from_centre(cx: f32, cy: f32, w: f32, h: f32) -> [f32; 4] {
    [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;
    use crate::detect::decode::decoder::Decoder;
    use crate::detect::detection::Detection;

    /// Runs `dec` on owned outputs (shape, data) at `w`×`h` with threshold 0.25.
    pub fn run(
        dec: &dyn Decoder,
        outputs: &[(Vec<usize>, Vec<f32>)],
        w: u32,
        h: u32,
    ) -> Result<Vec<Detection>> {
        let views: Vec<OutputView<'_>> = outputs
            .iter()
            .map(|(s, d)| OutputView { shape: s, data: d })
            .collect();
        let mut out = Vec::new();
        dec.decode(&views, w, h, 0.25, &mut out)?;
        Ok(out)
    }

    pub fn close(a: &[f32; 4], b: [f32; 4]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-3)
    }
}
