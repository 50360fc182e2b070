//! Manifest (if any) + what the `.onnx` says + the family's defaults → one [`ModelSpec`]. A key the
//! manifest sets wins; then the file (input shape and type, Ultralytics metadata); then the family.

use std::path::{Path, PathBuf};

use super::family::descriptor::{BoxOrder, DecoderSpec, Family, Setting};
use super::family::recognise::{self, Recognised};
use super::family::registry::ALL;
use super::input::{InputSpec, InputType, Layout};
use super::manifest::{self, Manifest};
use super::onnx_info::{self, Dim, ElemType, OnnxInfo, TensorInfo};
use super::spec::ModelSpec;
use super::ultralytics::Metadata;
use crate::error::{Error, Result};

/// The 80 COCO class names, for models with 80 classes and no names of their own.
const COCO80: &str = include_str!("../../models/coco80.txt");

// Loading lives here, above the data types in `spec.rs`, which import nothing that loads.
impl ModelSpec {
    /// Loads a model: `path` is a manifest (`.toml`) or an `.onnx` file, with or without a manifest
    /// beside it. Without one, the family is recognised from the file (see [`super::family`]).
    pub fn load(path: &Path) -> Result<ModelSpec> {
        load(path, None)
    }

    /// As [`ModelSpec::load`], with the family given (`--family`, `[detector] family`).
    pub fn load_as(path: &Path, family: Option<Family>) -> Result<ModelSpec> {
        load(path, family)
    }
}

/// See [`ModelSpec::load`].
pub fn load(path: &Path, family: Option<Family>) -> Result<ModelSpec> {
    let (onnx, manifest) = locate(path)?;
    let info = onnx_info::read(&onnx)?;
    resolve(&onnx, manifest.as_ref(), &info, family)
}

/// The `.onnx` a `--model` path names and its manifest: a `.toml` and the file it names, or an
/// `.onnx` and the manifest beside it that names it, if there is one.
pub fn locate(path: &Path) -> Result<(PathBuf, Option<Manifest>)> {
    if path.extension().is_some_and(|e| e == "onnx") {
        let manifest = manifest::beside(path)
            .map(|p| Manifest::read(&p))
            .transpose()?;
        return Ok((path.to_path_buf(), manifest));
    }
    let m = Manifest::read(path)?;
    Ok((m.dir().join(&m.file.file), Some(m)))
}

/// Builds the spec for `onnx` from its manifest (if any), its header and the family.
pub fn resolve(
    onnx: &Path,
    manifest: Option<&Manifest>,
    info: &OnnxInfo,
    family_override: Option<Family>,
) -> Result<ModelSpec> {
    let err_path = manifest
        .map(|m| m.path.clone())
        .unwrap_or(onnx.to_path_buf());
    let bad = |msg: String| Error::Model {
        path: err_path.clone(),
        msg,
    };
    let meta = Metadata::from_props(&info.metadata);
    detection_task(&meta).map_err(&bad)?;
    let mf = manifest.map(|m| m.file.clone());
    let mi = mf.as_ref().map(|m| m.input.clone()).unwrap_or_default();
    let md = mf.as_ref().map(|m| m.decoder.clone()).unwrap_or_default();

    let input = pick_input(info, mi.name.as_deref()).map_err(&bad)?;
    let shape = input.shape.clone();
    let layout = match (mi.layout, shape.as_deref()) {
        (Some(l), _) => l,
        (None, Some(s)) => layout_of(s).ok_or_else(|| bad(not_an_image(input)))?,
        (None, None) => Layout::Nchw,
    };
    let fixed = check_shape(input, layout).map_err(&bad)?;
    let dtype = input_type(mi.dtype, input).map_err(&bad)?;
    let size = input_size(mi.size, fixed).map_err(&bad)?;

    let (family, recognised) = match (family_override, md.family) {
        (Some(f), _) => (f, "--family".to_string()),
        (None, Some(f)) => (f, "manifest".to_string()),
        (None, None) => recognise(info, &meta, size).map_err(&bad)?,
    };
    let d = (family.descriptor().preprocessing)(dtype);
    let classes = classes(manifest, &meta, nc_of(family, info))?;
    let outputs = outputs(family, info, &md).map_err(&bad)?;
    let reg_max = md
        .reg_max
        .unwrap_or_else(|| nanodet_reg_max(info, &outputs));
    let long = meta
        .imgsz
        .map(|(w, h)| w.max(h))
        .or(size.map(|(w, h)| w.max(h)));
    let spec = ModelSpec {
        name: mf
            .as_ref()
            .and_then(|m| m.name.clone())
            .unwrap_or_else(|| stem(onnx)),
        precision: mf
            .as_ref()
            .and_then(|m| m.precision.clone())
            .unwrap_or_else(|| if info.quantized { "int8" } else { "fp32" }.into()),
        onnx_path: onnx.to_path_buf(),
        manifest_path: manifest.map(|m| m.path.clone()),
        licence: mf.as_ref().map(|m| m.licence.clone()).unwrap_or_default(),
        input: InputSpec {
            name: input.name.clone(),
            layout,
            dtype,
            colour: mi.colour.unwrap_or(d.colour),
            mean: mi.mean.unwrap_or(d.mean),
            std: mi.std.unwrap_or(d.std),
            resize: mi.resize.unwrap_or(d.resize),
            pad_value: mi.pad_value.unwrap_or(114.0),
            size,
            size_multiple: mi.size_multiple.or(meta.stride).unwrap_or(32),
            default_long_side: mi.default_long_side.or(long).unwrap_or(640),
        },
        decoder: DecoderSpec {
            family,
            outputs,
            strides: md.strides.unwrap_or(vec![8, 16, 32]),
            reg_max,
            box_order: md.box_order.unwrap_or(BoxOrder::Yxyx),
            class_offset: md.class_offset.unwrap_or(0),
        },
        classes,
        recognised,
    };
    validate(&spec).map_err(bad)?;
    Ok(spec)
}

