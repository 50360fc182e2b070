//! onnxruntime through the `ort` crate, loading libonnxruntime.so at run time (cargo feature
//! `onnxruntime`). Nothing is downloaded at build time.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;

use super::api::{Engine, OutputView};
use crate::detect::files::{check_file, first_line};
use crate::detect::spec::{InputType, ModelSpec};
use crate::error::{Error, Result};

/// The library loads once per process (one environment per process); later engines reuse it, or
/// its error.
static RUNTIME: OnceLock<std::result::Result<(PathBuf, Environment), String>> = OnceLock::new();

const INSTALL_HINT: &str = "install the onnxruntime wheel (`pip install 'onnxruntime>=1.19'`; it ships \
     onnxruntime/capi/libonnxruntime.so.*) and point ORT_DYLIB_PATH or [detector] onnxruntime_library \
     at that file, or run .ci/setup.sh, which unpacks it into target/onnxruntime/";

/// Where to look for libonnxruntime.so: config, $ORT_DYLIB_PATH, target/onnxruntime/ beside the
/// binary's tree, then the system's library path.
fn find_library(configured: Option<&Path>) -> std::result::Result<PathBuf, String> {
    if let Some(p) = configured {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok();
    for dir in exe.iter().flat_map(|e| e.ancestors().skip(1).take(4)) {
        for candidate in [dir.join("onnxruntime"), dir.join("target/onnxruntime")] {
            if let Ok(entries) = std::fs::read_dir(&candidate) {
                let mut libs: Vec<PathBuf> = entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("libonnxruntime.so"))
                    })
                    .collect();
                libs.sort();
                if let Some(lib) = libs.pop() {
                    return Ok(lib);
                }
            }
        }
    }
    Ok(PathBuf::from("libonnxruntime.so"))
}

fn init(configured: Option<&Path>) -> Result<&'static (PathBuf, Environment)> {
    let loaded = RUNTIME.get_or_init(|| {
        let lib = find_library(configured)?;
        let env = ort::init_from(&lib)
            .map_err(|e| format!("cannot load onnxruntime: {e}; {INSTALL_HINT}"))?
            .with_name("lookout")
            .build()
            .map_err(|e| format!("cannot start onnxruntime from {}: {e}", lib.display()))?;
        Ok((lib, env))
    });
    loaded.as_ref().map_err(|e| Error::Inference(e.clone()))
}

pub struct OrtEngine {
    session: Session,
    input_name: String,
    /// The network takes uint8 pixels: the prepared floats are converted into this buffer.
    input_u8: Option<Vec<u8>>,
    output_names: Vec<String>,
    /// Copies of the last outputs: (shape, data).
    outputs: Vec<(Vec<usize>, Vec<f32>)>,
}

impl OrtEngine {
    pub fn load(
        spec: &ModelSpec,
        output_names: &[String],
        threads: usize,
        library: Option<&Path>,
    ) -> Result<OrtEngine> {
        let path = &spec.onnx_path;
        let model_err = |msg: String| Error::Model {
            path: path.clone(),
            msg,
        };
        check_file(path).map_err(model_err)?;
        let (lib, env) = init(library)?;
        tracing::info!(library = %lib.display(), "onnxruntime loaded");
        let session = Session::builder(env)
            .and_then(|b| b.with_intra_threads(threads).map_err(Into::into))
            .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
            .and_then(|mut b| b.commit_from_file(path))
            .map_err(|e| {
                model_err(format!(
                    "onnxruntime cannot load it ({}); re-copy it from models/",
                    first_line(&e)
                ))
            })?;
        let inputs: Vec<String> = session
            .inputs()
            .iter()
            .map(|i| i.name().to_string())
            .collect();
        if inputs.len() != 1 || inputs[0] != spec.input.name {
            return Err(model_err(format!(
                "the model spec says the single input is '{}', the model has {inputs:?}",
                spec.input.name
            )));
        }
        let outputs: Vec<String> = session
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        if let Some(missing) = output_names.iter().find(|n| !outputs.contains(n)) {
            return Err(model_err(format!(
                "the model spec names output '{missing}', the model has {outputs:?}"
            )));
        }
        Ok(OrtEngine {
            session,
            input_name: spec.input.name.clone(),
            input_u8: (spec.input.dtype == InputType::Uint8).then(Vec::new),
            output_names: output_names.to_vec(),
            outputs: vec![(Vec::new(), Vec::new()); output_names.len()],
        })
    }
}

impl Engine for OrtEngine {
    fn name(&self) -> &'static str {
        "onnxruntime"
    }

    fn run(&mut self, input: &[f32], shape: [usize; 4]) -> Result<()> {
        let fail = |e: ort::Error| Error::Inference(format!("onnxruntime: {e}"));
        let dims = shape.map(|d| d as i64);
        let results = match &mut self.input_u8 {
            Some(buf) => {
                buf.clear();
                buf.extend(input.iter().map(|&v| v.clamp(0.0, 255.0) as u8));
                let tensor = TensorRef::from_array_view((dims, &buf[..])).map_err(fail)?;
                self.session
                    .run(ort::inputs![self.input_name.as_str() => tensor])
                    .map_err(fail)?
            }
            None => {
                let tensor = TensorRef::from_array_view((dims, input)).map_err(fail)?;
                self.session
                    .run(ort::inputs![self.input_name.as_str() => tensor])
                    .map_err(fail)?
            }
        };
        for (name, (shape, data)) in self.output_names.iter().zip(self.outputs.iter_mut()) {
            let value = results
                .get(name.as_str())
                .ok_or_else(|| Error::Inference(format!("no output '{name}'")))?;
            data.clear();
            let s = if let Ok((s, d)) = value.try_extract_tensor::<f32>() {
                data.extend_from_slice(d);
                s
            } else if let Ok((s, d)) = value.try_extract_tensor::<i64>() {
                data.extend(d.iter().map(|&v| v as f32));
                s
            } else if let Ok((s, d)) = value.try_extract_tensor::<i32>() {
                data.extend(d.iter().map(|&v| v as f32));
                s
            } else {
                let (s, d) = value.try_extract_tensor::<f64>().map_err(fail)?;
                data.extend(d.iter().map(|&v| v as f32));
                s
            };
            shape.clear();
            shape.extend(s.iter().map(|v| (*v).max(0) as usize));
        }
        Ok(())
    }

    fn outputs(&self) -> Result<Vec<OutputView<'_>>> {
        Ok(self
            .outputs
            .iter()
            .map(|(shape, data)| OutputView { shape, data })
            .collect())
    }
}
