//! Every output decoder on arbitrary tensors: any shapes (consistent with their data, as an engine
//! gives them), any values (NaN and infinities included), any strides and input size. Each call is
//! detections with finite boxes and scores in (threshold, 1], or an error naming the shapes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lookout::detect::decode::{decoder_for, OutputView};
use lookout::detect::family::ALL as FAMILIES;
use lookout::detect::nms::nms_classwise;
use lookout::detect::spec::{BoxOrder, DecoderSpec};

/// Reads bytes off the front of the input; zeros once it runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn f32(&mut self) -> f32 {
        f32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let family = FAMILIES[b.u8() as usize % FAMILIES.len()];
    let strides: Vec<u32> = (0..b.u8() % 4).map(|_| u32::from(b.u8() % 65)).collect();
    let spec = DecoderSpec {
        family,
        outputs: Vec::new(),
        strides,
        reg_max: u32::from(b.u8() % 17),
        box_order: if b.u8() % 2 == 0 {
            BoxOrder::Yxyx
        } else {
            BoxOrder::Xyxy
        },
        // Any offset, extremes included (the multiplication wraps on purpose).
        class_offset: i64::from(b.u8() as i8).wrapping_mul(1 << (b.u8() % 63)),
    };
    let (w, h) = (u32::from(b.u8()) * 8 + 1, u32::from(b.u8()) * 8 + 1);
    let threshold = f32::from(b.u8()) / 255.0;
    // Up to 4 outputs of rank 1..=4, at most 4096 values each.
    let mut outputs: Vec<(Vec<usize>, Vec<f32>)> = Vec::new();
    for _ in 0..1 + b.u8() % 4 {
        let rank = 1 + b.u8() as usize % 4;
        let mut shape: Vec<usize> = (0..rank).map(|_| b.u8() as usize % 90).collect();
        while shape.iter().product::<usize>() > 4096 {
            if let Some(d) = shape.iter_mut().max() {
                *d /= 2;
            }
        }
        let n: usize = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|_| b.f32()).collect();
        outputs.push((shape, values));
    }
    let views: Vec<OutputView<'_>> = outputs
        .iter()
        .map(|(s, d)| OutputView { shape: s, data: d })
        .collect();
    let mut dets = Vec::new();
    if decoder_for(&spec)
        .decode(&views, w, h, threshold, &mut dets)
        .is_ok()
    {
        for d in &dets {
            assert!(d.score.is_finite() && d.score > threshold, "{d:?}");
            assert!(d.bbox.iter().all(|v| v.is_finite()), "{d:?}");
        }
        nms_classwise(&mut dets, 0.5);
    }
});
