//! How `bench` reports: JSON built from the report structs (`--json`), or the table, startup,
//! streams, baseline and profile lines.

use lookout::detect::engine::OpTime;
use lookout::pipeline::ReplaySummary;
use lookout::Error;

use super::report::{BenchJson, BenchReport, OpReport, StartupReport, StreamsReport};

/// What `bench` adds to the report: startup times, each stream's fps, the baseline, the profile.
pub struct Extras {
    pub load_ms: f64,
    pub first_ms: f64,
    pub stream_fps: Vec<f64>,
    pub baseline: Option<(usize, f64)>,
    pub profile: Option<Vec<OpTime>>,
}

/// The report on stdout: JSON with `--json`, else the table and lines for `--streams` pipelines.
pub fn print(
    json: bool,
    streams: usize,
    report: &BenchReport,
    summary: &ReplaySummary,
    x: &Extras,
) -> Result<(), Error> {
    if json {
        let json = BenchJson {
            report,
            startup_ms: StartupReport::new(x.load_ms, x.first_ms),
            streams: StreamsReport::new(&x.stream_fps, x.baseline),
            profile: x
                .profile
                .as_ref()
                .map(|p| p.iter().map(OpReport::from).collect()),
        };
        // Through a Value, as before: its keys come out sorted.
        let serialise = |source| Error::Serialise {
            what: "the bench report",
            source,
        };
        let value = serde_json::to_value(&json).map_err(serialise)?;
        println!(
            "{}",
            serde_json::to_string_pretty(&value).map_err(serialise)?
        );
    } else {
        print!("{}", report.table(&summary.stages));
        println!(
            "startup: model load {:.0} ms, first inference (plan optimisation + run) {:.0} ms",
            x.load_ms, x.first_ms
        );
        print_streams(streams, x);
        if let Some(p) = &x.profile {
            print_profile(p);
        }
    }
    Ok(())
}

fn print_streams(streams: usize, x: &Extras) {
    let aggregate: f64 = x.stream_fps.iter().sum();
    if streams > 1 {
        let each: Vec<String> = x.stream_fps.iter().map(|f| format!("{f:.1}")).collect();
        println!(
            "streams: {streams} in parallel, aggregate {aggregate:.1} fps (each: {})",
            each.join(", ")
        );
    }
    if let Some((threads, fps)) = x.baseline {
        let ratio = aggregate / fps.max(1e-9);
        let verdict = if ratio > 1.05 {
            "several frames in flight win here"
        } else if ratio < 0.95 {
            "one frame on more threads wins here"
        } else {
            "no clear difference here"
        };
        println!(
            "baseline (same run): 1 stream × {threads} threads {fps:.1} fps; {streams} streams give \
             {ratio:.2}× its throughput: {verdict}"
        );
    }
}

fn print_profile(p: &[OpTime]) {
    let total: f64 = p.iter().map(|o| o.ms).sum();
    println!("profile (mean per run)      nodes       ms   share");
    for o in p {
        println!(
            "{:<26} {:>6} {:>8.2} {:>6.1}%",
            o.op,
            o.nodes,
            o.ms,
            100.0 * o.ms / total.max(1e-9)
        );
    }
    println!(
        "{:<26} {:>6} {:>8.2}",
        "all",
        p.iter().map(|o| o.nodes).sum::<usize>(),
        total
    );
}
