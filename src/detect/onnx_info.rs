//! What an `.onnx` file says about itself without running it: inputs and outputs with their element
//! types and shapes (symbolic dimensions kept by name), `metadata_props` (Ultralytics writes the
//! class names, input size and task there), opset and producer.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use tract_onnx::pb;
use tract_onnx::prelude::Framework;

use crate::error::{Error, Result};

/// One dimension of an input or output shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    Known(i64),
    /// A named (`"height"`) or unnamed (`"?"`) dynamic dimension.
    Sym(String),
}

impl Dim {
    pub fn known(&self) -> Option<i64> {
        match self {
            Dim::Known(v) => Some(*v),
            Dim::Sym(_) => None,
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Known(v) => write!(f, "{v}"),
            Dim::Sym(s) => write!(f, "{s}"),
        }
    }
}

/// Element types lookout meets in detector inputs and outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElemType {
    F32,
    F16,
    F64,
    U8,
    I8,
    I32,
    I64,
    Other(i32),
}

impl ElemType {
    fn from_onnx(code: i32) -> ElemType {
        match code {
            1 => ElemType::F32,
            2 => ElemType::U8,
            3 => ElemType::I8,
            6 => ElemType::I32,
            7 => ElemType::I64,
            10 => ElemType::F16,
            11 => ElemType::F64,
            c => ElemType::Other(c),
        }
    }

    pub fn name(&self) -> String {
        match self {
            ElemType::F32 => "float32".into(),
            ElemType::F16 => "float16".into(),
            ElemType::F64 => "float64".into(),
            ElemType::U8 => "uint8".into(),
            ElemType::I8 => "int8".into(),
            ElemType::I32 => "int32".into(),
            ElemType::I64 => "int64".into(),
            ElemType::Other(c) => format!("onnx type {c}"),
        }
    }
}

/// An input or output: name, element type, shape (`None`: the file does not say).
#[derive(Debug, Clone)]
pub struct TensorInfo {
    pub name: String,
    pub elem: ElemType,
    pub shape: Option<Vec<Dim>>,
}

impl TensorInfo {
    /// `[1, 84, 8400]`, `[1, 3, height, width]` or `[?]`.
    pub fn shape_text(&self) -> String {
        match &self.shape {
            Some(s) => format!(
                "[{}]",
                s.iter().map(Dim::to_string).collect::<Vec<_>>().join(", ")
            ),
            None => "[?]".into(),
        }
    }

    /// The shape when every dimension is known.
    pub fn known_shape(&self) -> Option<Vec<i64>> {
        self.shape.as_ref()?.iter().map(Dim::known).collect()
    }
}

/// Everything [`read`] takes from the file.
#[derive(Debug, Clone)]
pub struct OnnxInfo {
    pub inputs: Vec<TensorInfo>,
    pub outputs: Vec<TensorInfo>,
    pub metadata: BTreeMap<String, String>,
    /// The default-domain operator set, 0 if the file does not say.
    pub opset: i64,
    /// `producer_name producer_version`, e.g. `pytorch 2.5.1`.
    pub producer: String,
    /// Whether the graph has quantisation nodes (QDQ or QLinear operators).
    pub quantized: bool,
}

/// Reads the header of an ONNX file (it parses the whole protobuf, weights included).
pub fn read(path: &Path) -> Result<OnnxInfo> {
    let model_err = |msg: String| Error::Model {
        path: path.to_path_buf(),
        msg,
    };
    super::files::check_file(path).map_err(model_err)?;
    let proto = tract_onnx::onnx().proto_model_for_path(path).map_err(|e| {
        model_err(format!(
            "not a readable ONNX file ({}); is it complete? re-export or re-copy it",
            super::files::first_line(&e)
        ))
    })?;
    Ok(from_proto(&proto))
}

fn from_proto(proto: &pb::ModelProto) -> OnnxInfo {
    let graph = proto.graph.clone().unwrap_or_default();
    let initializers: std::collections::HashSet<&str> =
        graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs = graph
        .input
        .iter()
        .filter(|v| !initializers.contains(v.name.as_str()))
        .map(tensor_info)
        .collect();
    let outputs = graph.output.iter().map(tensor_info).collect();
    let opset = proto
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .unwrap_or(0);
    let producer = format!("{} {}", proto.producer_name, proto.producer_version)
        .trim()
        .to_string();
    let metadata = proto
        .metadata_props
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    let quantized = graph.node.iter().any(|n| {
        matches!(n.op_type.as_str(), "QuantizeLinear" | "DequantizeLinear")
            || n.op_type.starts_with("QLinear")
    });
    OnnxInfo {
        inputs,
        outputs,
        metadata,
        opset,
        producer,
        quantized,
    }
}

fn tensor_info(v: &pb::ValueInfoProto) -> TensorInfo {
    use pb::tensor_shape_proto::dimension::Value as D;
    use pb::type_proto::Value as T;
    let tensor = v.r#type.as_ref().and_then(|t| match &t.value {
        Some(T::TensorType(t)) => Some(t),
        _ => None,
    });
    let shape = tensor.and_then(|t| t.shape.as_ref()).map(|s| {
        s.dim
            .iter()
            .map(|d| match &d.value {
                Some(D::DimValue(v)) if *v > 0 => Dim::Known(*v),
                Some(D::DimParam(p)) if !p.is_empty() => Dim::Sym(p.clone()),
                _ => Dim::Sym("?".into()),
            })
            .collect()
    });
    TensorInfo {
        name: v.name.clone(),
        elem: ElemType::from_onnx(tensor.map(|t| t.elem_type).unwrap_or(0)),
        shape,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_model_reads_with_dynamic_height_and_width() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("models/nanodet_m_416_coco_fp32.onnx");
        let info = read(&path).expect("reads");
        assert_eq!(info.inputs.len(), 1);
        assert_eq!(info.inputs[0].name, "images");
        assert_eq!(info.inputs[0].elem, ElemType::F32);
        let shape = info.inputs[0].shape.clone().expect("shape");
        assert_eq!(shape.len(), 4);
        assert_eq!(shape[1], Dim::Known(3));
        assert!(shape[2].known().is_none(), "{shape:?}");
        let names: Vec<&str> = info.outputs.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["cls_scores", "box_dist"]);
        assert!(info.opset >= 11);
    }

    #[test]
    fn a_truncated_file_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("lookout-onnx-info-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let full = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("models/nanodet_m_416_coco_fp32.onnx"),
        )
        .expect("model");
        let cut = dir.join("cut.onnx");
        std::fs::write(&cut, &full[..full.len() / 3]).expect("write");
        let err = read(&cut).expect_err("truncated").to_string();
        assert!(err.contains("not a readable ONNX file"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
