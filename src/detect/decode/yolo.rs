//! The YOLO families' single-output heads, each as its exporter writes it: YOLOv5/v7 (anchor rows
//! with objectness), YOLOv8/9/11/12 (channels first, no objectness), end-to-end YOLOv10/YOLO26
//! (final boxes) and YOLOX's raw grid heads.
// `!(score > threshold)` on purpose: a NaN score is skipped too.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use super::common::{argmax, from_centre, keep, shape_error};
use super::decoder::Decoder;
use crate::detect::detection::Detection;
use crate::detect::engine::api::OutputView;
use crate::error::Result;

/// `[1, N, 5+nc]`: cx, cy, w, h (input pixels), objectness, class scores; score = obj × cls.
pub struct Yolov5;

/// `[1, 4+nc, N]`: cx, cy, w, h (input pixels), class scores; channels first.
pub struct Yolov8;

/// `[1, K, 6]`: x1, y1, x2, y2 (input pixels), score, class id.
pub struct YoloE2e;

/// `[1, N, 5+nc]` raw: per anchor-free cell at each stride, offsets, log sizes, obj, class scores.
pub struct Yolox {
    pub strides: Vec<u32>,
}

/// The one output of a single-output head as (data, rows, cols), if it is `[1, rows, cols]`.
fn rows_cols<'a>(outputs: &'a [OutputView<'a>]) -> Option<(&'a [f32], usize, usize)> {
    match outputs {
        [o] if o.shape.len() == 3 && o.shape[0] == 1 && o.data.len() == o.shape[1] * o.shape[2] => {
            Some((o.data, o.shape[1], o.shape[2]))
        }
        _ => None,
    }
}

