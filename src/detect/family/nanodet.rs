//! NanoDet / GFL head: sigmoided class scores [1,N,C] and per-side distance bins
//! [1,N,4·(reg_max+1)] over anchor grids at `decoder.strides`.

use super::descriptor::{Descriptor, Family, Hint, Preprocessing, Setting};
use super::evidence::{batch_ok, Evidence};
use crate::detect::decode::nanodet::NanoDetGfl;
use crate::detect::input::{ColourOrder, ResizeMode};

pub const FAMILY: Family = Family::new(&DESCRIPTOR);

static DESCRIPTOR: Descriptor = Descriptor {
    name: "nanodet-gfl",
    aliases: &[],
    help: "NanoDet / GFL head: sigmoided scores [1,N,C] + distance bins [1,N,4·(reg_max+1)]",
    expects: "scores [1,N,C] and box bins [1,N,4*(reg_max+1)]",
    nms: true,
    // NanoDet's own: BGR, ImageNet mean and std on 0..255.
    preprocessing: |_| Preprocessing {
        colour: ColourOrder::Bgr,
        mean: [103.53, 116.28, 123.675],
        std: [57.375, 57.12, 58.395],
        resize: ResizeMode::Stretch,
    },
    fits,
    metadata: |_| Hint::Neutral,
    needs_manifest: None,
    class_count: |dims| match dims {
        [_, _, c] => Some(*c),
        _ => None,
    },
    outputs: 2..=2,
    find_outputs: None,
    settings: &[Setting::Strides, Setting::RegMax],
    decoder: |spec| {
        Box::new(NanoDetGfl {
            strides: spec.strides.clone(),
            bins: spec.reg_max as usize + 1,
        })
    },
};

/// Two outputs [1, N, C] and [1, N, 4·bins]. C = 80 passes even though it is a multiple of 4.
fn fits(e: &Evidence<'_>) -> Option<String> {
    let [s, b] = e.shapes[..] else { return None };
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
            e.outputs[0].shape_text(),
            e.outputs[1].shape_text()
        )
    })
}
