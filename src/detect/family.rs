//! Detector families (how a network's outputs become boxes) and recognising one from a bare
//! `.onnx` file: its outputs' shapes and, where there is any, its Ultralytics metadata.

use serde::{Deserialize, Serialize};

use super::onnx_info::{Dim, OnnxInfo, TensorInfo};
use super::ultralytics::Metadata;

/// The output format a decoder reads; see docs in models/README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, clap::ValueEnum)]
pub enum Family {
    /// NanoDet / GFL head: sigmoided scores [1,N,C] + distance bins [1,N,4·(reg_max+1)].
    #[serde(rename = "nanodet-gfl")]
    #[value(name = "nanodet-gfl")]
    NanoDetGfl,
    /// YOLOv5 / YOLOv7: [1,N,5+nc] cx,cy,w,h, objectness, class scores.
    #[serde(rename = "yolov5", alias = "yolov7")]
    #[value(name = "yolov5", alias = "yolov7")]
    Yolov5,
    /// YOLOv8 / v9 / 11 / 12: [1,4+nc,N] channels first, no objectness.
    #[serde(
        rename = "yolov8",
        alias = "yolov9",
        alias = "yolo11",
        alias = "yolo12"
    )]
    #[value(name = "yolov8", alias = "yolov9", alias = "yolo11", alias = "yolo12")]
    Yolov8,
    /// End-to-end YOLOv10 / YOLO26: [1,K,6] x1,y1,x2,y2,score,class; no NMS.
    #[serde(rename = "yolo-e2e", alias = "yolov10", alias = "yolo26")]
    #[value(name = "yolo-e2e", alias = "yolov10", alias = "yolo26")]
    YoloE2e,
    /// YOLOX raw heads: [1,N,5+nc] grid offsets, log sizes, objectness, class scores.
    #[serde(rename = "yolox")]
    #[value(name = "yolox")]
    Yolox,
    /// RT-DETR (Ultralytics export): [1,K,4+nc] normalised cx,cy,w,h and scores; no NMS.
    #[serde(rename = "rtdetr", alias = "rt-detr")]
    #[value(name = "rtdetr", alias = "rt-detr")]
    Rtdetr,
    /// SSD-style: separate boxes, scores, classes (and count) outputs; no NMS.
    #[serde(rename = "ssd")]
    #[value(name = "ssd")]
    Ssd,
}

