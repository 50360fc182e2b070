//! Plane geometry for zones and lines, in normalised frame coordinates: x = pixels / width and
//! y = pixels / height, both 0..1, origin top left, y pointing **down** (image convention). Zones
//! and lines are written in these units so one config fits every resolution.
//!
//! Also what zones and lines see of a track ([`Tracked`]), the point of its box that stands for it
//! ([`Anchor`]), and the checks on names and class lists that both configs share.

use serde::{Deserialize, Serialize};

/// A point in normalised frame coordinates.
pub type Point = [f64; 2];

/// What zones and lines see of one track in one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tracked<'a> {
    pub track_id: u64,
    /// The track's class name (the tracker's voted class, mapped to its name by the caller).
    pub class: &'a str,
    /// x1, y1, x2, y2 in frame pixels.
    pub bbox: [f32; 4],
    /// The tracker's `stationary` flag: the anchor has barely moved for a while.
    pub stationary: bool,
}

/// The point of a box that stands for the object. `bottom_center` (the default) is where a
/// pedestrian or a car touches the ground, which is what a zone drawn on the floor means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    #[default]
    BottomCenter,
    BottomLeft,
    BottomRight,
    Center,
    CenterLeft,
    CenterRight,
    TopCenter,
    TopLeft,
    TopRight,
}

impl Anchor {
    /// The anchor of `bbox` (pixels) in normalised coordinates; `None` for an empty frame size or
    /// a box with a non-finite coordinate (no evidence either way).
    pub fn point(self, bbox: [f32; 4], frame_wh: (u32, u32)) -> Option<Point> {
        let (w, h) = (f64::from(frame_wh.0), f64::from(frame_wh.1));
        if w <= 0.0 || h <= 0.0 || bbox.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let [x1, y1, x2, y2] = bbox.map(f64::from);
        let (left, right, top, bottom) = (x1.min(x2), x1.max(x2), y1.min(y2), y1.max(y2));
        let (cx, cy) = ((left + right) / 2.0, (top + bottom) / 2.0);
        let (x, y) = match self {
            Anchor::BottomCenter => (cx, bottom),
            Anchor::BottomLeft => (left, bottom),
            Anchor::BottomRight => (right, bottom),
            Anchor::Center => (cx, cy),
            Anchor::CenterLeft => (left, cy),
            Anchor::CenterRight => (right, cy),
            Anchor::TopCenter => (cx, top),
            Anchor::TopLeft => (left, top),
            Anchor::TopRight => (right, top),
        };
        Some([x / w, y / h])
    }
}

/// Twice the signed area of the triangle a, b, c: the z of (b - a) × (c - a). With y down it is
/// negative when c lies to the *left* of a→b as drawn on screen, positive to the right, 0 when
/// the three are collinear.
pub fn cross(a: Point, b: Point, c: Point) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// Signed distance of `p` from the infinite line through `from` and `to` (which must differ):
/// negative on the left of from→to as seen on screen, positive on the right.
///
/// "Left" is the left hand of someone walking from `from` to `to` on the image seen as a map:
/// for a line drawn left to right (from = [0, 0.5], to = [1, 0.5]) the left side is the upper half
/// of the image; for a line drawn top to bottom it is the right half.
pub fn signed_distance(p: Point, from: Point, to: Point) -> f64 {
    let len = (to[0] - from[0]).hypot(to[1] - from[1]);
    cross(from, to, p) / len
}