/// An Ultralytics model of another task (segment, classify, pose, obb) is refused with the
/// variant to export instead.
fn detection_task(meta: &Metadata) -> std::result::Result<(), String> {
    match meta.task.as_deref().filter(|t| *t != "detect") {
        None => Ok(()),
        Some(task) => Err(format!(
            "this is an Ultralytics '{task}' model; lookout runs detection models (task 'detect'): \
             export the detection variant (e.g. yolov8n.pt rather than yolov8n-{}.pt)",
            match task {
                "segment" => "seg",
                "classify" => "cls",
                "pose" => "pose",
                _ => "obb",
            }
        )),
    }
}

/// What the input is fed: the manifest's type, else the model's float32 or uint8.
fn input_type(
    manifest: Option<InputType>,
    input: &TensorInfo,
) -> std::result::Result<InputType, String> {
    match (manifest, input.elem) {
        (Some(t), _) => Ok(t),
        (None, ElemType::F32) => Ok(InputType::Float32),
        (None, ElemType::U8) => Ok(InputType::Uint8),
        (None, other) => Err(format!(
            "input '{}' is {}; lookout feeds float32 or uint8 images: export the model in FP32 \
             (for Ultralytics: half=False)",
            input.name,
            other.name()
        )),
    }
}

/// The input size: the manifest's, which must agree with a fixed one, else the model's own.
fn input_size(
    manifest: Option<[u32; 2]>,
    fixed: Option<(u32, u32)>,
) -> std::result::Result<Option<(u32, u32)>, String> {
    match (manifest, fixed) {
        (Some([w, h]), Some(f)) if (w, h) != f => Err(format!(
            "input.size {w}x{h} disagrees with the model's fixed input {}x{}",
            f.0, f.1
        )),
        (Some([w, h]), _) => Ok(Some((w, h))),
        (None, f) => Ok(f),
    }
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into())
}

/// The one image input (or the one the manifest names).
fn pick_input<'a>(
    info: &'a OnnxInfo,
    named: Option<&str>,
) -> std::result::Result<&'a TensorInfo, String> {
    let names: Vec<&str> = info.inputs.iter().map(|i| i.name.as_str()).collect();
    match named {
        Some(n) => info
            .inputs
            .iter()
            .find(|i| i.name == n)
            .ok_or_else(|| format!("the manifest names input '{n}', the model has {names:?}")),
        None => match &info.inputs[..] {
            [one] => Ok(one),
            [] => Err("the model has no inputs".into()),
            _ => Err(format!(
                "the model has {} inputs {names:?}; lookout feeds one image tensor, so a model with \
                 extra inputs (image size, scale factor) needs them folded in at export",
                names.len()
            )),
        },
    }
}

fn not_an_image(input: &TensorInfo) -> String {
    format!(
        "input '{}' has shape {}; lookout feeds one image as [1, 3, H, W] or [1, H, W, 3]",
        input.name,
        input.shape_text()
    )
}

fn layout_of(s: &[Dim]) -> Option<Layout> {
    match s {
        [_, Dim::Known(3), _, _] => Some(Layout::Nchw),
        [_, _, _, Dim::Known(3)] => Some(Layout::Nhwc),
        _ => None,
    }
}

