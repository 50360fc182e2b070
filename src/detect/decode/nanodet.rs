//! NanoDet / GFL head decoder.

use super::common::shape_error;
use super::decoder::Decoder;
use crate::detect::detection::Detection;
use crate::detect::engine::api::OutputView;
use crate::error::{Error, Result};

/// NanoDet / GFL head: per-anchor class scores (already sigmoided) and, per side, a distribution
/// over `reg_max + 1` distance bins whose expectation times the stride is the distance.
pub struct NanoDetGfl {
    pub strides: Vec<u32>,
    pub bins: usize,
}

impl NanoDetGfl {
    /// Expected distance of one side: softmax over the bins, then Σ p_i · i.
    fn side(&self, logits: &[f32]) -> f32 {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let (mut sum, mut weighted) = (0.0f32, 0.0f32);
        for (i, &l) in logits.iter().enumerate() {
            let e = (l - max).exp();
            sum += e;
            weighted += e * i as f32;
        }
        weighted / sum
    }
}

impl Decoder for NanoDetGfl {
    fn decode(
        &self,
        outputs: &[OutputView<'_>],
        input_w: u32,
        input_h: u32,
        score_threshold: f32,
        out: &mut Vec<Detection>,
    ) -> Result<()> {
        let [scores, boxes] = outputs else {
            return Err(Error::Inference(format!(
                "nanodet-gfl expects 2 outputs, got {}",
                outputs.len()
            )));
        };
        let anchors = super::common::grid_cells("nanodet-gfl", &self.strides, input_w, input_h)?;
        let classes = *scores.shape.last().unwrap_or(&0);
        let per_box = 4 * self.bins;
        if classes == 0
            || scores.data.len() != anchors * classes
            || boxes.data.len() != anchors * per_box
        {
            return Err(shape_error(
                "nanodet-gfl",
                outputs,
                &format!(
                    "{anchors} anchors at {input_w}x{input_h} with strides {:?} and {} bins",
                    self.strides, self.bins
                ),
            ));
        }
        let mut anchor = 0usize;
        for &stride in &self.strides {
            let gw = (input_w / stride) as usize;
            let gh = (input_h / stride) as usize;
            let s = stride as f32;
            for i in 0..gw * gh {
                let row = &scores.data[(anchor + i) * classes..][..classes];
                // argmax over every class (as the reference does), thresholded
                let (mut best, mut class_id) = (row[0], 0usize);
                for (c, &v) in row.iter().enumerate().skip(1) {
                    if v > best {
                        best = v;
                        class_id = c;
                    }
                }
                // Written so that NaN fails it: a broken model's NaN scores are no detections.
                if !(best > score_threshold && best.is_finite()) {
                    continue;
                }
                let reg = &boxes.data[(anchor + i) * per_box..][..per_box];
                let cx = ((i % gw) as f32 + 0.5) * s;
                let cy = ((i / gw) as f32 + 0.5) * s;
                let d: [f32; 4] =
                    std::array::from_fn(|k| self.side(&reg[k * self.bins..][..self.bins]) * s);
                if !d.iter().all(|v| v.is_finite()) {
                    continue;
                }
                out.push(Detection {
                    class_id,
                    score: best,
                    bbox: [cx - d[0], cy - d[1], cx + d[2], cy + d[3]],
                });
            }
            anchor += gw * gh;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_bins_decode_to_exact_distances() {
        let dec = NanoDetGfl {
            strides: vec![32],
            bins: 11,
        };
        // 64x32 input at stride 32: 2 anchors, 3 classes.
        let scores = [0.1, 0.2, 0.1, /* anchor 1 */ 0.1, 0.1, 0.9];
        let mut boxes = vec![-50.0f32; 2 * 44];
        for (side, bin) in [(0, 1), (1, 2), (2, 3), (3, 4)] {
            boxes[44 + side * 11 + bin] = 50.0; // anchor 1 only
        }
        let mut out = Vec::new();
        dec.decode(
            &[
                OutputView {
                    shape: &[1, 2, 3],
                    data: &scores,
                },
                OutputView {
                    shape: &[1, 2, 44],
                    data: &boxes,
                },
            ],
            64,
            32,
            0.35,
            &mut out,
        )
        .expect("decodes");
        assert_eq!(out.len(), 1);
        let d = &out[0];
        assert_eq!((d.class_id, d.score), (2, 0.9));
        // anchor 1: cx = 1.5*32 = 48, cy = 16; distances 32, 64, 96, 128
        let expect = [48.0 - 32.0, 16.0 - 64.0, 48.0 + 96.0, 16.0 + 128.0];
        for (g, e) in d.bbox.iter().zip(expect) {
            assert!((g - e).abs() < 1e-3, "{:?} vs {:?}", d.bbox, expect);
        }
    }

    #[test]
    fn wrong_shapes_are_an_error_not_a_panic() {
        let dec = NanoDetGfl {
            strides: vec![8],
            bins: 11,
        };
        let r = dec.decode(
            &[
                OutputView {
                    shape: &[1, 1, 3],
                    data: &[0.0; 3],
                },
                OutputView {
                    shape: &[1, 1, 44],
                    data: &[0.0; 44],
                },
            ],
            64,
            64,
            0.3,
            &mut Vec::new(),
        );
        assert!(r.is_err());
    }

    #[test]
    fn non_finite_outputs_are_no_detections() {
        let dec = NanoDetGfl {
            strides: vec![32],
            bins: 11,
        };
        // anchor 0: a NaN score; anchor 1: a good score with NaN box logits.
        let scores = [f32::NAN, 0.9, 0.1, /* anchor 1 */ 0.1, 0.1, 0.9];
        let mut boxes = vec![0.0f32; 2 * 44];
        boxes[44] = f32::NAN;
        let mut out = Vec::new();
        dec.decode(
            &[
                OutputView {
                    shape: &[1, 2, 3],
                    data: &scores,
                },
                OutputView {
                    shape: &[1, 2, 44],
                    data: &boxes,
                },
            ],
            64,
            32,
            0.35,
            &mut out,
        )
        .expect("decodes");
        assert!(out.is_empty(), "{out:?}");
    }
}
