//! The engine factory: the back end a config names, or how to get one this build lacks. Above the
//! back ends, which know nothing of each other.

use super::api::{Engine, EngineKind};
use super::tract::{Device, TractEngine};
use crate::detect::config::DetectorConfig;
use crate::detect::spec::ModelSpec;
use crate::error::{Error, Result};

/// Loads the engine `cfg.engine` names, or says how to get it.
pub fn load(
    spec: &ModelSpec,
    output_names: &[String],
    cfg: &DetectorConfig,
) -> Result<Box<dyn Engine>> {
    #[allow(unused_variables)]
    let missing = |feature: &str| {
        Error::Usage(format!(
            "this lookout was built without the {feature} engine; rebuild with \
             `cargo build --release --features {feature}` (see docs/engines.md)"
        ))
    };
    match cfg.engine {
        EngineKind::Tract => Ok(Box::new(TractEngine::load(
            spec,
            output_names,
            cfg.threads,
            Device::Cpu,
        )?)),
        #[cfg(feature = "cuda")]
        EngineKind::Cuda => Ok(Box::new(TractEngine::load(
            spec,
            output_names,
            cfg.threads,
            Device::Cuda,
        )?)),
        #[cfg(not(feature = "cuda"))]
        EngineKind::Cuda => Err(missing("cuda")),
        #[cfg(feature = "onnxruntime")]
        EngineKind::Onnxruntime => Ok(Box::new(super::ort::OrtEngine::load(
            spec,
            output_names,
            cfg.threads,
            cfg.onnxruntime_library.as_deref(),
        )?)),
        #[cfg(not(feature = "onnxruntime"))]
        EngineKind::Onnxruntime => Err(missing("onnxruntime")),
    }
}
