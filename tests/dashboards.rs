//! The Grafana dashboard (config/grafana/lookout-dashboard.json) and the Prometheus alert rules
//! (config/prometheus/lookout-alerts.yml): valid, and every metric they query is one a running
//! `lookout run` exports on `/metrics`.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use serde_json::Value;

/// PromQL words followed by a list of label names in parentheses.
const GROUPING: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// Other PromQL words that are not metric names: keywords, and aggregation operators (which may be
/// followed by `by (...)` rather than by their parenthesis).
const KEYWORDS: [&str; 20] = [
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "inf",
    "nan",
    "atan2",
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
];

/// The metric names a PromQL expression reads: identifiers outside strings, label matchers,
/// ranges and grouping lists, that are neither functions (followed by `(`) nor keywords.
fn metric_names(expr: &str) -> BTreeSet<String> {
    // Strings, `{...}` and `[...]` contents go (label names and values, durations).
    let mut plain = String::new();
    let (mut quote, mut depth) = (None, 0);
    for c in expr.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => depth -= 1,
            (None, c) if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let tokens = tokenize(&plain);
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i].as_str();
        let next = tokens.get(i + 1).map(String::as_str);
        let ident = t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':');
        if GROUPING.contains(&t) && next == Some("(") {
            // A list of label names: skip to its `)`.
            while i < tokens.len() && tokens[i] != ")" {
                i += 1;
            }
        } else if ident && next != Some("(") && !KEYWORDS.contains(&t) && !GROUPING.contains(&t) {
            names.insert(t.to_string());
        }
        i += 1;
    }
    names
}

/// Identifiers, numbers (with their unit or exponent) and single punctuation characters.
fn tokenize(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' || (c == '.' && !word.is_empty()) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    // A number such as 0.5 or 1e3 is not an identifier: drop tokens starting with a digit.
    out.retain(|t| !t.starts_with(|c: char| c.is_ascii_digit()));
    out
}

#[test]
fn the_tokenizer_finds_metrics_and_nothing_else() {
    let expr = r#"sum by (instance, camera) (rate(lookout_a_total{reason!="paused", x=~"a|b"}[5m]))
        / on (instance) group_left (camera) lookout_b > 0.5 unless lookout_c_sum offset 1h and bool 1e3"#;
    let want: BTreeSet<String> = ["lookout_a_total", "lookout_b", "lookout_c_sum"]
        .map(String::from)
        .into();
    assert_eq!(metric_names(expr), want);
    assert_eq!(
        metric_names("up{job=\"lookout\"} == 0"),
        ["up".to_string()].into()
    );
}

