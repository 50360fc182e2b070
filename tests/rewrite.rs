//! lookout's graph rewrite (src/detect/rewrite.rs) against tract's own graph, on real frames.
//!
//! Tolerance: none. The rewritten Resize adds the same products in the same order as tract's, so
//! every output of the network must be bitwise equal, for both shipped models, at the input sizes
//! a 4:3 video and a landscape photo get.

mod common;

use common::*;
use lookout::detect::decode::decoder_for;
use lookout::detect::engine::{Device, Engine, TractEngine};
use lookout::detect::{ModelSpec, Preprocessor};
use lookout::source::images::load_rgb;

fn engine(spec: &ModelSpec, rewrite: bool) -> TractEngine {
    let names = decoder_for(&spec.decoder).output_names();
    let mut e = TractEngine::load(spec, &names, 1, Device::Cpu).expect("model loads");
    e.set_rewrite(rewrite);
    e
}

#[test]
fn rewritten_graph_gives_bitwise_the_same_outputs_on_real_frames() {
    for precision in ["fp32", "int8"] {
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
                let differing = a.data.iter().zip(b.data).filter(|(x, y)| x != y).count();
                assert_eq!(
                    differing, 0,
                    "{precision} {image} output {i}: {differing} values differ"
                );
            }
        }
        // The rewrite really ran: the rewritten plan has lookout's resize ops, tract's has none.
        let ops = |e: &mut TractEngine| -> Vec<String> {
            e.profile(&vec![0.0; 3 * 320 * 416], [1, 3, 320, 416], 1)
                .unwrap()
                .unwrap()
                .into_iter()
                .map(|o| format!("{}×{}", o.op, o.nodes))
                .collect()
        };
        let (plain_ops, new_ops) = (ops(&mut plain), ops(&mut rewritten));
        assert!(plain_ops.contains(&"Resize×4".to_string()), "{plain_ops:?}");
        assert!(
            new_ops.contains(&"Resize2x(lookout)×2".to_string())
                && new_ops.contains(&"ResizeHalf(lookout)×2".to_string())
                && !new_ops.iter().any(|o| o.starts_with("Resize×")),
            "{precision}: {new_ops:?}"
        );
    }
}
