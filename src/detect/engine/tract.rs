//! The tract back end (pure Rust; on the CPU, or on an NVIDIA GPU with the `cuda` feature): parses
//! the ONNX graph once, applies lookout's graph rewrites ([`crate::detect::rewrite`]) and keeps an
//! optimised plan per input shape.

use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::runtime::RunOptions;

use super::api::{Engine, OpTime, OutputView};
use crate::detect::files::{check_file, first_line};
use crate::detect::rewrite;
use crate::detect::spec::{InputType, ModelSpec};
use crate::error::{Error, Result};

/// Where tract runs the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    #[cfg(feature = "cuda")]
    Cuda,
}

/// An optimised plan: tract's own CPU plan, or one prepared by another tract runtime (CUDA).
#[derive(Clone)]
enum Plan {
    Cpu(Arc<TypedRunnableModel>),
    #[cfg(feature = "cuda")]
    Runtime(Arc<dyn tract_onnx::tract_core::runtime::Runnable>),
}

impl Plan {
    fn run(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        match self {
            Plan::Cpu(p) => p.run(inputs),
            #[cfg(feature = "cuda")]
            Plan::Runtime(r) => r.run(inputs),
        }
    }
}

/// How many optimised plans (one per input shape) are kept. Frames of one source share one shape;
/// `detect` on a folder of mixed images may use a few.
const PLAN_CACHE: usize = 4;

pub struct TractEngine {
    /// The parsed ONNX graph, kept to optimise it for each new input shape.
    model: InferenceModel,
    output_ix: Vec<usize>,
    options: RunOptions,
    device: Device,
    /// Apply lookout's graph rewrites ([`rewrite`]) before tract optimises the plan.
    rewrite: bool,
    /// Where the INT8 rewrite runs its convolutions (default: [`rewrite::int8_backend`]).
    int8_backend: Option<rewrite::Int8Backend>,
    /// The network takes uint8 pixels (the prepared floats are whole numbers 0..=255).
    input_u8: bool,
    plans: Vec<([usize; 4], Plan)>,
    outputs: TVec<TValue>,
}

