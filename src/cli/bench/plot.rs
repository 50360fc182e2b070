//! `bench --plot FILE.svg`: the measured frames as a picture, so a latency regression is seen:
//! each stage's latency distribution (the share of frames at or below a latency, log scale) and
//! the frame-age timeline (capture → published, frame after frame). plotters, SVG backend only:
//! its text is SVG `<text>`, so no font file or system library is needed.

use std::path::Path;

use lookout::metrics::{Stage, StageMs};
use lookout::Error;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::report::BenchReport;

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 900;

/// One colour per stage, in [`Stage::ALL`] order.
const COLOURS: [RGBColor; Stage::COUNT] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(0, 0, 0),
];

/// The name must say SVG: checked before the bench runs, not after.
pub fn check_name(path: &Path) -> Result<(), Error> {
    let svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if svg {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--plot {}: the plot is SVG; name the file .svg",
            path.display()
        )))
    }
}

/// Writes the plot of `frames` (each measured frame's stage times, in order) to `path`.
pub fn write(path: &Path, report: &BenchReport, frames: &[StageMs]) -> Result<(), Error> {
    let svg = render(report, frames).map_err(|e| Error::Internal(format!("plotting: {e}")))?;
    std::fs::write(path, svg).map_err(|e| {
        Error::Usage(format!(
            "--plot {}: cannot write it ({e}); pick a writable place",
            path.display()
        ))
    })
}

type Plotted<T> = Result<T, Box<dyn std::error::Error>>;

fn render(report: &BenchReport, frames: &[StageMs]) -> Plotted<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let title = format!(
            "lookout bench: {} · {} {} ({}) · {} frames · {}",
            report.input,
            report.model.name,
            report.model.precision,
            report.model.engine,
            frames.len(),
            report.machine.cpu
        );
        let root = root.titled(&title, ("sans-serif", 18))?;
        let (top, bottom) = root.split_vertically(HEIGHT * 55 / 100);
        distributions(&top, frames)?;
        age_timeline(&bottom, frames)?;
        root.present()?;
    }
    Ok(svg)
}

/// The empirical CDF of each stage's latency, on a log axis (stages span µs to 100s of ms).
fn distributions(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    frames: &[StageMs],
) -> Plotted<()> {
    const FLOOR_MS: f64 = 0.001;
    let max = frames
        .iter()
        .flat_map(|f| Stage::ALL.map(|s| f[s]))
        .fold(FLOOR_MS * 10.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Latency per stage: share of frames at or below",
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((FLOOR_MS..max * 1.5).log_scale(), 0.0..100.0)?;
    chart
        .configure_mesh()
        .x_desc("latency (ms, log scale)")
        .y_desc("% of frames")
        .draw()?;
    let lines = Stage::ALL
        .into_iter()
        .zip(COLOURS)
        .map(|(stage, colour)| {
            let mut values: Vec<f64> = frames.iter().map(|f| f[stage].max(FLOOR_MS)).collect();
            values.sort_by(f64::total_cmp);
            let n = values.len() as f64;
            let points = values
                .iter()
                .enumerate()
                .map(|(i, v)| (*v, 100.0 * (i + 1) as f64 / n))
                .collect();
            (stage.as_str(), colour, points)
        })
        .collect();
    draw_lines(&mut chart, lines, SeriesLabelPosition::LowerRight)
}

/// Frame age (capture → published) and inference time, frame after frame.
fn age_timeline(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    frames: &[StageMs],
) -> Plotted<()> {
    let max = frames
        .iter()
        .map(|f| f[Stage::Total].max(f[Stage::Inference]))
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption("Frame age over the run", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..frames.len().max(1) as f64, 0.0..max * 1.1)?;
    chart
        .configure_mesh()
        .x_desc("measured frame")
        .y_desc("ms")
        .draw()?;
    let series = [
        ("frame age (capture → published)", Stage::Total, COLOURS[7]),
        ("inference", Stage::Inference, COLOURS[3]),
    ];
    let lines = series
        .into_iter()
        .map(|(label, stage, colour)| {
            let points = frames
                .iter()
                .enumerate()
                .map(|(i, f)| (i as f64, f[stage]))
                .collect();
            (label, colour, points)
        })
        .collect();
    draw_lines(&mut chart, lines, SeriesLabelPosition::UpperRight)
}

/// A labelled line: its label, colour and points.
type Line<'l> = (&'l str, RGBColor, Vec<(f64, f64)>);

/// Lines with their labels, and the legend that names them.
fn draw_lines<'a, 'b: 'a, X: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, RangedCoordf64>>,
    lines: Vec<Line<'_>>,
    legend_at: SeriesLabelPosition,
) -> Plotted<()> {
    for (label, colour, points) in lines {
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(legend_at)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