/// Checks rank and batch; returns the fixed (width, height) if both are fixed.
fn check_shape(
    input: &TensorInfo,
    layout: Layout,
) -> std::result::Result<Option<(u32, u32)>, String> {
    let Some(s) = input.shape.as_deref() else {
        return Ok(None);
    };
    if s.len() != 4 {
        return Err(not_an_image(input));
    }
    if let Dim::Known(b) = s[0] {
        if b != 1 {
            return Err(format!(
                "input '{}' has a fixed batch of {b}; lookout runs one frame at a time: export with \
                 batch 1 (or a dynamic batch)",
                input.name
            ));
        }
    }
    let (h, w) = match layout {
        Layout::Nchw => (&s[2], &s[3]),
        Layout::Nhwc => (&s[1], &s[2]),
    };
    Ok(match (w.known(), h.known()) {
        (Some(w), Some(h)) if w > 0 && h > 0 && w <= 8192 && h <= 8192 => {
            Some((w as u32, h as u32))
        }
        (Some(w), Some(h)) => return Err(format!("input size {w}x{h} is out of range")),
        _ => None,
    })
}

fn recognise(
    info: &OnnxInfo,
    meta: &Metadata,
    size: Option<(u32, u32)>,
) -> std::result::Result<(Family, String), String> {
    let input = size.map(|(w, h)| (w as i64, h as i64));
    match recognise::recognise(info, meta, input) {
        Recognised::One { family, why } => match family.descriptor().needs_manifest {
            Some(why_not) => Err(why_not.into()),
            None => Ok((family, why)),
        },
        Recognised::None { why } => Err(format!(
            "{why}; lookout decodes: {}. If this is a detector of one of these, say which with \
             --family NAME or a manifest (`lookout model inspect FILE.onnx --write`)",
            ALL.iter()
                .map(|f| format!("{f} ({})", f.expects()))
                .collect::<Vec<_>>()
                .join("; ")
        )),
        Recognised::Several { fits } => Err(format!(
            "the outputs fit several families: {}; choose one with --family NAME (or \
             `[decoder] family` in a manifest)",
            fits.iter()
                .map(|(f, why)| format!("{f} ({why})"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The class count the outputs imply, where they do.
fn nc_of(family: Family, info: &OnnxInfo) -> Option<usize> {
    let dims = info.outputs.first()?.known_shape()?;
    let nc = (family.descriptor().class_count)(&dims)?;
    usize::try_from(nc).ok().filter(|n| *n > 0)
}

/// Class names: the manifest's, the file's metadata, COCO-80 for 80 classes, else `class0`...
fn classes(manifest: Option<&Manifest>, meta: &Metadata, nc: Option<usize>) -> Result<Vec<String>> {
    let (names, source) = if let Some(c) = manifest.map(Manifest::classes).transpose()?.flatten() {
        (c, "the manifest")
    } else if let Some(n) = &meta.names {
        (n.clone(), "the file's metadata")
    } else if nc == Some(80) || nc.is_none() {
        (
            COCO80.lines().map(str::to_string).collect(),
            "COCO-80 (80 classes, no names in the file)",
        )
    } else {
        let n = nc.unwrap_or(0);
        tracing::warn!(
            classes = n,
            "the model has no class names; they are class0..class{}: write them in a manifest \
             (`lookout model inspect FILE.onnx --write`)",
            n.saturating_sub(1)
        );
        ((0..n).map(|i| format!("class{i}")).collect(), "numbered")
    };
    if let Some(n) = nc.filter(|n| *n != names.len()) {
        let path = manifest.map(|m| m.path.clone()).unwrap_or_default();
        return Err(Error::Model {
            path,
            msg: format!(
                "the outputs have {n} classes, the class names from {source} are {}",
                names.len()
            ),
        });
    }
    Ok(names)
}

/// Output names in the order the family reads them.
fn outputs(
    family: Family,
    info: &OnnxInfo,
    md: &manifest::DecoderFile,
) -> std::result::Result<Vec<String>, String> {
    let have: Vec<&str> = info.outputs.iter().map(|o| o.name.as_str()).collect();
    let want = &family.descriptor().outputs;
    let chosen: Vec<String> = if let Some(o) = &md.outputs {
        o.clone()
    } else if let (Some(s), Some(b)) = (&md.scores_output, &md.boxes_output) {
        vec![s.clone(), b.clone()]
    } else if let Some(find) = family.descriptor().find_outputs {
        find(&have)?
    } else if want.contains(&have.len()) || have.len() == 1 {
        // A single output is taken even for a family that reads more: the count check below then
        // says how many it reads.
        have.iter().map(|s| s.to_string()).collect()
    } else {
        return Err(format!(
            "{family} reads {}, the model has outputs {have:?}: name the one to read in a \
             manifest (`[decoder] outputs = [...]`)",
            family.expects()
        ));
    };
    if !want.contains(&chosen.len()) {
        return Err(format!(
            "{family} reads {}, the manifest names {} output(s)",
            family.expects(),
            chosen.len()
        ));
    }
    if let Some(missing) = chosen.iter().find(|n| !have.contains(&n.as_str())) {
        return Err(format!(
            "the manifest names output '{missing}', the model has {have:?}"
        ));
    }
    Ok(chosen)
}

fn nanodet_reg_max(info: &OnnxInfo, outputs: &[String]) -> u32 {
    outputs
        .get(1)
        .and_then(|name| info.outputs.iter().find(|o| &o.name == name))
        .and_then(|o| o.shape.as_ref()?.last()?.known())
        .filter(|v| v % 4 == 0 && *v >= 8)
        .map(|v| (v / 4 - 1) as u32)
        .unwrap_or(10)
}

fn validate(s: &ModelSpec) -> std::result::Result<(), String> {
    if s.classes.is_empty() {
        return Err("the class list is empty".into());
    }
    // Pixels are 0..255, so a std below 1e-3 (or NaN, or infinite) turns every input into
    // huge or non-finite values: a manifest typo, not a model.
    if let Some(v) = s.input.std.iter().find(|v| !(v.is_finite() && **v >= 1e-3)) {
        return Err(format!(
            "input.std {v} is not a usable scale: each value must be finite and at least 0.001 \
             (1.0 for a model that takes 0..255, 255.0 for one that takes 0..1)"
        ));
    }
    if let Some(v) = s
        .input
        .mean
        .iter()
        .find(|v| !(v.is_finite() && v.abs() <= 1e4))
    {
        return Err(format!(
            "input.mean {v} is not a usable offset: each value must be finite, within ±10000"
        ));
    }
    if s.input.size_multiple == 0 || s.input.size_multiple > 4096 {
        return Err("input.size_multiple must be between 1 and 4096".into());
    }
    if !(0.0..=255.0).contains(&s.input.pad_value) {
        return Err("input.pad_value must be between 0 and 255".into());
    }
    if s.decoder.family.reads(Setting::Strides) {
        let strides = &s.decoder.strides;
        if strides.is_empty() || strides.contains(&0) {
            return Err("decoder.strides must be non-empty and positive".into());
        }
        if s.input.size.is_none() {
            if let Some(st) = strides
                .iter()
                .find(|st| !s.input.size_multiple.is_multiple_of(**st))
            {
                return Err(format!(
                    "input.size_multiple {} is not a multiple of stride {st}",
                    s.input.size_multiple
                ));
            }
        }
    }
    Ok(())
}

/// Where `lookout model inspect --write` puts a manifest for `onnx`: `FILE.toml` beside it.
pub fn manifest_path_for(onnx: &Path) -> PathBuf {
    onnx.with_extension("toml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::input::ResizeMode;

    fn spec() -> ModelSpec {
        ModelSpec::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/nanodet-m-fp32.toml"))
            .expect("bundled manifest loads")
    }

    #[test]
    fn input_size_keeps_aspect_ratio_like_the_reference() {
        let s = spec();
        assert_eq!(s.input_size_for(810, 1080, 416), (320, 416)); // bus.jpg
        assert_eq!(s.input_size_for(1280, 720, 416), (416, 256)); // zidane.jpg
        assert_eq!(s.input_size_for(768, 576, 416), (416, 320)); // dog.jpg, vtest.avi
        assert_eq!(s.input_size_for(768, 576, 544), (544, 416)); // vtest.avi#100 reference
        assert_eq!(s.input_size_for(10, 10000, 400), (32, 416));
    }

    #[test]
    fn bundled_manifests_load_with_80_classes() {
        let s = spec();
        assert_eq!(s.classes.len(), 80);
        assert_eq!(s.classes[0], "person");
        assert_eq!(s.classes[7], "truck");
        assert!(s.onnx_path.exists());
        let onnx = s.onnx_path.clone();
        let via_onnx = ModelSpec::load(&onnx).expect("manifest found beside onnx");
        assert_eq!(via_onnx.precision, "fp32");
        assert_eq!(
            via_onnx.manifest_path.as_deref(),
            Some(s.manifest_path.as_deref().expect("manifest"))
        );
        assert_eq!(via_onnx.decoder.outputs, ["cls_scores", "box_dist"]);
        assert_eq!((s.input.resize, s.input.size), (ResizeMode::Stretch, None));
        assert_eq!(s.decoder.family, crate::detect::family::nanodet::FAMILY);
    }
}