/// `p` lies within the bounding box of segment a-b (used once p is known collinear with it).
fn within_box(a: Point, b: Point, p: Point) -> bool {
    p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

/// Segments p1-p2 and q1-q2 share at least one point (touching ends and collinear overlap count).
pub fn segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool {
    let d1 = cross(q1, q2, p1);
    let d2 = cross(q1, q2, p2);
    let d3 = cross(p1, p2, q1);
    let d4 = cross(p1, p2, q2);
    let straddles = |a: f64, b: f64| (a > 0.0 && b < 0.0) || (a < 0.0 && b > 0.0);
    if straddles(d1, d2) && straddles(d3, d4) {
        return true;
    }
    (d1 == 0.0 && within_box(q1, q2, p1))
        || (d2 == 0.0 && within_box(q1, q2, p2))
        || (d3 == 0.0 && within_box(p1, p2, q1))
        || (d4 == 0.0 && within_box(p1, p2, q2))
}

/// Even–odd (ray casting) test; the ring is implicitly closed and may be concave. A point exactly
/// on an edge may land on either side, which is harmless for an anchor that moves.
pub fn point_in_polygon(p: Point, ring: &[Point]) -> bool {
    let mut inside = false;
    let mut j = ring.len().wrapping_sub(1);
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[j]);
        // Half-open in y so a vertex on the ray counts once.
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if p[0] < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// The ring without a closing point that repeats the first (users used to GeoJSON write one).
pub fn open_ring(polygon: &[Point]) -> &[Point] {
    match polygon {
        [first, .., last] if polygon.len() > 3 && first == last => &polygon[..polygon.len() - 1],
        _ => polygon,
    }
}

/// Absolute area of a ring (shoelace).
pub fn polygon_area(ring: &[Point]) -> f64 {
    let n = ring.len();
    let twice: f64 = (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum();
    twice.abs() / 2.0
}

/// Why `ring` is not a simple polygon (edges meet only at shared corners of neighbours), or `None`.
/// Quadratic in the number of corners, which the config caps.
pub fn self_intersection(ring: &[Point]) -> Option<String> {
    let n = ring.len();
    let edge = |i: usize| (ring[i], ring[(i + 1) % n]);
    for i in 0..n {
        let (a, b) = edge(i);
        if a == b {
            return Some(format!(
                "corners {i} and {} are the same point",
                (i + 1) % n
            ));
        }
        // The next edge shares corner b: it must not fold back along this one.
        let (_, c) = edge((i + 1) % n);
        if cross(a, b, c) == 0.0 && (within_box(a, b, c) || within_box(b, c, a)) {
            return Some(format!("edges {i} and {} overlap", (i + 1) % n));
        }
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue; // the closing edge is the first edge's other neighbour
            }
            let (p, q) = edge(j);
            if segments_intersect(a, b, p, q) {
                return Some(format!("edges {i} and {j} cross"));
            }
        }
    }
    None
}

/// A zone or line name: it becomes an MQTT topic level, so the same characters as a camera name.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid name: use 1 to 64 characters from A-Z a-z 0-9 _ . - \
             (it becomes an MQTT topic level)"
        ))
    }
}

/// A class list: names not empty, none twice. Whether they are classes of the model is the
/// caller's check (it knows the model).
pub fn check_classes(classes: &[String]) -> Result<(), (String, String)> {
    for (i, c) in classes.iter().enumerate() {
        if c.trim().is_empty() {
            return Err((format!("classes[{i}]"), "a class name is empty".into()));
        }
        if classes[..i].contains(c) {
            return Err((format!("classes[{i}]"), format!("{c:?} is listed twice")));
        }
    }
    Ok(())
}

/// A point given in normalised coordinates lies in the frame.
pub fn check_point(p: Point) -> Result<(), String> {
    if p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)) {
        Ok(())
    } else {
        Err(format!(
            "[{}, {}] is outside the frame: coordinates are fractions of the width and height, 0 to 1",
            p[0], p[1]
        ))
    }
}

