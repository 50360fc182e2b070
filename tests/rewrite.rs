//! lookout's graph rewrites (src/detect/rewrite/) against tract's own graph, on real frames.
//!
//! Tolerances:
//! - FP32 (the resize rewrite only): none. The rewritten Resize adds the same products in the same
//!   order as tract's, so every output must be bitwise equal.
//! - INT8 (resizes, int8 convolutions, quantisers): a requantised activation may land one step away
//!   from the float graph's where it sits on a rounding boundary (each convolution alone stays
//!   within one step: the unit test in src/detect/rewrite/qconv.rs), and such steps travel through
//!   the 34 layers. Class scores (0..1): max difference ≤ 0.05, mean ≤ 0.001 [seen on 2026-11-29
//!   with the 7-bit weights: 0.030, 0.0003; 2026-11-30 on the AVX2 kernel: 0.028, 0.0003]. Box-distance
//!   logits: max ≤ 0.6, mean ≤ 0.08 [0.46, 0.048; AVX2: 0.46, 0.039]. At detection level,
//!   golden.rs holds INT8 to onnxruntime's reference and to ≥ 95 % of FP32's detections.

mod common;

use common::*;
use lookout::detect::engine::{Device, Engine, TractEngine};
use lookout::detect::{ModelSpec, Preprocessor};
use lookout::source::images::load_rgb;

fn engine(spec: &ModelSpec, rewrite: bool) -> TractEngine {
    let mut e =
        TractEngine::load(spec, &spec.decoder.outputs, 1, Device::Cpu).expect("model loads");
    e.set_rewrite(rewrite);
    e
}

/// (max, mean) of the absolute differences.
fn differences(a: &[f32], b: &[f32]) -> (f32, f32) {
    let d: Vec<f32> = a.iter().zip(b).map(|(x, y)| (x - y).abs()).collect();
    let max = d.iter().fold(0f32, |m, v| m.max(*v));
    (max, d.iter().sum::<f32>() / d.len().max(1) as f32)
}

/// The plan's operations as "name×nodes".
fn plan_ops(e: &mut TractEngine) -> Vec<String> {
    e.profile(&vec![0.0; 3 * 320 * 416], [1, 3, 320, 416], 1)
        .expect("profiles")
        .expect("tract profiles")
        .into_iter()
        .map(|o| format!("{}×{}", o.op, o.nodes))
        .collect()
}

fn compare_on_real_frames(precision: &str, check: impl Fn(&str, usize, f32, f32)) {
    let spec = ModelSpec::load(&model(precision)).expect("bundled manifest");
    let (mut plain, mut rewritten) = (engine(&spec, false), engine(&spec, true));
    let mut pre = Preprocessor::new(&spec.input);
    for (image, (w, h)) in [
        ("bus.jpg", (416u32, 416u32)),
        ("zidane.jpg", (416, 256)),
        ("dog.jpg", (416, 320)),
    ] {
        let mut rgb = Vec::new();
        let (sw, sh) = load_rgb(&data(image), &mut rgb).expect("test image decodes");
        let mut input = Vec::new();
        pre.run(&rgb, sw, sh, w, h, &mut input);
        let shape = [1, 3, h as usize, w as usize];
        plain.run(&input, shape).expect("tract's graph runs");
        rewritten.run(&input, shape).expect("rewritten graph runs");
        let (a, b) = (plain.outputs().unwrap(), rewritten.outputs().unwrap());
        assert_eq!(a.len(), b.len());
        for (i, (a, b)) in a.iter().zip(&b).enumerate() {
            assert_eq!(a.shape, b.shape, "{precision} {image} output {i} shape");
            let (max, mean) = differences(a.data, b.data);
            eprintln!("{precision} {image} output {i}: max diff {max}, mean {mean}");
            check(image, i, max, mean);
        }
    }
}

#[test]
fn fp32_rewritten_graph_gives_bitwise_the_same_outputs() {
    compare_on_real_frames("fp32", |image, i, max, _| {
        assert_eq!(max, 0.0, "fp32 {image} output {i} differs");
    });
    // The rewrite really ran: lookout's resizes replace all four of tract's.
    let spec = ModelSpec::load(&model("fp32")).expect("bundled manifest");
    let (plain, new) = (
        plan_ops(&mut engine(&spec, false)),
        plan_ops(&mut engine(&spec, true)),
    );
    assert!(plain.contains(&"Resize×4".to_string()), "{plain:?}");
    assert!(
        new.contains(&"Resize2x(lookout)×2".to_string())
            && new.contains(&"ResizeHalf(lookout)×2".to_string())
            && !new.iter().any(|o| o.starts_with("Resize×")),
        "{new:?}"
    );
}

