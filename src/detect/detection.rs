//! One detected object: what decoders produce, NMS filters and the pipeline publishes. A leaf, so
//! that the decoders and NMS need not import the detector's module.

/// One detected object, box in the frame's own pixels (x1, y1, x2, y2).
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub class_id: usize,
    pub score: f32,
    pub bbox: [f32; 4],
}
