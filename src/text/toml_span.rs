//! Positions in TOML text, from the parser's own spans: `line:col` of a serde error, and of the
//! value a key path names. Shared by the config file and the model manifests, so it sits at the
//! bottom of the module graph (in `text/`).

use toml_edit::{ImDocument, Item, TableLike};

/// One step of a key path: a key in a table, or an entry of an array of tables (`[[cameras]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> From<&'a str> for Step<'a> {
    fn from(k: &'a str) -> Self {
        Step::Key(k)
    }
}

impl From<usize> for Step<'_> {
    fn from(i: usize) -> Self {
        Step::Index(i)
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map(|i| before[i + 1..].chars().count() + 1)
        .unwrap_or(before.chars().count() + 1);
    (line, col)
}

/// `line:col: message` for a TOML/serde error, with a suggestion for a misspelt key.
pub fn error_line(text: &str, e: &toml::de::Error) -> String {
    let (line, col) = e
        .span()
        .map(|span| line_col(text, span.start))
        .unwrap_or((1, 1));
    let msg = e.message().trim().replace('\n', " ");
    let hint = unknown_field_hint(&msg)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    format!("{line}:{col}: {msg}{hint}")
}

/// serde says "unknown field `scor_threshold`, expected one of `a`, `b`": suggest the nearest.
fn unknown_field_hint(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    super::suggest::closest(field, expected.into_iter()).map(str::to_string)
}

/// A parsed document that answers "where is this key path?".
pub struct Spans<'t> {
    text: &'t str,
    doc: Option<ImDocument<&'t str>>,
}

impl<'t> Spans<'t> {
    /// Parses `text` again, keeping spans; text that does not parse locates everything at 1:1.
    pub fn parse(text: &'t str) -> Spans<'t> {
        Spans {
            text,
            doc: ImDocument::parse(text).ok(),
        }
    }

    /// `line:col` of the value at `path` when the file sets it; otherwise of the nearest
    /// enclosing table that it writes (its `[table]` or `[[array]]` header), else 1:1.
    pub fn nearest(&self, path: &[Step]) -> (usize, usize) {
        let found = self.walk(path);
        line_col(self.text, found.last().copied().unwrap_or(0))
    }

    /// `line:col` of the key at `path`, only when the file sets exactly that key.
    pub fn exact(&self, path: &[Step]) -> Option<(usize, usize)> {
        let found = self.walk(path);
        (found.len() == path.len()).then(|| line_col(self.text, found.last().copied().unwrap_or(0)))
    }

    /// Offsets of each step of `path` that the document has, in order, stopping at the first
    /// step it lacks.
    fn walk(&self, path: &[Step]) -> Vec<usize> {
        let mut found = Vec::new();
        let Some(doc) = &self.doc else {
            return found;
        };
        let mut node = Node::Table(doc.as_table());
        for step in path {
            let next = match (*step, node) {
                (Step::Key(k), Node::Table(t)) => t.get_key_value(k).map(|(key, item)| {
                    let at = position(key.span(), item);
                    (at, Node::of(item))
                }),
                (Step::Index(i), Node::Array(a)) => a
                    .get(i)
                    .map(|t| (t.span().map(|s| s.start), Node::Table(t as &dyn TableLike))),
                _ => None,
            };
            let Some((Some(at), child)) = next else {
                break;
            };
            found.push(at);
            node = child;
        }
        found
    }
}

/// Where a walk stands: in a table (header, dotted or inline), in an array of tables, or at a
/// plain value.
#[derive(Clone, Copy)]
enum Node<'d> {
    Table(&'d dyn TableLike),
    Array(&'d toml_edit::ArrayOfTables),
    Leaf,
}

impl<'d> Node<'d> {
    fn of(item: &'d Item) -> Node<'d> {
        match item {
            Item::ArrayOfTables(a) => Node::Array(a),
            _ => item.as_table_like().map(Node::Table).unwrap_or(Node::Leaf),
        }
    }
}

/// A `[table]` or `[[array]]` is located at its (first) header, anything else at its key.
fn position(key: Option<std::ops::Range<usize>>, item: &Item) -> Option<usize> {
    let header = match item {
        Item::Table(t) if !t.is_dotted() && !t.is_implicit() => t.span(),
        Item::ArrayOfTables(a) => a.span(),
        _ => None,
    };
    header.or(key).map(|s| s.start)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# threads = 9 in a comment\n[detector]\nthreads = 2\n\n\
                        [[cameras]]\nname = \"a\"\n[[cameras]]\nname = \"b\"\n\
                        [cameras.detector]\n  threads = 3\n[[cameras]]\nname = \"c\"\n\
                        [mqtt]\ninline = { qos = 1 }\n";

    #[test]
    fn keys_are_found_by_path_not_by_text() {
        let s = Spans::parse(TEXT);
        assert_eq!(
            s.exact(&["detector".into(), "threads".into()]),
            Some((3, 1))
        );
        let cam1 = [
            "cameras".into(),
            1.into(),
            "detector".into(),
            "threads".into(),
        ];
        assert_eq!(s.exact(&cam1), Some((10, 3)));
        assert_eq!(
            s.exact(&["cameras".into(), 2.into(), "name".into()]),
            Some((12, 1))
        );
        assert_eq!(
            s.exact(&["mqtt".into(), "inline".into(), "qos".into()]),
            Some((14, 12))
        );
    }

    #[test]
    fn keys_the_file_does_not_set_point_at_their_table() {
        let s = Spans::parse(TEXT);
        assert_eq!(s.exact(&["cameras".into(), 2.into(), "fps".into()]), None);
        assert_eq!(
            s.nearest(&["cameras".into(), 2.into(), "fps".into()]),
            (11, 1)
        );
        assert_eq!(
            s.nearest(&["cameras".into(), 0.into(), "detector".into()]),
            (5, 1)
        );
        assert_eq!(s.nearest(&["events".into(), "left_after_s".into()]), (1, 1));
        assert_eq!(Spans::parse("not = [toml").nearest(&["not".into()]), (1, 1));
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_col("a\nbé = 1", 6), (2, 4));
        assert_eq!(line_col("ab", 99), (1, 3));
    }
}
