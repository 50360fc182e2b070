//! lookout's MOT metrics against py-motmetrics 1.4.0's published values: its test suite
//! (`tests/test_metrics.py::test_motchallenge_files`) expects these numbers, at `atol=1e-3`, for the TUD-Campus and
//! TUD-Stadtmitte tracker outputs shipped in its wheel. Those files are licensed for non-commercial use only, so
//! they are not in this repository: `.ci/setup.sh` unpacks them into `target/motmetrics/`.

use std::path::PathBuf;

#[path = "support/mot/mod.rs"]
mod mot;

use mot::{evaluate, MotSequence, MotSummary};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/motmetrics")
}

fn sequence(name: &str, file: &str) -> MotSequence {
    let path = data_dir().join(name).join(file);
    assert!(
        path.exists(),
        "{} is missing: run .ci/setup.sh, which unpacks py-motmetrics 1.4.0's TUD test data into target/motmetrics/",
        path.display()
    );
    MotSequence::read(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn summary_of(name: &str) -> MotSummary {
    evaluate(&sequence(name, "gt.txt"), &sequence(name, "test.txt"))
}

/// motmetrics' expected row: IDF1, IDP, IDR, Rcll, Prcn, GT, MT, PT, ML, FP, FN, IDs, FM, MOTA, MOTP.
fn row(s: &MotSummary) -> [f64; 15] {
    [
        s.idf1,
        s.idp,
        s.idr,
        s.recall,
        s.precision,
        s.num_unique_objects as f64,
        s.mostly_tracked as f64,
        s.partially_tracked as f64,
        s.mostly_lost as f64,
        s.num_false_positives as f64,
        s.num_misses as f64,
        s.num_switches as f64,
        s.num_fragmentations as f64,
        s.mota,
        s.motp,
    ]
}

const COLUMNS: [&str; 15] = [
    "IDF1", "IDP", "IDR", "Rcll", "Prcn", "GT", "MT", "PT", "ML", "FP", "FN", "IDs", "FM", "MOTA",
    "MOTP",
];

fn assert_row(name: &str, got: &MotSummary, expected: [f64; 15]) {
    for ((column, got), want) in COLUMNS.iter().zip(row(got)).zip(expected) {
        assert!(
            (got - want).abs() <= 1e-3,
            "{name} {column}: lookout {got}, motmetrics {want}"
        );
    }
}

#[test]
fn tud_tracks_score_as_motmetrics_publishes() {
    let campus = summary_of("TUD-Campus");
    let stadtmitte = summary_of("TUD-Stadtmitte");
    let overall = MotSummary::combine(&[campus.clone(), stadtmitte.clone()]);
    #[rustfmt::skip]
    let expected = [
        ("TUD-Campus", &campus, [0.557659, 0.729730, 0.451253, 0.582173, 0.941441, 8.0, 1.0, 6.0, 1.0, 13.0, 150.0, 7.0, 7.0, 0.526462, 0.277201]),
        ("TUD-Stadtmitte", &stadtmitte, [0.644619, 0.819760, 0.531142, 0.608997, 0.939920, 10.0, 5.0, 4.0, 1.0, 45.0, 452.0, 7.0, 6.0, 0.564014, 0.345904]),
        ("OVERALL", &overall, [0.624296, 0.799176, 0.512211, 0.602640, 0.940268, 18.0, 6.0, 10.0, 2.0, 58.0, 602.0, 14.0, 13.0, 0.555116, 0.330177]),
    ];
    for (name, got, want) in expected {
        assert_row(name, got, want);
    }
    // Counts motmetrics 1.4.0 reports beside the table (transfer/ascend/migrate, frames, boxes, identity counts).
    assert_eq!(
        (campus.num_transfer, campus.num_ascend, campus.num_migrate),
        (2, 7, 2)
    );
    assert_eq!(
        (
            stadtmitte.num_transfer,
            stadtmitte.num_ascend,
            stadtmitte.num_migrate
        ),
        (5, 4, 2)
    );
    assert_eq!(
        (
            campus.num_frames,
            campus.num_objects,
            campus.num_predictions
        ),
        (71, 359, 222)
    );
    assert_eq!(
        (
            overall.idtp,
            overall.idfp,
            overall.idfn,
            overall.num_matches
        ),
        (776, 195, 739, 899)
    );
}
