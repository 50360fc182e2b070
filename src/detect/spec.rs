//! `ModelSpec`: the manifest that sits next to an `.onnx` file and states what the code must not
//! guess (input layout, colour order, normalisation, decoder family, class names).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Parsed and validated model manifest.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub name: String,
    pub precision: String,
    /// Absolute or manifest-relative path resolved to a usable path.
    pub onnx_path: PathBuf,
    pub manifest_path: PathBuf,
    pub licence: String,
    pub input: InputSpec,
    pub decoder: DecoderSpec,
    pub classes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    name: String,
    precision: String,
    file: PathBuf,
    #[serde(default)]
    licence: String,
    input: InputSpec,
    decoder: DecoderFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Nchw,
    Nhwc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColourOrder {
    Rgb,
    Bgr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResizeMode {
    /// Plain resize to the input size (aspect ratio handled by choosing the input size).
    Stretch,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub name: String,
    pub layout: Layout,
    pub colour: ColourOrder,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub resize: ResizeMode,
    pub size_multiple: u32,
    pub default_long_side: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Family {
    #[serde(rename = "nanodet-gfl")]
    NanoDetGfl,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecoderFile {
    family: Family,
    strides: Vec<u32>,
    reg_max: u32,
    scores_output: String,
    boxes_output: String,
    classes_file: PathBuf,
}

#[derive(Debug, Clone)]
pub struct DecoderSpec {
    pub family: Family,
    pub strides: Vec<u32>,
    pub reg_max: u32,
    pub scores_output: String,
    pub boxes_output: String,
}

impl ModelSpec {
    /// Load a manifest. `path` may be the manifest (`.toml`) or the `.onnx` file, in which case the
    /// manifest is looked for beside it: `<dir>/<any>.toml` whose `file` names this onnx.
    pub fn load(path: &Path) -> Result<ModelSpec> {
        let manifest_path = if path.extension().is_some_and(|e| e == "onnx") {
            find_manifest_for_onnx(path)?
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&manifest_path).map_err(|e| Error::Model {
            path: manifest_path.clone(),
            msg: format!(
                "cannot read the model manifest ({e}); pass --model with a manifest such as \
                 models/nanodet-m-fp32.toml or an .onnx file that has one beside it"
            ),
        })?;
        let file: ManifestFile = toml::from_str(&text).map_err(|e| Error::Model {
            path: manifest_path.clone(),
            msg: format!(
                "invalid model manifest: {}",
                crate::toml_span::error_line(&text, &e)
            ),
        })?;
        let dir = manifest_path.parent().unwrap_or(Path::new("."));
        let classes_path = dir.join(&file.decoder.classes_file);
        let classes: Vec<String> = std::fs::read_to_string(&classes_path)
            .map_err(|e| Error::Model {
                path: classes_path.clone(),
                msg: format!("cannot read class names named by the manifest: {e}"),
            })?
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        let spec = ModelSpec {
            name: file.name,
            precision: file.precision,
            onnx_path: dir.join(&file.file),
            manifest_path: manifest_path.clone(),
            licence: file.licence,
            input: file.input,
            decoder: DecoderSpec {
                family: file.decoder.family,
                strides: file.decoder.strides,
                reg_max: file.decoder.reg_max,
                scores_output: file.decoder.scores_output,
                boxes_output: file.decoder.boxes_output,
            },
            classes,
        };
        spec.validate()?;
        Ok(spec)
    }

    fn validate(&self) -> Result<()> {
        let bad = |msg: String| Error::Model {
            path: self.manifest_path.clone(),
            msg,
        };
        if self.classes.is_empty() {
            return Err(bad("the class list is empty".into()));
        }
        if self.input.size_multiple == 0 || self.input.default_long_side < self.input.size_multiple
        {
            return Err(bad(
                "input.size_multiple must be > 0 and <= default_long_side".into(),
            ));
        }
        if self.input.std.contains(&0.0) {
            return Err(bad("input.std must not contain 0".into()));
        }
        if self.decoder.strides.is_empty() || self.decoder.strides.contains(&0) {
            return Err(bad("decoder.strides must be non-empty and positive".into()));
        }
        if let Some(s) = self
            .decoder
            .strides
            .iter()
            .find(|s| !self.input.size_multiple.is_multiple_of(**s))
        {
            return Err(bad(format!(
                "input.size_multiple {} is not a multiple of stride {s}",
                self.input.size_multiple
            )));
        }
        Ok(())
    }

    /// Network input size (width, height) for a frame: the long side becomes `long_side` and the
    /// short side keeps the aspect ratio, each rounded up to `size_multiple`.
    pub fn input_size_for(&self, frame_w: u32, frame_h: u32, long_side: u32) -> (u32, u32) {
        input_size_for(frame_w, frame_h, long_side, self.input.size_multiple)
    }
}

/// See [`ModelSpec::input_size_for`].
pub fn input_size_for(frame_w: u32, frame_h: u32, long_side: u32, m: u32) -> (u32, u32) {
    let long = long_side.max(m).div_ceil(m) * m;
    let (fw, fh) = (frame_w.max(1) as f64, frame_h.max(1) as f64);
    let round_up = |v: f64| ((v / m as f64).ceil() as u32).max(1) * m;
    if fw >= fh {
        (long, round_up(fh * long as f64 / fw))
    } else {
        (round_up(fw * long as f64 / fh), long)
    }
}

fn find_manifest_for_onnx(onnx: &Path) -> Result<PathBuf> {
    let dir = onnx
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = onnx.file_name().unwrap_or_default();
    let not_found = || Error::Model {
        path: onnx.to_path_buf(),
        msg: "no model manifest (.toml) beside this .onnx names it in `file = ...`; \
              write one like models/nanodet-m-fp32.toml"
            .into(),
    };
    let entries = std::fs::read_dir(dir).map_err(|_| not_found())?;
    for entry in entries.flatten() {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "toml") {
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let Ok(value) = toml::from_str::<toml::Table>(&text) else {
                continue;
            };
            if value
                .get("file")
                .and_then(|f| f.as_str())
                .map(Path::new)
                .and_then(|f| f.file_name())
                == Some(name)
            {
                return Ok(p);
            }
        }
    }
    Err(not_found())
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
