//! Micro-benchmarks of the per-frame work around inference, at realistic sizes:
//! preprocessing (resize + normalise) of 768×576 and 1920×1080 frames to a 416-long-side input,
//! decode + NMS of real NanoDet outputs, message serialisation, and the feature-pyramid resizes
//! (tract's generic Resize against lookout's rewrite, src/detect/rewrite.rs, on the same tensor).
//!   cargo bench --bench micro

use std::path::Path;
use std::time::SystemTime;

use criterion::{criterion_group, criterion_main, Criterion};
use lookout::detect::{Detector, DetectorConfig, ModelSpec, Prepared};
use lookout::publish::message::{self, DetectionsMessage, Latency, ModelInfo, Size};
use lookout::source::images::load_rgb;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn detector() -> Detector {
    let spec = ModelSpec::load(&root().join("models/nanodet-m-fp32.toml")).expect("bundled model");
    Detector::new(spec, DetectorConfig::default()).expect("detector")
}

/// A 768×576 real frame (dog.jpg) and a 1920×1080 frame made by tiling it.
fn frames() -> Vec<(String, Vec<u8>, u32, u32)> {
    let mut dog = Vec::new();
    let (w, h) = load_rgb(&root().join("tests/data/dog.jpg"), &mut dog).expect("dog.jpg");
    let (bw, bh) = (1920u32, 1080u32);
    let mut big = vec![0u8; (bw * bh * 3) as usize];
    for y in 0..bh {
        for x in 0..bw {
            let s = (((y % h) * w + (x % w)) * 3) as usize;
            let d = ((y * bw + x) * 3) as usize;
            big[d..d + 3].copy_from_slice(&dog[s..s + 3]);
        }
    }
    vec![
        (format!("{w}x{h}"), dog, w, h),
        (format!("{bw}x{bh}"), big, bw, bh),
    ]
}

fn preprocess(c: &mut Criterion) {
    let det = detector();
    let mut g = c.benchmark_group("preprocess");
    for (name, rgb, w, h) in frames() {
        let mut prep = det.preparer();
        let mut out = Prepared::default();
        g.bench_function(name, |b| b.iter(|| prep.prepare(&rgb, w, h, &mut out)));
    }
    g.finish();
}

fn decode_nms(c: &mut Criterion) {
    let mut det = detector();
    let mut g = c.benchmark_group("decode+nms");
    for (name, rgb, w, h) in frames() {
        let mut prep = det.preparer();
        let mut p = Prepared::default();
        prep.prepare(&rgb, w, h, &mut p);
        det.run_engine(&p).expect("inference");
        g.bench_function(name, |b| {
            b.iter(|| det.postprocess(&p).expect("postprocess"))
        });
    }
    g.finish();
}

fn serialize(c: &mut Criterion) {
    let classes = ["person", "car", "truck"];
    let objects: Vec<_> = (0..12)
        .map(|i| {
            message::object(
                classes[i % 3],
                i % 3,
                0.5 + i as f32 / 100.0,
                [10.0 * i as f32, 20.0, 100.0, 200.0],
            )
        })
        .collect();
    let mut line = Vec::with_capacity(4096);
    c.bench_function("serialize/12-objects", |b| {
        b.iter(|| {
            let published: Vec<_> = objects
                .iter()
                .map(|o| {
                    message::object(
                        o.class,
                        o.class_id,
                        o.score as f32,
                        o.bbox.map(|v| v as f32),
                    )
                })
                .collect();
            let msg = DetectionsMessage {
                schema: message::DETECTIONS_SCHEMA,
                device: "robot-1",
                camera: "front",
                seq: 1234,
                captured_at: message::rfc3339_ms(SystemTime::now()),
                source_pts: Some(123.4),
                width: 1920,
                height: 1080,
                input: Size {
                    width: 416,
                    height: 256,
                },
                model: ModelInfo {
                    name: "nanodet-m",
                    precision: "fp32",
                    engine: "tract",
                },
                latency_ms: Latency::default(),
                objects: &published,
            };
            line.clear();
            serde_json::to_writer(&mut line, &msg).expect("serialises");
        })
    });
}

/// The four Resize nodes of NanoDet-m at a 416×320 input, by tract's generic op and by the op
/// lookout's rewrite puts in its place.
fn resize(c: &mut Criterion) {
    use lookout::detect::rewrite::{Factor, FixedResize};
    use tract_onnx::prelude::*;
    use tract_onnx::tract_core::internal::{EvalContext, EvalOp};
    use tract_onnx::tract_core::ops::nn::resize::{
        CoordTransformer, Interpolator, Nearest, Resize,
    };
    let tract_op = Resize {
        coord_transformer: CoordTransformer::HalfPixel,
        interpolator: Interpolator::Linear,
        nearest: Nearest::Floor,
        optional_scales_input: Some(1),
        optional_sizes_input: None,
    };
    for (shape, factor, scale) in [
        ([1usize, 128, 10, 13], Factor::Up2, 2.0f32),
        ([1, 128, 20, 26], Factor::Up2, 2.0),
        ([1, 128, 40, 52], Factor::Down2, 0.5),
        ([1, 128, 20, 26], Factor::Down2, 0.5),
    ] {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n).map(|i| (i % 251) as f32 / 25.0).collect();
        let x = Tensor::from_shape(&shape, &data)
            .expect("tensor")
            .into_tvalue();
        let scales = tensor1(&[1.0f32, 1.0, scale, scale]).into_tvalue();
        let name = format!("resize/x{scale} {}x{}x{}", shape[1], shape[2], shape[3]);
        let ctx = EvalContext::out_of_plan();
        c.bench_function(&format!("{name}/tract"), |b| {
            b.iter(|| {
                tract_op
                    .eval(&ctx, tvec![x.clone(), scales.clone()])
                    .expect("runs")
            })
        });
        let ours = FixedResize { factor };
        c.bench_function(&format!("{name}/lookout"), |b| {
            b.iter(|| ours.eval(&ctx, tvec![x.clone()]).expect("runs"))
        });
    }
}

criterion_group!(benches, preprocess, decode_nms, serialize, resize);
criterion_main!(benches);