pub const ALL: [Family; 7] = [
    Family::NanoDetGfl,
    Family::Yolov5,
    Family::Yolov8,
    Family::YoloE2e,
    Family::Yolox,
    Family::Rtdetr,
    Family::Ssd,
];

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::NanoDetGfl => "nanodet-gfl",
            Family::Yolov5 => "yolov5",
            Family::Yolov8 => "yolov8",
            Family::YoloE2e => "yolo-e2e",
            Family::Yolox => "yolox",
            Family::Rtdetr => "rtdetr",
            Family::Ssd => "ssd",
        }
    }

    /// The outputs the family reads, as a user would recognise them.
    pub fn expects(self) -> &'static str {
        match self {
            Family::NanoDetGfl => "scores [1,N,C] and box bins [1,N,4*(reg_max+1)]",
            Family::Yolov5 => "one output [1,N,5+nc] with N = 3 anchors per grid cell",
            Family::Yolov8 => "one output [1,4+nc,N] (channels first)",
            Family::YoloE2e => "one output [1,K,6] (x1,y1,x2,y2,score,class)",
            Family::Yolox => "one output [1,N,5+nc] with N = one per grid cell at strides 8/16/32",
            Family::Rtdetr => "one output [1,K,4+nc] (K queries, usually 300)",
            Family::Ssd => "boxes [1,K,4], scores [1,K], classes [1,K] (and a count [1])",
        }
    }

    /// Whether candidates of this family go through non-maximum suppression.
    pub fn needs_nms(self) -> bool {
        !matches!(self, Family::YoloE2e | Family::Rtdetr | Family::Ssd)
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The result of [`recognise`]: the family, or why none (or several) fit.
#[derive(Debug, Clone, PartialEq)]
pub enum Recognised {
    One { family: Family, why: String },
    None { why: String },
    Several { fits: Vec<(Family, String)> },
}

/// Anchor cells of a `w`×`h` input at strides 8, 16 and 32.
pub fn cells(w: i64, h: i64) -> i64 {
    [8, 16, 32].iter().map(|s| (w / s) * (h / s)).sum()
}

/// Which family `info`'s outputs are, given the network input size (width, height) when it is
/// fixed. Metadata settles what shapes alone cannot (end-to-end exports, RT-DETR, YOLOv5 vs YOLOX).
pub fn recognise(info: &OnnxInfo, meta: &Metadata, input: Option<(i64, i64)>) -> Recognised {
    let mut fits: Vec<(Family, String)> = ALL
        .iter()
        .filter_map(|&f| fits(f, &info.outputs, meta, input).map(|why| (f, why)))
        .collect();
    // What the metadata says beats what the shapes allow.
    let prefer = |fits: &mut Vec<(Family, String)>, f: Family| {
        if fits.len() > 1 && fits.iter().any(|(g, _)| *g == f) {
            fits.retain(|(g, _)| *g == f);
        }
    };
    if meta.end2end {
        prefer(&mut fits, Family::YoloE2e);
    }
    if meta.mentions("rt-detr") || meta.mentions("rtdetr") {
        prefer(&mut fits, Family::Rtdetr);
    }
    if meta.is_present() && fits.len() > 1 {
        // YOLOX's exporter writes no metadata; YOLOv5's writes names and stride.
        fits.retain(|(f, _)| *f != Family::Yolox);
    }
    match fits.len() {
        0 => Recognised::None {
            why: format!(
                "no detector family fits the outputs {}",
                outputs_text(&info.outputs)
            ),
        },
        1 => {
            let (family, why) = fits.remove(0);
            Recognised::One { family, why }
        }
        _ => Recognised::Several { fits },
    }
}

/// `cls_scores [1, N, 80], box_dist [1, N, 44]`.
pub fn outputs_text(outputs: &[TensorInfo]) -> String {
    outputs
        .iter()
        .map(|o| format!("{} {}", o.name, o.shape_text()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why `family` fits these outputs, or `None`.
fn fits(
    family: Family,
    outputs: &[TensorInfo],
    meta: &Metadata,
    input: Option<(i64, i64)>,
) -> Option<String> {
    let nc_ok = |nc: i64| nc >= 1 && meta.names.as_ref().is_none_or(|n| n.len() as i64 == nc);
    let shapes: Vec<&[Dim]> = outputs.iter().filter_map(|o| o.shape.as_deref()).collect();
    if shapes.len() != outputs.len() {
        return None;
    }
    let batch_ok = |s: &[Dim]| matches!(s.first(), Some(Dim::Known(1)) | Some(Dim::Sym(_)));
    let single = match shapes[..] {
        [s] if s.len() == 3 && batch_ok(s) => Some((&s[1], &s[2])),
        _ => None,
    };
    match family {
        Family::YoloE2e => {
            let (a, b) = single?;
            (b.known()? == 6 && a.known()? <= 1000)
                .then(|| format!("one output [1, {a}, 6]: end-to-end boxes, no NMS"))
        }
        Family::Yolov8 => {
            let (a, b) = single?;
            let a = a.known()?;
            let later = b.known().is_none_or(|b| b > a);
            (a >= 5 && later && nc_ok(a - 4)).then(|| {
                format!(
                    "one output [1, {a}, {b}]: channels first, {} classes",
                    a - 4
                )
            })
        }
        Family::Yolov5 | Family::Yolox => {
            let (a, b) = single?;
            let b = b.known()?;
            let per_cell = if family == Family::Yolov5 { 3 } else { 1 };
            let n_ok = match (a.known(), input) {
                (Some(a), Some((w, h))) => a == per_cell * cells(w, h),
                (None, _) => true,
                (Some(_), None) => false,
            };
            let what = if family == Family::Yolov5 {
                "3 anchors per cell, objectness"
            } else {
                "one anchor-free cell each at strides 8/16/32, raw grid offsets"
            };
            (b >= 6 && n_ok && nc_ok(b - 5))
                .then(|| format!("one output [1, {a}, {b}]: {what}, {} classes", b - 5))
        }
        Family::Rtdetr => {
            let (a, b) = single?;
            let (a, b) = (a.known()?, b.known()?);
            let queries = a == 300 || meta.mentions("rt-detr") || meta.mentions("rtdetr");
            (queries && a <= 1000 && b >= 5 && b != 6 && nc_ok(b - 4))
                .then(|| format!("one output [1, {a}, {b}]: {a} queries, {} classes", b - 4))
        }
        Family::NanoDetGfl => {
            let [s, b] = shapes[..] else { return None };
            let ok = s.len() == 3
                && b.len() == 3
                && batch_ok(s)
                && batch_ok(b)
                && b[2].known().is_some_and(|v| v % 4 == 0 && v >= 8)
                && s[2]
                    .known()
                    .is_some_and(|c| c >= 1 && c % 4 != 0 || c == 80);
            ok.then(|| {
                format!(
                    "two outputs {} and {}: class scores and GFL distance bins",
                    outputs[0].shape_text(),
                    outputs[1].shape_text()
                )
            })
        }
        Family::Ssd => {
            let rank = |n: usize| shapes.iter().filter(|s| s.len() == n).count();
            let boxes = shapes
                .iter()
                .filter(|s| s.len() == 3 && s[2] == Dim::Known(4))
                .count();
            let ok = (3..=4).contains(&shapes.len())
                && boxes == 1
                && rank(2) == 2
                && rank(3) == 1
                && (shapes.len() == 3 || rank(1) == 1);
            ok.then(|| "separate boxes, scores and classes outputs".to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::onnx_info::ElemType;

    fn out(name: &str, dims: &[i64]) -> TensorInfo {
        TensorInfo {
            name: name.into(),
            elem: ElemType::F32,
            shape: Some(
                dims.iter()
                    .map(|&d| {
                        if d < 0 {
                            Dim::Sym("n".into())
                        } else {
                            Dim::Known(d)
                        }
                    })
                    .collect(),
            ),
        }
    }

    fn info(outputs: Vec<TensorInfo>) -> OnnxInfo {
        OnnxInfo {
            inputs: vec![],
            outputs,
            metadata: Default::default(),
            opset: 17,
            producer: String::new(),
            quantized: false,
        }
    }

    fn family(outputs: Vec<TensorInfo>, meta: &Metadata, input: Option<(i64, i64)>) -> Recognised {
        recognise(&info(outputs), meta, input)
    }

    fn one(r: Recognised) -> Family {
        match r {
            Recognised::One { family, .. } => family,
            other => panic!("expected one family, got {other:?}"),
        }
    }

    #[test]
    fn each_family_is_recognised_from_its_shapes() {
        let none = Metadata::default();
        let sq = Some((640, 640));
        assert_eq!(
            one(family(vec![out("o", &[1, 84, 8400])], &none, sq)),
            Family::Yolov8
        );
        assert_eq!(
            one(family(vec![out("o", &[1, 84, -1])], &none, None)),
            Family::Yolov8
        );
        assert_eq!(
            one(family(vec![out("o", &[1, 25200, 85])], &none, sq)),
            Family::Yolov5
        );
        assert_eq!(
            one(family(vec![out("o", &[1, 8400, 85])], &none, sq)),
            Family::Yolox
        );
        assert_eq!(
            one(family(vec![out("o", &[1, 300, 6])], &none, sq)),
            Family::YoloE2e
        );
        assert_eq!(
            one(family(vec![out("o", &[1, 300, 84])], &none, sq)),
            Family::Rtdetr
        );
        assert_eq!(
            one(family(
                vec![out("s", &[1, -1, 80]), out("b", &[1, -1, 44])],
                &none,
                None
            )),
            Family::NanoDetGfl
        );
        let ssd = vec![
            out("detection_boxes", &[1, 100, 4]),
            out("detection_scores", &[1, 100]),
            out("detection_classes", &[1, 100]),
            out("num_detections", &[1]),
        ];
        assert_eq!(one(family(ssd, &none, None)), Family::Ssd);
    }

    #[test]
    fn dynamic_yolov5_or_yolox_is_ambiguous_unless_metadata_settles_it() {
        let dynamic = || vec![out("o", &[1, -1, 85])];
        match family(dynamic(), &Metadata::default(), None) {
            Recognised::Several { fits } => {
                let names: Vec<Family> = fits.iter().map(|f| f.0).collect();
                assert_eq!(names, [Family::Yolov5, Family::Yolox]);
            }
            other => panic!("{other:?}"),
        }
        let v5 = Metadata {
            names: Some(vec!["x".into(); 80]),
            ..Metadata::default()
        };
        assert_eq!(one(family(dynamic(), &v5, None)), Family::Yolov5);
    }

    #[test]
    fn metadata_names_must_agree_with_the_class_count() {
        let three = Metadata {
            names: Some(vec!["a".into(), "b".into(), "c".into()]),
            ..Metadata::default()
        };
        assert_eq!(
            one(family(vec![out("o", &[1, 7, 84])], &three, Some((64, 64)))),
            Family::Yolov8
        );
        assert!(matches!(
            family(vec![out("o", &[1, 84, 8400])], &three, Some((640, 640))),
            Recognised::None { .. }
        ));
    }

    #[test]
    fn classifiers_and_odd_outputs_fit_nothing() {
        let none = Metadata::default();
        for outs in [
            vec![out("logits", &[1, 1000])],
            vec![out("a", &[1, 7]), out("b", &[1, 3, 5, 5])],
            vec![out("o", &[2, 84, 8400])],
            vec![out("o", &[1, 5000, 85])],
        ] {
            assert!(
                matches!(
                    family(outs.clone(), &none, Some((640, 640))),
                    Recognised::None { .. }
                ),
                "{outs:?}"
            );
        }
    }
}
