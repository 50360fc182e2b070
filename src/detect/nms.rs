//! Class-wise greedy non-maximum suppression.

use super::detection::Detection;

pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// Keeps, per class, the highest-scoring boxes whose IoU with every kept box of that class is at most
/// `threshold`. `dets` is reordered; the result is sorted by descending score.
pub fn nms_classwise(dets: &mut Vec<Detection>, threshold: f32) {
    // Sort by class, then by descending score, so each class is one contiguous run.
    dets.sort_by(|a, b| {
        a.class_id
            .cmp(&b.class_id)
            .then(b.score.total_cmp(&a.score))
    });
    let mut kept: Vec<Detection> = Vec::with_capacity(dets.len());
    let mut class_start = 0;
    for d in dets.drain(..) {
        if kept.last().is_some_and(|k| k.class_id != d.class_id) {
            class_start = kept.len();
        }
        if kept[class_start..]
            .iter()
            .all(|k| iou(&k.bbox, &d.bbox) <= threshold)
        {
            kept.push(d);
        }
    }
    kept.sort_by(|a, b| b.score.total_cmp(&a.score));
    *dets = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(class_id: usize, score: f32, bbox: [f32; 4]) -> Detection {
        Detection {
            class_id,
            score,
            bbox,
        }
    }

    #[test]
    fn iou_of_known_boxes() {
        assert_eq!(iou(&[0.0, 0.0, 10.0, 10.0], &[0.0, 0.0, 10.0, 10.0]), 1.0);
        assert_eq!(iou(&[0.0, 0.0, 10.0, 10.0], &[20.0, 20.0, 30.0, 30.0]), 0.0);
        assert!(
            (iou(&[0.0, 0.0, 10.0, 10.0], &[5.0, 0.0, 15.0, 10.0]) - 50.0 / 150.0).abs() < 1e-6
        );
    }

    #[test]
    fn suppresses_overlaps_within_a_class_only() {
        let mut d = vec![
            det(0, 0.5, [0.0, 0.0, 10.0, 10.0]),
            det(0, 0.9, [1.0, 0.0, 11.0, 10.0]),
            det(2, 0.7, [0.0, 0.0, 10.0, 10.0]),
            det(0, 0.6, [50.0, 50.0, 60.0, 60.0]),
        ];
        nms_classwise(&mut d, 0.5);
        let got: Vec<(usize, f32)> = d.iter().map(|d| (d.class_id, d.score)).collect();
        assert_eq!(got, vec![(0, 0.9), (2, 0.7), (0, 0.6)]);
    }
}