/// Every `expr` of the dashboard's panels (rows included) and the metric of each `label_values`
/// variable query.
fn dashboard_exprs(d: &Value) -> Vec<String> {
    fn panels(v: &Value, out: &mut Vec<String>) {
        for p in v.as_array().into_iter().flatten() {
            for t in p["targets"].as_array().into_iter().flatten() {
                out.push(
                    t["expr"]
                        .as_str()
                        .expect("a target has an expr")
                        .to_string(),
                );
            }
            panels(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    panels(&d["panels"], &mut out);
    for var in d["templating"]["list"].as_array().expect("variables") {
        let q = var["query"]["query"].as_str().expect("a variable query");
        let metric = q
            .strip_prefix("label_values(")
            .and_then(|r| r.rsplit_once(','))
            .map(|(m, _)| m.to_string())
            .unwrap_or_else(|| panic!("unexpected variable query {q}"));
        out.push(metric);
    }
    out
}

/// The alert rules, read from the file's fixed shape (`groups: - name: rules: - alert: ...`):
/// (alert, expr, severity, summary). Fails on a rule missing any of them.
fn alert_rules(text: &str) -> Vec<(String, String, String, String)> {
    assert!(text.lines().any(|l| l == "groups:"), "no groups:");
    let mut rules = Vec::new();
    let mut lines = text.lines().peekable();
    let mut current: Option<[String; 4]> = None;
    while let Some(line) = lines.next() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("- alert: ") {
            rules.extend(current.take());
            current = Some([
                name.to_string(),
                String::new(),
                String::new(),
                String::new(),
            ]);
            continue;
        }
        let Some(rule) = current.as_mut() else {
            continue;
        };
        if let Some(expr) = t.strip_prefix("expr: ") {
            if expr == "|" {
                let indent = |l: &str| l.len() - l.trim_start().len();
                let base = indent(line);
                while let Some(l) = lines.next_if(|l| l.trim().is_empty() || indent(l) > base) {
                    rule[1] += l.trim();
                    rule[1] += " ";
                }
            } else {
                rule[1] = expr.to_string();
            }
        } else if let Some(s) = t.strip_prefix("severity: ") {
            rule[2] = s.to_string();
        } else if let Some(s) = t.strip_prefix("summary: ") {
            rule[3] = s.to_string();
        }
    }
    rules.extend(current);
    rules
        .into_iter()
        .map(|[a, e, s, m]| {
            assert!(!e.trim().is_empty(), "{a}: no expr");
            assert!(
                ["critical", "warning"].contains(&s.as_str()),
                "{a}: severity {s:?}"
            );
            assert!(!m.is_empty(), "{a}: no summary");
            (a, e, s, m)
        })
        .collect()
}

/// The metric names on a `/metrics` page.
fn exported(page: &str) -> BTreeSet<String> {
    page.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(String::from)
        .collect()
}

#[test]
fn dashboard_and_alerts_query_only_metrics_lookout_exports() {
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("config/grafana/lookout-dashboard.json"))
            .expect("dashboard file"),
    )
    .expect("the dashboard is JSON");
    assert_eq!(dashboard["uid"], "lookout-overview");
    let alerts_path = root().join("config/prometheus/lookout-alerts.yml");
    let alerts = alert_rules(&std::fs::read_to_string(&alerts_path).expect("alerts file"));
    let names: BTreeSet<&str> = alerts.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(names.len(), alerts.len(), "alert names are unique");
    for want in [
        "LookoutCameraStalled",
        "LookoutBrokerDisconnected",
        "LookoutFramesDroppedRising",
    ] {
        assert!(names.contains(want), "{want}");
    }
    // promtool (from Debian's prometheus package, .ci/setup.sh) checks the file as Prometheus
    // would load it.
    let promtool = root().join("target/prometheus/usr/bin/promtool");
    match std::process::Command::new(&promtool)
        .args(["check", "rules"])
        .arg(&alerts_path)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "promtool check rules:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("promtool not run ({e}): .ci/setup.sh puts it in target/prometheus/"),
    }

    let mut queried = BTreeSet::new();
    for expr in dashboard_exprs(&dashboard)
        .iter()
        .chain(alerts.iter().map(|a| &a.1))
    {
        let found = metric_names(expr);
        assert!(!found.is_empty(), "no metric in {expr}");
        queried.extend(found);
    }
    // `up` is Prometheus' own series for every scrape target.
    queried.remove("up");

    // A running lookout with a camera and a broker: every family has samples.
    let dir = tempfile::tempdir().expect("tmp");
    let broker = Broker::start();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).expect("mkdir");
    std::fs::copy(data("bus.jpg"), frames.join("a.jpg")).expect("copy");
    let admin = free_port();
    let config = dir.path().join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            "[detector]\nmodel = \"{}\"\n\n[mqtt]\nurl = \"{}\"\ndevice = \"{}\"\n\n[admin]\n\
             listen = \"127.0.0.1:{admin}\"\n\n[[cameras]]\nname = \"gate\"\nsource = \"{}\"\n\
             loop = true\nfps = 2\n",
            path_str(&model("fp32")),
            broker.url(),
            unique("dash"),
            path_str(&frames)
        ),
    )
    .expect("write config");
    let mut child = lookout().args(["run", "--config"]).arg(&config).start();
    let page = metrics_until(admin, Duration::from_secs(90), |b| {
        metric(b, "lookout_frames_processed_total{camera=\"gate\"}").unwrap_or(0.0) > 0.0
            && metric(b, "lookout_mqtt_connected") == Some(1.0)
    });
    let _ = child.kill();
    let _ = child.wait();
    let have = exported(&page);
    assert!(have.contains("lookout_frames_processed_total"), "{page}");
    let missing: Vec<&String> = queried.iter().filter(|m| !have.contains(*m)).collect();
    assert!(
        missing.is_empty(),
        "queried but not on /metrics: {missing:?}\n{page}"
    );
}
