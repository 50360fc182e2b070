//! The `metadata_props` Ultralytics (and YOLOv5's own exporter) write into an ONNX file: `names` as a
//! Python dict literal, `imgsz` as `[h, w]`, `task`, `batch`, `stride`, `description`, `end2end`.

use std::collections::BTreeMap;

/// What lookout uses of a file's metadata.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    /// Class names, index = class id.
    pub names: Option<Vec<String>>,
    /// Input size as (width, height).
    pub imgsz: Option<(u32, u32)>,
    pub task: Option<String>,
    pub stride: Option<u32>,
    pub description: String,
    pub end2end: bool,
}

impl Metadata {
    pub fn from_props(props: &BTreeMap<String, String>) -> Metadata {
        let get = |k: &str| props.get(k).map(|s| s.trim());
        Metadata {
            names: get("names").and_then(parse_names),
            imgsz: get("imgsz").and_then(parse_imgsz),
            task: get("task").map(str::to_string),
            stride: get("stride").and_then(|s| s.parse().ok()),
            description: get("description").unwrap_or("").to_string(),
            end2end: get("end2end").is_some_and(|v| v.eq_ignore_ascii_case("true")),
        }
    }

    /// Whether this looks like an Ultralytics or YOLOv5 export (it has class names or a task).
    pub fn is_present(&self) -> bool {
        self.names.is_some() || self.task.is_some()
    }

    pub fn mentions(&self, what: &str) -> bool {
        self.description
            .to_ascii_lowercase()
            .contains(&what.to_ascii_lowercase())
    }
}

/// `{0: 'person', 1: "teddy's bear"}` or `['person', 'bicycle']` → names in id order. Ids must be
/// 0..n without gaps; anything else is `None`.
pub fn parse_names(text: &str) -> Option<Vec<String>> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.ws();
    let (open, close, keyed) = match p.peek()? {
        b'{' => (b'{', b'}', true),
        b'[' => (b'[', b']', false),
        _ => return None,
    };
    p.expect(open)?;
    let mut out: Vec<(usize, String)> = Vec::new();
    loop {
        p.ws();
        if p.peek()? == close {
            break;
        }
        let id = if keyed {
            let id = p.int()?;
            p.ws();
            p.expect(b':')?;
            p.ws();
            id
        } else {
            out.len()
        };
        out.push((id, p.string()?));
        p.ws();
        match p.peek()? {
            b',' => p.i += 1,
            c if c == close => {}
            _ => return None,
        }
    }
    out.sort_by_key(|(id, _)| *id);
    if out.is_empty() || out.iter().enumerate().any(|(i, (id, _))| i != *id) {
        return None;
    }
    Some(out.into_iter().map(|(_, n)| n).collect())
}

/// `[640, 640]` ([h, w]) or `640` → (width, height).
pub fn parse_imgsz(text: &str) -> Option<(u32, u32)> {
    let nums: Vec<u32> = text
        .trim_matches(|c| c == '[' || c == ']' || c == '(' || c == ')')
        .split(',')
        .map(|s| s.trim().parse().ok())
        .collect::<Option<_>>()?;
    match nums[..] {
        [s] if s > 0 => Some((s, s)),
        [h, w] if h > 0 && w > 0 => Some((w, h)),
        _ => None,
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn expect(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }
    fn int(&mut self) -> Option<usize> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }
    /// A Python string literal in single or double quotes, with backslash escapes.
    fn string(&mut self) -> Option<String> {
        let quote = self.peek().filter(|c| *c == b'\'' || *c == b'"')?;
        self.i += 1;
        let mut bytes = Vec::new();
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    bytes.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        other => other,
                    });
                }
                c if c == quote => break,
                c => bytes.push(c),
            }
        }
        String::from_utf8(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_as_ultralytics_and_yolov5_write_them() {
        assert_eq!(
            parse_names("{0: 'person', 1: 'bicycle', 2: \"teddy's bear\"}").expect("dict"),
            ["person", "bicycle", "teddy's bear"]
        );
        assert_eq!(parse_names("['a', 'b']").expect("list"), ["a", "b"]);
        assert_eq!(
            parse_names("{1: 'a', 0: 'b'}").expect("out of order"),
            ["b", "a"]
        );
        for bad in [
            "",
            "{",
            "{0: 'a', 2: 'b'}",
            "{0: a}",
            "{}",
            "{0: 'a'",
            "[1, 2]",
        ] {
            assert_eq!(parse_names(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn imgsz_is_height_then_width() {
        assert_eq!(parse_imgsz("[640, 640]"), Some((640, 640)));
        assert_eq!(parse_imgsz("[384, 640]"), Some((640, 384)));
        assert_eq!(parse_imgsz("320"), Some((320, 320)));
        assert_eq!(parse_imgsz("[0, 1]"), None);
        assert_eq!(parse_imgsz("abc"), None);
    }

    #[test]
    fn props_become_metadata() {
        let props: BTreeMap<String, String> = [
            ("task", "detect"),
            ("names", "{0: 'person'}"),
            ("imgsz", "[64, 96]"),
            ("end2end", "True"),
            ("description", "Ultralytics RT-DETR-l model"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let m = Metadata::from_props(&props);
        assert_eq!(m.task.as_deref(), Some("detect"));
        assert_eq!(m.imgsz, Some((96, 64)));
        assert!(m.end2end && m.mentions("rt-detr") && m.is_present());
    }
}