#[test]
fn int8_rewritten_graph_stays_within_the_stated_tolerance() {
    compare_on_real_frames("int8", |image, i, max, mean| {
        let (max_tol, mean_tol) = if i == 0 { (0.05, 0.001) } else { (0.6, 0.08) };
        assert!(
            max <= max_tol && mean <= mean_tol,
            "int8 {image} output {i}: max {max} (≤ {max_tol}), mean {mean} (≤ {mean_tol})"
        );
    });
    // All 34 convolutions run on int8 kernels: the 28 3×3 ones (the first included, which tract
    // would run as a float DirectSpatialConv) and the six 1×1 ones, which tract's declutter has
    // already made matrix products. On tract's dot-product kernels each is an im2col (writing the
    // kernel's packing where tract packs the patches), a product and a Requantize; on lookout's
    // AVX2 kernel each is one fused op (every weight of the shipped model is within its ±64).
    let spec = ModelSpec::load(&model("int8")).expect("bundled manifest");
    let ops = plan_ops(&mut engine(&spec, true));
    let count = |name: &str| -> usize {
        ops.iter()
            .filter_map(|o| o.strip_prefix(&format!("{name}×")))
            .map(|n| n.parse::<usize>().unwrap())
            .sum()
    };
    use lookout::detect::rewrite::{int8_backend, Int8Backend};
    match int8_backend() {
        None => {
            eprintln!("no fast int8 kernel on this CPU: the convolutions stay float");
            assert_eq!(count("Requantize(lookout)"), 0, "{ops:?}");
            assert_eq!(count("ConvU8Avx2(lookout)"), 0, "{ops:?}");
        }
        Some(Int8Backend::Tract) => {
            assert_eq!(
                count("Im2ColU8(lookout)") + count("Im2ColPacked(lookout)"),
                34,
                "{ops:?}"
            );
            assert_eq!(count("Requantize(lookout)"), 34, "{ops:?}");
            assert_eq!(count("DirectSpatialConv"), 0, "{ops:?}");
        }
        Some(Int8Backend::Avx2) => {
            assert_eq!(count("ConvU8Avx2(lookout)"), 34, "{ops:?}");
            assert_eq!(count("Requantize(lookout)"), 0, "{ops:?}");
            assert_eq!(count("DirectSpatialConv"), 0, "{ops:?}");
        }
    }
}

/// #16 item 2: lookout's AVX2 int8 convolution and tract's int8 matrix product compute the same
/// exact integer sums and requantise them the same way (`Rescale`), so the whole INT8 network
/// gives bitwise the same outputs on either, on a real image. (Tract's int8 kernel without a dot
/// product is slow, hence the small input.)
#[test]
fn int8_backends_give_bitwise_the_same_outputs() {
    use lookout::detect::rewrite::{avx2, Int8Backend};
    if !avx2::available() {
        eprintln!("skipped: no AVX2 on this CPU");
        return;
    }
    let spec = ModelSpec::load(&model("int8")).expect("bundled manifest");
    let (mut ours, mut tracts) = (engine(&spec, true), engine(&spec, true));
    ours.set_int8_backend(Some(Int8Backend::Avx2));
    tracts.set_int8_backend(Some(Int8Backend::Tract));
    let mut rgb = Vec::new();
    let (sw, sh) = load_rgb(&data("bus.jpg"), &mut rgb).expect("test image decodes");
    let (w, h) = (224u32, 160u32);
    let mut input = Vec::new();
    Preprocessor::new(&spec.input).run(&rgb, sw, sh, w, h, &mut input);
    let shape = [1, 3, h as usize, w as usize];
    ours.run(&input, shape).expect("AVX2 backend runs");
    tracts.run(&input, shape).expect("tract backend runs");
    let (a, b) = (ours.outputs().unwrap(), tracts.outputs().unwrap());
    assert_eq!(a.len(), b.len());
    for (i, (a, b)) in a.iter().zip(&b).enumerate() {
        assert_eq!(a.shape, b.shape);
        assert!(
            a.data == b.data,
            "output {i} differs: {:?}",
            differences(a.data, b.data)
        );
        // and the network computed something: scores are not all equal
        assert!(
            a.data.iter().any(|&v| v != a.data[0]),
            "output {i} is constant"
        );
    }
    // both plans really ran their backend
    let count = |e: &mut TractEngine, op: &str| {
        plan_ops(e)
            .iter()
            .filter(|o| o.starts_with(&format!("{op}×")))
            .count()
    };
    assert_eq!(count(&mut ours, "ConvU8Avx2(lookout)"), 1);
    assert_eq!(count(&mut tracts, "Requantize(lookout)"), 1);
}
