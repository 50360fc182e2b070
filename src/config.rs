//! The config file (`config/lookout.toml` documents every key). Unknown keys are rejected, and every
//! error names the file, line and column, and what is allowed.

use std::path::Path;

use serde::Deserialize;

use crate::detect::DetectorConfig;
use crate::error::{Error, Result};
use crate::publish::mqtt::MqttConfig;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub detector: DetectorConfig,
    pub mqtt: MqttConfig,
}

/// The bundled FP32 model's manifest, relative to the working directory (the repository root).
pub const DEFAULT_MODEL: &str = "models/nanodet-m-fp32.toml";

impl Config {
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!(
                "{}: cannot read the config file: {e}; pass --config with an existing file \
                 (config/lookout.toml is the documented example)",
                path.display()
            ))
        })?;
        Config::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            Error::Config(format!("{}:{}", path.display(), toml_error_line(text, &e)))
        })?;
        let pos = |key: &str| {
            key_position(text, key)
                .map(|(l, c)| format!("{l}:{c}"))
                .unwrap_or("1:1".into())
        };
        cfg.detector.validate().map_err(|m| {
            let key = m.split_whitespace().next().unwrap_or("detector");
            Error::Config(format!("{}:{}: [detector] {m}", path.display(), pos(key)))
        })?;
        cfg.mqtt.validate().map_err(|m| {
            Error::Config(format!("{}:{}: [mqtt] {m}", path.display(), pos("mqtt")))
        })?;
        if cfg.detector.model.is_relative() && !cfg.detector.model.exists() {
            if let Some(dir) = path.parent() {
                let beside = dir.join(&cfg.detector.model);
                if beside.exists() {
                    cfg.detector.model = beside;
                }
            }
        }
        Ok(cfg)
    }
}

/// `line:col: message` for a TOML/serde error, with a suggestion for a misspelt key.
pub fn toml_error_line(text: &str, e: &toml::de::Error) -> String {
    let (line, col) = match e.span() {
        Some(span) => line_col(text, span.start),
        None => (1, 1),
    };
    let msg = e.message().trim().replace('\n', " ");
    let hint = unknown_field_hint(&msg)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    format!("{line}:{col}: {msg}{hint}")
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map(|i| before.len() - i)
        .unwrap_or(before.len() + 1);
    (line, col)
}

/// Position of the first line that assigns `key`.
fn key_position(text: &str, key: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, l)| {
        let t = l.trim_start();
        let rest = t.strip_prefix(key)?;
        rest.trim_start()
            .starts_with('=')
            .then_some((i + 1, l.len() - t.len() + 1))
    })
}

/// serde says "unknown field `scor_threshold`, expected one of `a`, `b`": suggest the nearest.
fn unknown_field_hint(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    closest(field, expected.into_iter()).map(str::to_string)
}

/// The candidate within a small edit distance of `name`, if any.
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.len() / 3).max(2);
    candidates
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Config::parse(text, Path::new("x.toml"))
            .expect_err("must fail")
            .to_string()
    }

    #[test]
    fn unknown_key_names_line_column_and_suggestion() {
        let e = err("[detector]\nlong_side = 416\nscore_treshold = 0.4\n");
        assert!(e.starts_with("x.toml:3:1:"), "{e}");
        assert!(e.contains("did you mean `score_threshold`"), "{e}");
    }

    #[test]
    fn wrong_type_and_bad_value_are_located() {
        let e = err("[detector]\nthreads = \"two\"\n");
        assert!(e.starts_with("x.toml:2:11:"), "{e}");
        let e = err("[detector]\n\nscore_threshold = 1.5\n");
        assert!(
            e.starts_with("x.toml:3:1:") && e.contains("between 0 and 1"),
            "{e}"
        );
    }

    #[test]
    fn shipped_config_is_valid() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/lookout.toml");
        let cfg = Config::load(&p).expect("config/lookout.toml parses");
        assert_eq!(cfg.detector.score_threshold, 0.35);
    }

    #[test]
    fn edit_distance_suggestions() {
        assert_eq!(
            closest("persn", ["person", "car"].into_iter()),
            Some("person")
        );
        assert_eq!(
            closest("zebra_crossing", ["person", "car"].into_iter()),
            None
        );
    }
}
