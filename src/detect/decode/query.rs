//! Query-style heads that output final boxes in normalised coordinates: RT-DETR (Ultralytics
//! export) and SSD-style exports with separate boxes, scores and classes outputs. No NMS.

use super::common::{argmax, from_centre, keep, shape_error};
use super::decoder::Decoder;
use crate::detect::detection::Detection;
use crate::detect::engine::api::OutputView;
use crate::detect::family::descriptor::BoxOrder;
use crate::error::Result;

/// `[1, K, 4+nc]`: normalised cx, cy, w, h, then sigmoided class scores.
pub struct Rtdetr;

/// boxes `[1, K, 4]` (normalised, `box_order`), scores `[1, K]`, classes `[1, K]`, count `[1]`.
pub struct Ssd {
    pub box_order: BoxOrder,
    pub class_offset: i64,
}

impl Decoder for Rtdetr {
    fn decode(
        &self,
        outputs: &[OutputView<'_>],
        input_w: u32,
        input_h: u32,
        threshold: f32,
        out: &mut Vec<Detection>,
    ) -> Result<()> {
        let [o] = outputs else {
            return Err(shape_error(
                "rtdetr",
                outputs,
                "one output [1, K, 4+classes]",
            ));
        };
        let cols = match o.shape {
            [1, k, c] if *c >= 5 && o.data.len() == k * c => *c,
            _ => return Err(shape_error("rtdetr", outputs, "[1, K, 4+classes]")),
        };
        let (w, h) = (input_w as f32, input_h as f32);
        for r in o.data.chunks_exact(cols) {
            let (class_id, score) = argmax(r[4..].iter().copied());
            let bbox = from_centre(r[0] * w, r[1] * h, r[2] * w, r[3] * h);
            if keep(score, threshold, &bbox) {
                out.push(Detection {
                    class_id,
                    score,
                    bbox,
                });
            }
        }
        Ok(())
    }
}

impl Decoder for Ssd {
    fn decode(
        &self,
        outputs: &[OutputView<'_>],
        input_w: u32,
        input_h: u32,
        threshold: f32,
        out: &mut Vec<Detection>,
    ) -> Result<()> {
        let expected = "boxes [1, K, 4], scores [1, K], classes [1, K] and optionally a count [1]";
        let (boxes, scores, classes, count) = match outputs {
            [b, s, c] => (b, s, c, None),
            [b, s, c, n] => (b, s, c, n.data.first().copied()),
            _ => return Err(shape_error("ssd", outputs, expected)),
        };
        let k = scores.data.len();
        if k == 0 || boxes.data.len() != 4 * k || classes.data.len() != k {
            return Err(shape_error("ssd", outputs, expected));
        }
        let valid = match count {
            Some(n) if n.is_finite() && n >= 0.0 => (n as usize).min(k),
            Some(_) => 0,
            None => k,
        };
        let (w, h) = (input_w as f32, input_h as f32);
        for i in 0..valid {
            let b = &boxes.data[i * 4..][..4];
            let bbox = match self.box_order {
                BoxOrder::Yxyx => [b[1] * w, b[0] * h, b[3] * w, b[2] * h],
                BoxOrder::Xyxy => [b[0] * w, b[1] * h, b[2] * w, b[3] * h],
            };
            // Checked: an extreme class_offset overflowed here (found by the `decoders` fuzz target).
            let class = (classes.data[i].round() as i64)
                .checked_sub(self.class_offset)
                .unwrap_or(-1);
            if keep(scores.data[i], threshold, &bbox) && (0..1_000_000).contains(&class) {
                out.push(Detection {
                    class_id: class as usize,
                    score: scores.data[i],
                    bbox,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::test_util::{close, run};
    use super::*;

    #[test]
    fn rtdetr_scales_normalised_centres_to_the_input() {
        let data = vec![
            0.5, 0.25, 0.25, 0.5, 0.1, 0.9, // class 1
            0.5, 0.5, 0.1, 0.1, 0.2, 0.1, // below threshold
        ];
        let d = run(&Rtdetr, &[(vec![1, 2, 6], data)], 64, 32).expect("decodes");
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].class_id, d[0].score), (1, 0.9));
        assert!(
            close(&d[0].bbox, [24.0, 0.0, 40.0, 16.0]),
            "{:?}",
            d[0].bbox
        );
    }

    #[test]
    fn ssd_reads_box_order_offset_and_count() {
        let boxes = vec![
            0.1, 0.2, 0.5, 0.6, /* */ 0.0, 0.0, 1.0, 1.0, /* */ 0.0, 0.0, 0.5, 0.5,
        ];
        let scores = vec![0.9, 0.8, 0.95];
        let classes = vec![1.0, 3.0, 1.0];
        let outs = |n: f32| {
            vec![
                (vec![1, 3, 4], boxes.clone()),
                (vec![1, 3], scores.clone()),
                (vec![1, 3], classes.clone()),
                (vec![1], vec![n]),
            ]
        };
        let ssd = Ssd {
            box_order: BoxOrder::Yxyx,
            class_offset: 1,
        };
        let d = run(&ssd, &outs(2.0), 100, 50).expect("decodes");
        assert_eq!(d.len(), 2, "the count leaves out the third row");
        assert_eq!(d[0].class_id, 0);
        assert!(
            close(&d[0].bbox, [20.0, 5.0, 60.0, 25.0]),
            "{:?}",
            d[0].bbox
        );
        assert_eq!(d[1].class_id, 2);
        let xyxy = Ssd {
            box_order: BoxOrder::Xyxy,
            class_offset: 0,
        };
        let d = run(&xyxy, &outs(f32::NAN), 100, 50).expect("decodes");
        assert!(d.is_empty(), "a NaN count is no detections");
        let d = run(&xyxy, &outs(3.0)[..3], 100, 50).expect("decodes");
        assert_eq!(d.len(), 3);
        assert!(close(&d[0].bbox, [10.0, 10.0, 50.0, 30.0]));
        assert!(run(&xyxy, &outs(3.0)[..2], 100, 50).is_err());
        // Found by the `decoders` fuzz target (fuzz/regressions/decoders): an extreme offset
        // overflowed the subtraction. Such classes are out of range: no detections.
        let extreme = Ssd {
            box_order: BoxOrder::Xyxy,
            class_offset: i64::MIN,
        };
        assert!(run(&extreme, &outs(3.0), 100, 50)
            .expect("decodes")
            .is_empty());
    }
}
