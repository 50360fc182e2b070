//! Prometheus text exposition (format 0.0.4). One writer for every family lookout exports, so each
//! gets its HELP and TYPE line once and every label value is escaped the same way.

use std::fmt::{Display, Write as _};

/// A metric family's type.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Counter,
    Gauge,
    Summary,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Summary => "summary",
        }
    }
}

/// The `/metrics` page being written.
#[derive(Debug, Default)]
pub struct PromText {
    out: String,
}

impl PromText {
    pub fn new() -> PromText {
        PromText::default()
    }

    /// Starts a family: its HELP and TYPE lines.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) -> &mut Self {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(
            self.out,
            "# HELP {name} {help}\n# TYPE {name} {}",
            kind.as_str()
        );
        self
    }

    /// One sample; `name` may carry a suffix of the family (`_count`, `_sum`).
    pub fn sample(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: impl Display,
    ) -> &mut Self {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (key, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let v = v
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                let _ = write!(self.out, "{key}=\"{v}\"");
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_escaped_labels() {
        let mut p = PromText::new();
        p.family("x_total", Kind::Counter, "Things.")
            .sample("x_total", &[], 3)
            .sample("x_total", &[("camera", "a\"b\\c\nd"), ("reason", "r")], 4);
        assert_eq!(
            p.finish(),
            "# HELP x_total Things.\n# TYPE x_total counter\nx_total 3\n\
             x_total{camera=\"a\\\"b\\\\c\\nd\",reason=\"r\"} 4\n"
        );
    }
}