impl TractEngine {
    /// Loads and checks the model. `threads` > 1 gives tract its own rayon pool for matrix products;
    /// 1 keeps tract's single-thread executor (tract's multithread(1) would use every core).
    pub fn load(
        spec: &ModelSpec,
        output_names: &[String],
        threads: usize,
        device: Device,
    ) -> Result<TractEngine> {
        let path = &spec.onnx_path;
        let model_err = |msg: String| Error::Model {
            path: path.clone(),
            msg,
        };
        check_file(path).map_err(model_err)?;
        let model = tract_onnx::onnx().model_for_path(path).map_err(|e| {
            model_err(format!(
                "not a loadable ONNX model ({}); re-copy it from models/ or rebuild it with \
                 models/scripts/build_models.sh",
                first_line(&e)
            ))
        })?;
        let inputs = model
            .input_outlets()
            .map_err(|e| model_err(first_line(&e)))?
            .to_vec();
        let input_name = inputs
            .first()
            .map(|o| outlet_name(&model, *o))
            .unwrap_or_default();
        if inputs.len() != 1 || input_name != spec.input.name {
            return Err(model_err(format!(
                "the model spec says the single input is '{}', the model has {} input(s) starting with '{}'",
                spec.input.name,
                inputs.len(),
                input_name
            )));
        }
        let outlets = model
            .output_outlets()
            .map_err(|e| model_err(first_line(&e)))?
            .to_vec();
        let labels: Vec<String> = outlets.iter().map(|o| outlet_name(&model, *o)).collect();
        let output_ix = output_names
            .iter()
            .map(|name| {
                labels.iter().position(|l| l == name).ok_or_else(|| {
                    model_err(format!(
                        "the model spec names output '{name}', the model has {labels:?}"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut options = RunOptions::default();
        if threads > 1 {
            options.executor = Some(tract_linalg::multithread::Executor::multithread(threads));
        }
        #[cfg(feature = "cuda")]
        if device == Device::Cuda {
            cuda_runtime()?;
        }
        Ok(TractEngine {
            model,
            output_ix,
            options,
            device,
            rewrite: rewrite::enabled(),
            int8_backend: rewrite::int8_backend(),
            input_u8: spec.input.dtype == InputType::Uint8,
            plans: Vec::new(),
            outputs: tvec![],
        })
    }

    /// Turns lookout's graph rewrites on or off (default: on unless `LOOKOUT_TRACT_REWRITE=0`);
    /// plans already built for other settings are dropped.
    pub fn set_rewrite(&mut self, on: bool) {
        if self.rewrite != on {
            self.rewrite = on;
            self.plans.clear();
        }
    }

    /// Runs the INT8 rewrite's convolutions on `backend` instead of this CPU's best one (`None`:
    /// they stay float), to compare the backends in one process; plans already built are dropped.
    pub fn set_int8_backend(&mut self, backend: Option<rewrite::Int8Backend>) {
        if self.int8_backend != backend {
            self.int8_backend = backend;
            self.plans.clear();
        }
    }

    /// The optimised plan for this input shape, built once and cached.
    fn plan_for(&mut self, shape: [usize; 4]) -> Result<Plan> {
        if let Some(i) = self.plans.iter().position(|(s, _)| *s == shape) {
            return Ok(self.plans[i].1.clone());
        }
        let started = std::time::Instant::now();
        let prepare_err = |e: TractError| {
            Error::Inference(format!(
                "cannot prepare the model for input {shape:?}: {e:#}"
            ))
        };
        let fact = if self.input_u8 {
            u8::fact(shape)
        } else {
            f32::fact(shape)
        };
        let model = self
            .model
            .clone()
            .with_input_fact(0, fact.into())
            .map_err(prepare_err)?;
        let plan = match self.device {
            Device::Cpu => {
                let mut typed = model
                    .into_typed()
                    .and_then(|m| m.into_decluttered())
                    .map_err(prepare_err)?;
                if self.rewrite {
                    let n = rewrite::apply(&mut typed, self.int8_backend).map_err(prepare_err)?;
                    tracing::debug!(
                        resizes = n.resizes,
                        int8_convs = n.convs,
                        quantizers = n.quantizers,
                        "graph rewrites applied"
                    );
                }
                let mut optimized = typed.into_optimized().map_err(prepare_err)?;
                if self.rewrite {
                    let n = rewrite::apply_optimized(&mut optimized).map_err(prepare_err)?;
                    tracing::debug!(
                        fused_packing = n,
                        "graph rewrites applied to the optimised plan"
                    );
                }
                Plan::Cpu(
                    optimized
                        .into_runnable_with_options(&self.options)
                        .map_err(prepare_err)?,
                )
            }
            #[cfg(feature = "cuda")]
            Device::Cuda => {
                tracing::warn!(
                    ?shape,
                    "preparing the CUDA plan: on a machine's first run this compiles kernels (about a \
                     minute); CUDA caches them in $CUDA_CACHE_PATH or ~/.nv/ComputeCache for later starts"
                );
                let typed = model
                    .into_typed()
                    .and_then(|m| m.into_decluttered())
                    .map_err(prepare_err)?;
                let runnable = cuda_runtime()?
                    .prepare_with_options(typed, &self.options)
                    .map_err(prepare_err)?;
                Plan::Runtime(Arc::from(runnable))
            }
        };
        tracing::info!(
            ?shape,
            ms = started.elapsed().as_millis() as u64,
            "prepared the model for this input shape"
        );
        if self.plans.len() >= PLAN_CACHE {
            self.plans.remove(0);
        }
        self.plans.push((shape, plan.clone()));
        Ok(plan)
    }
}

impl Engine for TractEngine {
    fn profile(
        &mut self,
        input: &[f32],
        shape: [usize; 4],
        runs: usize,
    ) -> Result<Option<Vec<OpTime>>> {
        // Only tract's CPU plan runs node by node here (with the cuda feature, Plan has a GPU arm).
        #[allow(irrefutable_let_patterns)]
        let Plan::Cpu(plan) = self.plan_for(shape)?
        else {
            return Ok(None);
        };
        let fail = |e: TractError| Error::Inference(format!("{e:#}"));
        let mut state = plan.spawn().map_err(fail)?;
        let mut by_node: std::collections::HashMap<usize, (String, std::time::Duration)> =
            Default::default();
        for _ in 0..runs.max(1) {
            let mut tensor = Tensor::from_shape(&shape, input).map_err(fail)?;
            if self.input_u8 {
                tensor = tensor.cast_to::<u8>().map_err(fail)?.into_owned();
            }
            state
                .run_plan_with_eval(
                    tvec![tensor.into_tvalue()],
                    |ctx, op_state, node, inputs| {
                        let t0 = std::time::Instant::now();
                        let out = tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs);
                        let e = by_node
                            .entry(node.id)
                            .or_insert_with(|| (node.op().name().to_string(), Default::default()));
                        e.1 += t0.elapsed();
                        out
                    },
                )
                .map_err(fail)?;
        }
        let mut by_op: std::collections::BTreeMap<String, (usize, std::time::Duration)> =
            Default::default();
        for (op, d) in by_node.into_values() {
            let e = by_op.entry(op).or_default();
            e.0 += 1;
            e.1 += d;
        }
        let mut out: Vec<OpTime> = by_op
            .into_iter()
            .map(|(op, (nodes, d))| OpTime {
                op,
                nodes,
                ms: d.as_secs_f64() * 1e3 / runs.max(1) as f64,
            })
            .collect();
        out.sort_by(|a, b| b.ms.total_cmp(&a.ms));
        Ok(Some(out))
    }

    fn name(&self) -> &'static str {
        match self.device {
            Device::Cpu => "tract",
            #[cfg(feature = "cuda")]
            Device::Cuda => "tract-cuda",
        }
    }

    fn run(&mut self, input: &[f32], shape: [usize; 4]) -> Result<()> {
        let plan = self.plan_for(shape)?;
        let fail = |e: TractError| Error::Inference(format!("{e:#}"));
        let mut tensor = Tensor::from_shape(&shape, input).map_err(fail)?;
        if self.input_u8 {
            tensor = tensor.cast_to::<u8>().map_err(fail)?.into_owned();
        }
        let mut outputs = plan.run(tvec![tensor.into_tvalue()]).map_err(fail)?;
        // Decoders read f32: an integer classes or count output (SSD) is converted.
        for o in outputs.iter_mut() {
            if o.datum_type() != f32::datum_type() {
                *o = o.cast_to::<f32>().map_err(fail)?.into_owned().into_tvalue();
            }
        }
        self.outputs = outputs;
        Ok(())
    }

    fn outputs(&self) -> Result<Vec<OutputView<'_>>> {
        self.output_ix
            .iter()
            .map(|&i| {
                let t = self
                    .outputs
                    .get(i)
                    .ok_or_else(|| Error::Inference("missing output".into()))?;
                let data = t
                    .try_as_plain_ram()
                    .and_then(|v| v.as_slice::<f32>())
                    .map_err(|e| Error::Inference(format!("output {i} is not plain f32: {e}")))?;
                Ok(OutputView {
                    shape: t.shape(),
                    data,
                })
            })
            .collect()
    }
}

/// tract's CUDA runtime, if a GPU and the CUDA libraries are usable here.
#[cfg(feature = "cuda")]
fn cuda_runtime() -> Result<&'static dyn tract_onnx::tract_core::runtime::Runtime> {
    // Naming an item of the crate links it, which registers its runtime.
    let _ = std::any::type_name::<tract_cuda::CudaTransform>();
    // runtime_for_name checks the runtime: an error here means no usable GPU or libraries.
    let rt = tract_onnx::tract_core::runtime::runtime_for_name("cuda")
        .map_err(|e| {
            Error::Inference(format!(
                "no usable NVIDIA GPU: {e:#}; the cuda engine needs an NVIDIA driver and the CUDA 13 \
                 libraries (cudart, cublas, nvrtc, cudnn) on the library path; or use --engine tract"
            ))
        })?
        .ok_or_else(|| Error::Inference("tract's CUDA runtime is not registered in this build".into()))?;
    Ok(rt)
}

/// An ONNX input or output name: the outlet's label, else its node's name.
fn outlet_name(model: &InferenceModel, outlet: OutletId) -> String {
    model
        .outlet_label(outlet)
        .unwrap_or(&model.node(outlet.node).name)
        .to_string()
}
