//! `lookout model inspect FILE.onnx`: what the file says (inputs, outputs, metadata, opset), the
//! family lookout recognises (or why not), the preprocessing and classes it would use; `--write`
//! puts an editable manifest beside the file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use lookout::detect::family::{self, Recognised, Setting};
use lookout::detect::manifest::Manifest;
use lookout::detect::onnx_info::{self, Dim, OnnxInfo, TensorInfo};
use lookout::detect::resolve;
use lookout::detect::ultralytics::Metadata;
use lookout::detect::{Family, ModelSpec};
use lookout::Error;

#[derive(Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Print what an .onnx file is: inputs, outputs, metadata, opset, the detector family lookout
    /// recognises (or why not), and the preprocessing and classes it would use.
    Inspect(InspectArgs),
}

#[derive(Args)]
struct InspectArgs {
    /// The .onnx file (or its manifest).
    file: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Write an editable manifest beside the file (FILE.toml); never overwrites one.
    #[arg(long)]
    write: bool,
    /// Take this family instead of recognising one.
    #[arg(long, value_enum)]
    family: Option<Family>,
}

pub fn run(args: &ModelArgs) -> Result<ExitCode, Error> {
    match &args.command {
        ModelCommand::Inspect(a) => inspect(a),
    }
}

/// The family decision: the spec when there is one, else why not.
struct Outcome {
    spec: Option<ModelSpec>,
    why: String,
}