impl Decoder for Yolov5 {
    fn decode(
        &self,
        outputs: &[OutputView<'_>],
        _w: u32,
        _h: u32,
        threshold: f32,
        out: &mut Vec<Detection>,
    ) -> Result<()> {
        let (data, _, cols) = rows_cols(outputs)
            .filter(|&(_, _, cols)| cols >= 6)
            .ok_or_else(|| shape_error("yolov5", outputs, "[1, N, 5+classes]"))?;
        for r in data.chunks_exact(cols) {
            // score = obj × cls ≤ obj: most rows end here.
            if !(r[4] > threshold) {
                continue;
            }
            let (class_id, cls) = argmax(r[5..].iter().copied());
            let score = r[4] * cls;
            let bbox = from_centre(r[0], r[1], r[2], r[3]);
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

impl Decoder for Yolov8 {
    fn decode(
        &self,
        outputs: &[OutputView<'_>],
        _w: u32,
        _h: u32,
        threshold: f32,
        out: &mut Vec<Detection>,
    ) -> Result<()> {
        let (data, _, n) = rows_cols(outputs)
            .filter(|&(_, channels, _)| channels >= 5)
            .ok_or_else(|| shape_error("yolov8", outputs, "[1, 4+classes, N]"))?;
        // No anchors (an input too small for the model's grids): nothing to find. Found by the
        // `decoders` fuzz target; `chunks_exact(0)` panicked.
        if n == 0 {
            return Ok(());
        }
        // Class rows are contiguous: keep a running best per anchor, row after row.
        let mut best = vec![f32::NEG_INFINITY; n];
        let mut best_class = vec![0u32; n];
        for (c, row) in data.chunks_exact(n).skip(4).enumerate() {
            for ((b, bc), &v) in best.iter_mut().zip(best_class.iter_mut()).zip(row) {
                if v > *b {
                    (*b, *bc) = (v, c as u32);
                }
            }
        }
        for (i, (&score, &class_id)) in best.iter().zip(&best_class).enumerate() {
            if !(score > threshold) {
                continue;
            }
            let at = |k: usize| data[k * n + i];
            let bbox = from_centre(at(0), at(1), at(2), at(3));
            if keep(score, threshold, &bbox) {
                out.push(Detection {
                    class_id: class_id as usize,
                    score,
                    bbox,
                });
            }
        }
        Ok(())
    }
}

impl Decoder for YoloE2e {
    fn decode(
        &self,
        outputs: &[OutputView<'_>],
        _w: u32,
        _h: u32,
        threshold: f32,
        out: &mut Vec<Detection>,
    ) -> Result<()> {
        let (data, _, _) = rows_cols(outputs)
            .filter(|&(_, _, cols)| cols == 6)
            .ok_or_else(|| shape_error("yolo-e2e", outputs, "[1, K, 6]"))?;
        for r in data.chunks_exact(6) {
            let bbox = [r[0], r[1], r[2], r[3]];
            let class = r[5].round();
            if keep(r[4], threshold, &bbox) && (0.0..1e6).contains(&class) {
                out.push(Detection {
                    class_id: class as usize,
                    score: r[4],
                    bbox,
                });
            }
        }
        Ok(())
    }
}

impl Decoder for Yolox {
    fn decode(
        &self,
        outputs: &[OutputView<'_>],
        input_w: u32,
        input_h: u32,
        threshold: f32,
        out: &mut Vec<Detection>,
    ) -> Result<()> {
        let cells = super::common::grid_cells("yolox", &self.strides, input_w, input_h)?;
        // The message is only formatted when the shape is wrong, not on every frame.
        let (data, _, cols) = rows_cols(outputs)
            .filter(|&(_, rows, cols)| cols >= 6 && rows == cells)
            .ok_or_else(|| {
                let expected = format!(
                    "[1, {cells}, 5+classes] for a {input_w}x{input_h} input at strides {:?}",
                    self.strides
                );
                shape_error("yolox", outputs, &expected)
            })?;
        let mut row = 0usize;
        for &stride in &self.strides {
            let (gw, gh) = ((input_w / stride) as usize, (input_h / stride) as usize);
            let s = stride as f32;
            for i in 0..gw * gh {
                let r = &data[(row + i) * cols..][..cols];
                if !(r[4] > threshold) {
                    continue;
                }
                let (class_id, cls) = argmax(r[5..].iter().copied());
                let score = r[4] * cls;
                let (gx, gy) = ((i % gw) as f32, (i / gw) as f32);
                let bbox = from_centre(
                    (r[0] + gx) * s,
                    (r[1] + gy) * s,
                    r[2].exp() * s,
                    r[3].exp() * s,
                );
                if keep(score, threshold, &bbox) {
                    out.push(Detection {
                        class_id,
                        score,
                        bbox,
                    });
                }
            }
            row += gw * gh;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::test_util::{close, run};
    use super::*;

    /// Found by the `decoders` fuzz target (fuzz/regressions/decoders): a zero stride divided by
    /// zero in YOLOX's and NanoDet's grid arithmetic. It is an error now.
    #[test]
    fn a_zero_stride_is_an_error_not_a_panic() {
        let yolox = Yolox {
            strides: vec![8, 0],
        };
        let e = run(&yolox, &[(vec![1, 4, 6], vec![0.0; 24])], 16, 16).expect_err("stride 0");
        assert!(e.to_string().contains("include 0"), "{e}");
        let nanodet = super::super::nanodet::NanoDetGfl {
            strides: vec![0],
            bins: 8,
        };
        let outputs = [
            (vec![1, 1, 2], vec![0.0; 2]),
            (vec![1, 1, 32], vec![0.0; 32]),
        ];
        let e = run(&nanodet, &outputs, 16, 16).expect_err("stride 0");
        assert!(e.to_string().contains("include 0"), "{e}");
        // And YOLOv8 with no anchors at all: no detections.
        let d = run(&Yolov8, &[(vec![1, 84, 0], Vec::new())], 16, 16).expect("no anchors");
        assert!(d.is_empty());
    }

    #[test]
    fn yolov5_multiplies_objectness_and_class() {
        // 3 anchors, 2 classes: obj below threshold; obj 0.9 × cls 0.8; obj 0.5 × cls 0.4 (0.2).
        let rows = [
            [10.0, 10.0, 4.0, 4.0, 0.2, 0.9, 0.9],
            [32.0, 16.0, 8.0, 6.0, 0.9, 0.1, 0.8],
            [5.0, 5.0, 2.0, 2.0, 0.5, 0.4, 0.1],
        ];
        let data: Vec<f32> = rows.iter().flatten().copied().collect();
        let d = run(&Yolov5, &[(vec![1, 3, 7], data)], 64, 64).expect("decodes");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].class_id, 1);
        assert!((d[0].score - 0.72).abs() < 1e-6);
        assert!(close(&d[0].bbox, [28.0, 13.0, 36.0, 19.0]));
    }

    #[test]
    fn yolov8_reads_channels_first() {
        // 2 anchors, 3 classes; anchor 1 is class 2 at 0.7.
        let data = vec![
            10.0, 40.0, // cx
            10.0, 20.0, // cy
            4.0, 10.0, // w
            4.0, 8.0, // h
            0.1, 0.1, // class 0
            0.2, 0.3, // class 1
            0.1, 0.7, // class 2
        ];
        let d = run(&Yolov8, &[(vec![1, 7, 2], data)], 64, 64).expect("decodes");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].class_id, d[0].score), (2, 0.7));
        assert!(close(&d[0].bbox, [35.0, 16.0, 45.0, 24.0]));
    }

    #[test]
    fn e2e_rows_are_final_boxes() {
        let data = vec![
            1.0, 2.0, 3.0, 4.0, 0.9, 5.0, //
            0.0, 0.0, 1.0, 1.0, 0.1, 0.0, //
            0.0, 0.0, 1.0, 1.0, 0.8, -1.0, // a negative class is no detection
        ];
        let d = run(&YoloE2e, &[(vec![1, 3, 6], data)], 64, 64).expect("decodes");
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].class_id, d[0].score, d[0].bbox),
            (5, 0.9, [1.0, 2.0, 3.0, 4.0])
        );
    }

    #[test]
    fn yolox_decodes_grid_offsets_and_log_sizes() {
        // 32x32 input: 16 cells at stride 8, 4 at 16, 1 at 32 = 21 rows; 1 class.
        let mut data = vec![0.0f32; 21 * 6];
        // row 5 = stride 8, cell (1, 1); row 17 = stride 16, cell (1, 0).
        data[5 * 6..6 * 6].copy_from_slice(&[0.5, 0.25, 0.0, 2f32.ln(), 0.9, 0.5]);
        data[17 * 6..18 * 6].copy_from_slice(&[0.0, 0.0, 0.0, 0.0, 0.2, 1.0]);
        let dec = Yolox {
            strides: vec![8, 16, 32],
        };
        let d = run(&dec, &[(vec![1, 21, 6], data.clone())], 32, 32).expect("decodes");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!((d[0].score - 0.45).abs() < 1e-6);
        // cx = (0.5 + 1)·8 = 12, cy = (0.25 + 1)·8 = 10, w = 8, h = 16
        assert!(close(&d[0].bbox, [8.0, 2.0, 16.0, 18.0]), "{:?}", d[0].bbox);
        assert!(
            run(&dec, &[(vec![1, 21, 6], data)], 64, 32).is_err(),
            "wrong size"
        );
    }

    #[test]
    fn wrong_shapes_and_nan_never_panic() {
        let bad: [(Vec<usize>, Vec<f32>); 3] = [
            (vec![1, 84], vec![0.0; 84]),
            (vec![1, 2, 3], vec![0.0; 5]),
            (vec![2, 7, 1], vec![0.0; 14]),
        ];
        for o in &bad {
            let outs = std::slice::from_ref(o);
            assert!(run(&Yolov8, outs, 64, 64).is_err());
            assert!(run(&Yolov5, outs, 64, 64).is_err());
            assert!(run(&YoloE2e, outs, 64, 64).is_err());
        }
        let nan = vec![f32::NAN; 7 * 2];
        assert!(run(&Yolov8, &[(vec![1, 7, 2], nan.clone())], 64, 64)
            .expect("ok")
            .is_empty());
        assert!(run(&Yolov5, &[(vec![1, 2, 7], nan)], 64, 64)
            .expect("ok")
            .is_empty());
    }
}
