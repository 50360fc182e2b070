//! What recognising a family from a bare `.onnx` looks at (its outputs' shapes, its Ultralytics
//! metadata, the fixed input size) and the checks several families share.

use crate::detect::onnx_info::{Dim, TensorInfo};
use crate::detect::ultralytics::Metadata;

/// A file's outputs as a family's `fits` sees them; every output has a shape.
pub struct Evidence<'a> {
    pub outputs: &'a [TensorInfo],
    /// The outputs' shapes, in the file's order.
    pub shapes: Vec<&'a [Dim]>,
    pub meta: &'a Metadata,
    /// The network input (width, height), when it is fixed.
    pub input: Option<(i64, i64)>,
}

impl<'a> Evidence<'a> {
    /// `None` when an output has no shape: no family is recognised from such a file.
    pub fn new(
        outputs: &'a [TensorInfo],
        meta: &'a Metadata,
        input: Option<(i64, i64)>,
    ) -> Option<Evidence<'a>> {
        let shapes: Vec<&[Dim]> = outputs.iter().filter_map(|o| o.shape.as_deref()).collect();
        (shapes.len() == outputs.len()).then_some(Evidence {
            outputs,
            shapes,
            meta,
            input,
        })
    }

    /// Whether `nc` classes is plausible and agrees with the metadata's names, if any.
    pub fn nc_ok(&self, nc: i64) -> bool {
        nc >= 1
            && self
                .meta
                .names
                .as_ref()
                .is_none_or(|n| n.len() as i64 == nc)
    }

    /// The two last dimensions of the one output, if there is one output of shape [1 or ?, a, b].
    pub fn single(&self) -> Option<(&'a Dim, &'a Dim)> {
        match self.shapes[..] {
            [s] if s.len() == 3 && batch_ok(s) => Some((&s[1], &s[2])),
            _ => None,
        }
    }
}

/// A batch of 1, or dynamic.
pub fn batch_ok(s: &[Dim]) -> bool {
    matches!(s.first(), Some(Dim::Known(1)) | Some(Dim::Sym(_)))
}

/// Anchor cells of a `w`×`h` input at strides 8, 16 and 32.
pub fn cells(w: i64, h: i64) -> i64 {
    [8, 16, 32].iter().map(|s| (w / s) * (h / s)).sum()
}

/// YOLOv5's and YOLOX's one output `[1, N, 5+nc]`: `per_cell` rows per cell of the grids at
/// strides 8/16/32 (checked when the input is fixed), `what` says which.
pub fn grid_rows(e: &Evidence<'_>, per_cell: i64, what: &str) -> Option<String> {
    let (a, b) = e.single()?;
    let b = b.known()?;
    let n_ok = match (a.known(), e.input) {
        (Some(a), Some((w, h))) => a == per_cell * cells(w, h),
        (None, _) => true,
        (Some(_), None) => false,
    };
    (b >= 6 && n_ok && e.nc_ok(b - 5))
        .then(|| format!("one output [1, {a}, {b}]: {what}, {} classes", b - 5))
}