fn inspect(args: &InspectArgs) -> Result<ExitCode, Error> {
    let (onnx, manifest) = resolve::locate(&args.file)?;
    let info = onnx_info::read(&onnx)?;
    let outcome = decide(&onnx, manifest.as_ref(), &info, args.family);
    if args.json {
        println!("{}", json(&onnx, &info, &outcome));
    } else {
        print_text(&onnx, &info, &outcome);
    }
    if args.write {
        let Some(spec) = &outcome.spec else {
            return Err(Error::Model {
                path: onnx,
                msg: format!(
                    "no manifest written: {}; name the family with --family",
                    outcome.why
                ),
            });
        };
        let path = resolve::manifest_path_for(&onnx);
        if path.exists() {
            return Err(Error::Usage(format!(
                "{} exists; lookout does not overwrite a manifest: edit it, or remove it and run \
                 again",
                path.display()
            )));
        }
        std::fs::write(&path, manifest_text(spec)).map_err(|e| Error::Model {
            path: path.clone(),
            msg: format!("cannot write the manifest: {e}"),
        })?;
        eprintln!(
            "wrote {}: check it, then use --model {}",
            path.display(),
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The spec lookout would run `onnx` with (from the header already read), or why there is none.
fn decide(
    onnx: &Path,
    manifest: Option<&Manifest>,
    info: &OnnxInfo,
    family: Option<Family>,
) -> Outcome {
    // A manifest (given, or beside the file) decides as lookout would when running it.
    let result = if manifest.is_some() || family.is_some() {
        resolve::resolve(onnx, manifest, info, family)
    } else {
        // Without one, take what recognition finds even where running would want a manifest
        // (SSD's box order): --write is how that manifest gets written.
        let meta = Metadata::from_props(&info.metadata);
        let fixed = input_size(info);
        match family::recognise(info, &meta, fixed) {
            Recognised::One { family, why } => resolve::resolve(onnx, None, info, Some(family))
                .map(|mut s| {
                    s.recognised = why;
                    s
                }),
            _ => resolve::resolve(onnx, None, info, None),
        }
    };
    match result {
        Ok(spec) => Outcome {
            why: spec.recognised.clone(),
            spec: Some(spec),
        },
        Err(e) => Outcome {
            spec: None,
            why: match e {
                Error::Model { msg, .. } => msg,
                other => other.to_string(),
            },
        },
    }
}

/// The fixed (width, height) of the first input, if it is NCHW or NHWC with both fixed.
fn input_size(info: &OnnxInfo) -> Option<(i64, i64)> {
    let s = info.inputs.first()?.known_shape()?;
    match s[..] {
        [_, 3, h, w] | [_, h, w, 3] => Some((w, h)),
        _ => None,
    }
}

fn dims_json(t: &TensorInfo) -> serde_json::Value {
    match &t.shape {
        None => serde_json::Value::Null,
        Some(s) => s
            .iter()
            .map(|d| match d {
                Dim::Known(v) => serde_json::json!(v),
                Dim::Sym(n) => serde_json::json!(n),
            })
            .collect(),
    }
}

fn tensors_json(ts: &[TensorInfo]) -> serde_json::Value {
    ts.iter()
        .map(|t| serde_json::json!({"name": t.name, "dtype": t.elem.name(), "shape": dims_json(t)}))
        .collect()
}

fn json(onnx: &Path, info: &OnnxInfo, o: &Outcome) -> serde_json::Value {
    serde_json::json!({
        "file": onnx.display().to_string(),
        "manifest": o.spec.as_ref().and_then(|s| s.manifest_path.as_ref()).map(|p| p.display().to_string()),
        "opset": info.opset,
        "producer": info.producer,
        "inputs": tensors_json(&info.inputs),
        "outputs": tensors_json(&info.outputs),
        "metadata": info.metadata,
        "family": o.spec.as_ref().map(|s| s.decoder.family.name()),
        "why": o.why,
        "spec": o.spec.as_ref().map(|s| serde_json::json!({
            "name": s.name,
            "precision": s.precision,
            "input": s.input,
            "decoder": s.decoder,
            "classes": s.classes,
        })),
    })
}

fn print_text(onnx: &Path, info: &OnnxInfo, o: &Outcome) {
    let size = std::fs::metadata(onnx).map(|m| m.len()).unwrap_or(0);
    println!(
        "file:      {} ({:.1} MB)",
        onnx.display(),
        size as f64 / 1e6
    );
    println!(
        "producer:  {}, opset {}{}",
        if info.producer.is_empty() {
            "unknown"
        } else {
            &info.producer
        },
        info.opset,
        if info.quantized {
            ", quantised (QDQ)"
        } else {
            ""
        }
    );
    for (what, ts) in [("input", &info.inputs), ("output", &info.outputs)] {
        for t in ts.iter() {
            println!("{what:<9}  {} {} {}", t.name, t.elem.name(), t.shape_text());
        }
    }
    for (k, v) in &info.metadata {
        let v = if v.chars().count() > 100 {
            format!(
                "{}… ({} chars)",
                v.chars().take(100).collect::<String>(),
                v.len()
            )
        } else {
            v.clone()
        };
        println!("metadata:  {k} = {v}");
    }
    let Some(s) = &o.spec else {
        println!("family:    none: {}", o.why);
        return;
    };
    println!("family:    {} ({})", s.decoder.family, o.why);
    let i = &s.input;
    let size = match i.size {
        Some((w, h)) => format!("fixed {w}x{h}"),
        None => format!(
            "dynamic, multiples of {}, long side {} by default",
            i.size_multiple, i.default_long_side
        ),
    };
    println!(
        "input:     {} {} {}, mean {:?} std {:?}, {} (pad {}), {size}",
        word(&i.layout),
        word(&i.dtype),
        word(&i.colour),
        i.mean,
        i.std,
        word(&i.resize),
        i.pad_value
    );
    let shown: Vec<&str> = s.classes.iter().take(8).map(String::as_str).collect();
    println!(
        "classes:   {} ({}{})",
        s.classes.len(),
        shown.join(", "),
        if s.classes.len() > 8 { ", …" } else { "" }
    );
}

/// A setting as the manifest spells it (`nchw`, `letterbox-top-left`).
fn word(v: &impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// An editable manifest that states every key, so a user sees what lookout assumed.
fn manifest_text(s: &ModelSpec) -> String {
    let q = |v: &str| toml::Value::String(v.to_string()).to_string();
    let file = s
        .onnx_path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let i = &s.input;
    let d = &s.decoder;
    let mut t = format!(
        "# Model manifest for {file}, written by `lookout model inspect --write`.\n\
         # Family: {} ({}). Check every key against how the model was trained and exported.\n\
         name = {}\nprecision = {}\nfile = {}\nlicence = \"\"\n\n[input]\nname = {}\n\
         layout = {}                # nchw | nhwc\n\
         dtype = {}             # float32 | uint8\n\
         colour = {}                # rgb | bgr: the channel order the network was trained on\n\
         mean = {:?}       # per channel, in that order, on 0..255 values\n\
         std = {:?}\n\
         resize = {}          # stretch | letterbox | letterbox-top-left\n\
         pad_value = {:?}\n",
        d.family,
        s.recognised,
        q(&s.name),
        q(&s.precision),
        q(&file),
        q(&i.name),
        q(&word(&i.layout)),
        q(&word(&i.dtype)),
        q(&word(&i.colour)),
        i.mean,
        i.std,
        q(&word(&i.resize)),
        i.pad_value,
    );
    match i.size {
        Some((w, h)) => {
            t += &format!("size = [{w}, {h}]           # the model's fixed input (width, height)\n")
        }
        None => {
            t += &format!(
            "size_multiple = {}         # dynamic input: width and height are multiples of this\n\
                 default_long_side = {}\n",
            i.size_multiple, i.default_long_side
        )
        }
    }
    let outputs: Vec<String> = d.outputs.iter().map(|o| q(o)).collect();
    let names: Vec<&str> = family::ALL.iter().map(|f| f.name()).collect();
    t += &format!(
        "\n[decoder]\nfamily = {}         # {}\noutputs = [{}]\n",
        q(d.family.name()),
        names.join(" | "),
        outputs.join(", ")
    );
    for setting in d.family.descriptor().settings {
        t += &match setting {
            Setting::Strides => format!("strides = {:?}\n", d.strides),
            Setting::RegMax => format!("reg_max = {}\n", d.reg_max),
            Setting::BoxOrder => format!(
                "box_order = {}              # yxyx (TensorFlow) | xyxy: CHECK this\n",
                q(&word(&d.box_order))
            ),
            Setting::ClassOffset => format!(
                "class_offset = {}            # subtracted from the classes output (1 for TF label maps with background)\n",
                d.class_offset
            ),
        };
    }
    t += "classes = [\n";
    for c in &s.classes {
        t += &format!("  {},\n", q(c));
    }
    t += "]\n";
    t
}
