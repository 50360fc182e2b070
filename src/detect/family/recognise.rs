//! Recognising the family of a bare `.onnx` file: every family's `fits` on its outputs' shapes, then
//! the metadata's hints where several fit.

use super::descriptor::{Family, Hint};
use super::evidence::Evidence;
use super::registry::ALL;
use crate::detect::onnx_info::{OnnxInfo, TensorInfo};
use crate::detect::ultralytics::Metadata;

/// The result of [`recognise`]: the family, or why none (or several) fit.
#[derive(Debug, Clone, PartialEq)]
pub enum Recognised {
    One { family: Family, why: String },
    None { why: String },
    Several { fits: Vec<(Family, String)> },
}

/// Which family `info`'s outputs are, given the network input size (width, height) when it is
/// fixed. Metadata settles what shapes alone cannot (end-to-end exports, RT-DETR, YOLOv5 vs YOLOX).
pub fn recognise(info: &OnnxInfo, meta: &Metadata, input: Option<(i64, i64)>) -> Recognised {
    let evidence = Evidence::new(&info.outputs, meta, input);
    let mut fits: Vec<(Family, String)> = ALL
        .iter()
        .filter_map(|&f| {
            let why = (f.descriptor().fits)(evidence.as_ref()?)?;
            Some((f, why))
        })
        .collect();
    let hint = |f: Family| (f.descriptor().metadata)(meta);
    // What the metadata says beats what the shapes allow.
    for &f in ALL.iter().filter(|&&f| hint(f) == Hint::Preferred) {
        if fits.len() > 1 && fits.iter().any(|(g, _)| *g == f) {
            fits.retain(|(g, _)| *g == f);
        }
    }
    if fits.len() > 1 {
        fits.retain(|(f, _)| hint(*f) != Hint::Unlikely);
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

#[cfg(test)]
mod tests {
    use super::super::{nanodet, rtdetr, ssd, yolo_e2e, yolov5, yolov8, yolox};
    use super::*;
    use crate::detect::onnx_info::{Dim, ElemType};

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
            yolov8::FAMILY
        );
        assert_eq!(
            one(family(vec![out("o", &[1, 84, -1])], &none, None)),
            yolov8::FAMILY
        );
        assert_eq!(
            one(family(vec![out("o", &[1, 25200, 85])], &none, sq)),
            yolov5::FAMILY
        );
        assert_eq!(
            one(family(vec![out("o", &[1, 8400, 85])], &none, sq)),
            yolox::FAMILY
        );
        assert_eq!(
            one(family(vec![out("o", &[1, 300, 6])], &none, sq)),
            yolo_e2e::FAMILY
        );
        assert_eq!(
            one(family(vec![out("o", &[1, 300, 84])], &none, sq)),
            rtdetr::FAMILY
        );
        assert_eq!(
            one(family(
                vec![out("s", &[1, -1, 80]), out("b", &[1, -1, 44])],
                &none,
                None
            )),
            nanodet::FAMILY
        );
        let ssd = vec![
            out("detection_boxes", &[1, 100, 4]),
            out("detection_scores", &[1, 100]),
            out("detection_classes", &[1, 100]),
            out("num_detections", &[1]),
        ];
        assert_eq!(one(family(ssd, &none, None)), ssd::FAMILY);
    }

    #[test]
    fn dynamic_yolov5_or_yolox_is_ambiguous_unless_metadata_settles_it() {
        let dynamic = || vec![out("o", &[1, -1, 85])];
        match family(dynamic(), &Metadata::default(), None) {
            Recognised::Several { fits } => {
                let names: Vec<Family> = fits.iter().map(|f| f.0).collect();
                assert_eq!(names, [yolov5::FAMILY, yolox::FAMILY]);
            }
            other => panic!("{other:?}"),
        }
        let v5 = Metadata {
            names: Some(vec!["x".into(); 80]),
            ..Metadata::default()
        };
        assert_eq!(one(family(dynamic(), &v5, None)), yolov5::FAMILY);
    }

    #[test]
    fn metadata_names_must_agree_with_the_class_count() {
        let three = Metadata {
            names: Some(vec!["a".into(), "b".into(), "c".into()]),
            ..Metadata::default()
        };
        assert_eq!(
            one(family(vec![out("o", &[1, 7, 84])], &three, Some((64, 64)))),
            yolov8::FAMILY
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
