//! The model manifest file: a TOML beside the `.onnx` stating what the file itself does not. Every
//! key but `file` is optional where the `.onnx` (its shapes, its Ultralytics metadata) or the
//! family's defaults say it; unknown keys are errors with line and column.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::family::descriptor::{BoxOrder, Family};
use super::input::{ColourOrder, InputType, Layout, ResizeMode};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    pub name: Option<String>,
    pub precision: Option<String>,
    pub file: PathBuf,
    #[serde(default)]
    pub licence: String,
    #[serde(default)]
    pub input: InputFile,
    #[serde(default)]
    pub decoder: DecoderFile,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputFile {
    pub name: Option<String>,
    pub layout: Option<Layout>,
    pub dtype: Option<InputType>,
    pub colour: Option<ColourOrder>,
    #[serde(default, deserialize_with = "crate::text::exact::opt_array")]
    pub mean: Option<[f32; 3]>,
    #[serde(default, deserialize_with = "crate::text::exact::opt_array")]
    pub std: Option<[f32; 3]>,
    pub resize: Option<ResizeMode>,
    pub pad_value: Option<f32>,
    /// Fixed (width, height).
    #[serde(default, deserialize_with = "crate::text::exact::opt_array")]
    pub size: Option<[u32; 2]>,
    pub size_multiple: Option<u32>,
    pub default_long_side: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecoderFile {
    pub family: Option<Family>,
    pub outputs: Option<Vec<String>>,
    /// nanodet-gfl's two outputs by role (older manifests).
    pub scores_output: Option<String>,
    pub boxes_output: Option<String>,
    pub classes: Option<Vec<String>>,
    pub classes_file: Option<PathBuf>,
    pub strides: Option<Vec<u32>>,
    pub reg_max: Option<u32>,
    pub box_order: Option<BoxOrder>,
    pub class_offset: Option<i64>,
}

/// A parsed manifest and where it is.
pub struct Manifest {
    pub path: PathBuf,
    pub file: ManifestFile,
}

impl Manifest {
    pub fn read(path: &Path) -> Result<Manifest> {
        // A manifest is a few KB; a class list of thousands of names is still far below this.
        const MAX_MANIFEST_BYTES: u64 = 1 << 20;
        if std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_MANIFEST_BYTES) {
            return Err(Error::Model {
                path: path.to_path_buf(),
                msg: "the manifest is over 1 MiB: is it the right file? (a manifest is a short TOML file)".into(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::Model {
            path: path.to_path_buf(),
            msg: format!(
                "cannot read the model manifest ({e}); pass --model with a manifest such as \
                 models/nanodet-m-fp32.toml or an .onnx file"
            ),
        })?;
        Manifest::parse(&text, path)
    }

    /// Parses a manifest's text, read from `path` (for messages, and to find the model beside it).
    pub fn parse(text: &str, path: &Path) -> Result<Manifest> {
        let file: ManifestFile = toml::from_str(text).map_err(|e| Error::Model {
            path: path.to_path_buf(),
            msg: format!(
                "invalid model manifest: {}",
                crate::text::toml_span::error_line(text, &e)
            ),
        })?;
        Ok(Manifest {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// The class names the manifest lists (`classes`, or `classes_file` one per line), if any.
    pub fn classes(&self) -> Result<Option<Vec<String>>> {
        if let Some(c) = &self.file.decoder.classes {
            return Ok(Some(c.clone()));
        }
        let Some(f) = &self.file.decoder.classes_file else {
            return Ok(None);
        };
        let path = self.dir().join(f);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::Model {
            path: path.clone(),
            msg: format!("cannot read class names named by the manifest: {e}"),
        })?;
        Ok(Some(
            text.lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
        ))
    }
}

/// The manifest beside `onnx` whose `file` names it, if there is one.
pub fn beside(onnx: &Path) -> Option<PathBuf> {
    let dir = onnx
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = onnx.file_name()?;
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| {
            std::fs::read_to_string(p)
                .ok()
                .and_then(|text| toml::from_str::<toml::Table>(&text).ok())
                .and_then(|t| t.get("file").and_then(|f| f.as_str()).map(PathBuf::from))
                .is_some_and(|f| f.file_name() == Some(name))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}
