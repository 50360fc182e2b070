//! Raw network outputs → candidate boxes in network-input pixels. One implementation per decoder
//! family; the pipeline only sees [`Decoder`].

use super::spec::{DecoderSpec, Family};
use super::Detection;
use crate::error::{Error, Result};

/// One output tensor, as the engine produced it.
pub struct OutputView<'a> {
    pub shape: &'a [usize],
    pub data: &'a [f32],
}

pub trait Decoder: Send {
    /// Output names this decoder reads, in the order `decode` expects them.
    fn output_names(&self) -> Vec<String>;
    /// Appends every candidate whose best class score exceeds `score_threshold` to `out`, with boxes
    /// in input pixels (not clipped, not suppressed).
    fn decode(
        &self,
        outputs: &[OutputView<'_>],
        input_w: u32,
        input_h: u32,
        score_threshold: f32,
        out: &mut Vec<Detection>,
    ) -> Result<()>;
}

pub fn decoder_for(spec: &DecoderSpec) -> Box<dyn Decoder> {
    match spec.family {
        Family::NanoDetGfl => Box::new(NanoDetGfl {
            strides: spec.strides.clone(),
            bins: spec.reg_max as usize + 1,
            scores_output: spec.scores_output.clone(),
            boxes_output: spec.boxes_output.clone(),
        }),
    }
}

/// NanoDet / GFL head: per-anchor class scores (already sigmoided) and, per side, a distribution
/// over `reg_max + 1` distance bins whose expectation times the stride is the distance.
pub struct NanoDetGfl {
    strides: Vec<u32>,
    bins: usize,
    scores_output: String,
    boxes_output: String,
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
    fn output_names(&self) -> Vec<String> {
        vec![self.scores_output.clone(), self.boxes_output.clone()]
    }

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
        let anchors: usize = self
            .strides
            .iter()
            .map(|&s| (input_w / s) as usize * (input_h / s) as usize)
            .sum();
        let classes = *scores.shape.last().unwrap_or(&0);
        let per_box = 4 * self.bins;
        if classes == 0
            || scores.data.len() != anchors * classes
            || boxes.data.len() != anchors * per_box
        {
            return Err(Error::Inference(format!(
                "output shapes {:?} and {:?} do not fit {anchors} anchors at {input_w}x{input_h} with \
                 strides {:?} and {} bins; is the manifest's decoder right for this model?",
                scores.shape, boxes.shape, self.strides, self.bins
            )));
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
            scores_output: "s".into(),
            boxes_output: "b".into(),
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
            scores_output: "s".into(),
            boxes_output: "b".into(),
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
            scores_output: "s".into(),
            boxes_output: "b".into(),
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