/// `class` passes a filter (`[]` lets every class through).
pub fn class_allowed(filter: &[String], class: &str) -> bool {
    filter.is_empty() || filter.iter().any(|c| c == class)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An L-shaped (concave) polygon: the square 0..1 minus its top-right quarter.
    const L_SHAPE: [Point; 6] = [
        [0.0, 0.0],
        [0.5, 0.0],
        [0.5, 0.5],
        [1.0, 0.5],
        [1.0, 1.0],
        [0.0, 1.0],
    ];

    #[test]
    fn point_in_convex_polygon() {
        let square = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]];
        assert!(point_in_polygon([0.5, 0.5], &square));
        assert!(point_in_polygon([0.21, 0.79], &square));
        assert!(!point_in_polygon([0.1, 0.5], &square));
        assert!(!point_in_polygon([0.5, 0.9], &square));
        assert!(!point_in_polygon([0.9, 0.1], &square));
    }

    #[test]
    fn point_in_concave_polygon() {
        assert!(point_in_polygon([0.25, 0.25], &L_SHAPE));
        assert!(point_in_polygon([0.75, 0.75], &L_SHAPE));
        assert!(point_in_polygon([0.25, 0.75], &L_SHAPE));
        // The notch: inside the bounding box and the convex hull, outside the polygon.
        assert!(!point_in_polygon([0.75, 0.25], &L_SHAPE));
        assert!(!point_in_polygon([0.6, 0.45], &L_SHAPE));
        // A ray from this point passes through the reflex corner's y: counted once.
        assert!(point_in_polygon([0.25, 0.5], &L_SHAPE));
        assert!(!point_in_polygon([1.2, 0.5], &L_SHAPE));
    }

    #[test]
    fn left_is_negative_with_y_down() {
        // Drawn left to right: the upper half (smaller y) is on the left.
        let (from, to) = ([0.0, 0.5], [1.0, 0.5]);
        assert!((signed_distance([0.5, 0.4], from, to) + 0.1).abs() < 1e-12);
        assert!((signed_distance([0.5, 0.7], from, to) - 0.2).abs() < 1e-12);
        // Drawn top to bottom: the right half of the image is on the left.
        let (from, to) = ([0.5, 0.0], [0.5, 1.0]);
        assert!(signed_distance([0.6, 0.5], from, to) < 0.0);
        assert!(signed_distance([0.4, 0.5], from, to) > 0.0);
        // Drawn right to left: the lower half is on the left.
        let (from, to) = ([1.0, 0.5], [0.0, 0.5]);
        assert!(signed_distance([0.5, 0.6], from, to) < 0.0);
    }

    #[test]
    fn segment_intersection_cases() {
        let (a, b) = ([0.2, 0.5], [0.8, 0.5]);
        assert!(segments_intersect(a, b, [0.5, 0.4], [0.5, 0.6]));
        assert!(
            !segments_intersect(a, b, [0.9, 0.4], [0.9, 0.6]),
            "beyond the end"
        );
        assert!(
            segments_intersect(a, b, [0.8, 0.4], [0.8, 0.6]),
            "touches the end"
        );
        assert!(
            !segments_intersect(a, b, [0.5, 0.4], [0.5, 0.45]),
            "stops short"
        );
        assert!(
            segments_intersect(a, b, [0.7, 0.5], [0.9, 0.5]),
            "collinear overlap"
        );
        assert!(
            !segments_intersect(a, b, [0.85, 0.5], [0.9, 0.5]),
            "collinear apart"
        );
    }

    #[test]
    fn simple_and_self_intersecting_polygons() {
        assert_eq!(self_intersection(&L_SHAPE), None);
        assert_eq!(
            self_intersection(&[[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]),
            None
        );
        let bow_tie = [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
        assert_eq!(
            self_intersection(&bow_tie),
            Some("edges 0 and 2 cross".into())
        );
        // Two triangles touching at one corner (a figure eight) are not one simple polygon.
        let eight = [
            [0.0, 0.0],
            [0.5, 0.5],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.5, 0.5],
            [0.0, 1.0],
        ];
        assert!(self_intersection(&eight).is_some());
        let spike = [[0.0, 0.0], [1.0, 0.0], [0.5, 0.0], [0.5, 1.0]];
        assert_eq!(
            self_intersection(&spike),
            Some("edges 0 and 1 overlap".into())
        );
        let repeated = [[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.5, 1.0]];
        assert!(self_intersection(&repeated).is_some());
    }

    #[test]
    fn anchors_are_normalised() {
        let bbox = [100.0, 50.0, 300.0, 250.0];
        let wh = (400, 500);
        assert_eq!(Anchor::BottomCenter.point(bbox, wh), Some([0.5, 0.5]));
        assert_eq!(Anchor::Center.point(bbox, wh), Some([0.5, 0.3]));
        assert_eq!(Anchor::TopLeft.point(bbox, wh), Some([0.25, 0.1]));
        assert_eq!(Anchor::BottomRight.point(bbox, wh), Some([0.75, 0.5]));
        assert_eq!(Anchor::Center.point(bbox, (0, 500)), None);
        assert_eq!(Anchor::Center.point([f32::NAN, 0.0, 1.0, 1.0], wh), None);
    }

    #[test]
    fn closing_point_is_dropped() {
        let closed = [[0.0, 0.0], [1.0, 0.0], [0.5, 1.0], [0.0, 0.0]];
        assert_eq!(open_ring(&closed).len(), 3);
        assert_eq!(open_ring(&closed[..3]).len(), 3);
        assert!((polygon_area(open_ring(&closed)) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn names_and_classes() {
        assert!(check_name("door-1.left_side").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name("a+").is_err());
        assert_eq!(
            check_classes(&["car".into(), "person".into(), "car".into()]),
            Err(("classes[2]".into(), "\"car\" is listed twice".into()))
        );
        assert!(class_allowed(&[], "person"));
        assert!(!class_allowed(&["car".into()], "person"));
    }
}
