//! `lookout detect`: still images (files or folders) through the detector, one JSON object per
//! image on stdout. An unreadable image is reported and skipped; the exit code says some failed.
//! With `--annotate`, each image is also written with its detections drawn (`annotate_out.rs`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use lookout::detect::Detector;
use lookout::publish::message::{self, ImageResult};
use lookout::source::images;
use lookout::Error;

use super::annotate_out::Annotated;
use super::detector_args::{build_detector, DetectorArgs};
use lookout::annotate::Annotation;

#[derive(Args)]
pub struct DetectArgs {
    #[command(flatten)]
    detector: DetectorArgs,
    /// Image files or folders of images.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Also write each image with its detections drawn: into this folder (created if missing;
    /// same names, .jpg unless the input is .png), or for a single image, to this file (.jpg,
    /// .jpeg or .png).
    #[arg(long, value_name = "OUT_DIR|FILE")]
    annotate: Option<PathBuf>,
}

pub fn run(args: &DetectArgs) -> Result<ExitCode, Error> {
    let config = args.detector.load_config()?;
    let mut detector = build_detector(args.detector.overrides().over(&config.detector))?;
    let mut files = Vec::new();
    for p in &args.images {
        if p.is_dir() {
            files.extend(images::list_folder(p)?);
        } else {
            files.push(p.clone());
        }
    }
    let mut annotated = match &args.annotate {
        Some(out) => Some(Annotated::new(out, &args.images, &files)?),
        None => None,
    };
    let mut failed = 0;
    let mut rgb = Vec::new();
    let stdout = std::io::stdout();
    for file in &files {
        let result = images::load_rgb(file, &mut rgb)
            .and_then(|(w, h)| Ok((w, h, detector.detect(&rgb, w, h)?)));
        match result {
            Ok((width, height, (dets, _))) => {
                let line = image_line(&detector, file, width, height, &dets)?;
                if writeln!(stdout.lock(), "{line}").is_err() {
                    return Ok(ExitCode::SUCCESS); // stdout closed
                }
                if let Some(out) = annotated.as_mut() {
                    let drawn = dets
                        .iter()
                        .map(|d| Annotation {
                            bbox: d.bbox,
                            class_id: d.class_id,
                            class: detector.class_name(d.class_id).to_string(),
                            score: d.score,
                            track_id: None,
                        })
                        .collect::<Vec<_>>();
                    if let Err(e) = out.write(file, &mut rgb, (width, height), &drawn) {
                        failed += 1;
                        eprintln!("error: {}", e.to_string().replace('\n', " "));
                    }
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {}", e.to_string().replace('\n', " "));
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One image's JSON object.
fn image_line(
    detector: &Detector,
    file: &std::path::Path,
    width: u32,
    height: u32,
    dets: &[lookout::detect::Detection],
) -> Result<String, Error> {
    let name = file.display().to_string();
    let out = ImageResult {
        image: &name,
        width,
        height,
        objects: dets
            .iter()
            .map(|d| message::object(detector.class_name(d.class_id), d.class_id, d.score, d.bbox))
            .collect(),
    };
    serde_json::to_string(&out).map_err(|source| Error::Serialise {
        what: "an image's detections",
        source,
    })
}
