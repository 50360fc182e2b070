//! What one source file's text declares and names, read without a Rust parser: its `mod x;`
//! lines (the files below it) and every module path it names (`crate::a::b`, `super::x`,
//! `self::x`, `child::x`, in `use` trees and inline alike). Comments are skipped; string literals
//! are read for `crate::`/`super::`/`self::` paths only, because serde's `deserialize_with =
//! "crate::…"` is a real dependency written as a string. Odd or unfinished text yields fewer
//! paths, never a panic.

/// How a path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    Crate,
    /// `super::`; `self::` is `Super(0)` and `super::super::` is `Super(2)`.
    Super(usize),
    /// A child module named without `self::` (`use decode::yolo;`), valid only when the file
    /// declares that child: the caller decides.
    Bare(String),
}

/// One path a file names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub root: Root,
    /// The segments after the root (`crate::a::b::X` → `a`, `b`, `X`); a glob or a group's
    /// `self` ends at the module it names.
    pub segments: Vec<String>,
    /// Inline modules (`mod tests { … }`) around the path: a `super::` leaves those first.
    pub inline_depth: usize,
}

/// What [`scan`] finds in one file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scanned {
    /// `mod x;` at the file's top level (attributes and visibility aside): its child files.
    pub mods: Vec<String>,
    pub paths: Vec<Named>,
}

/// Reads `text`'s `mod` declarations and the paths it names.
pub fn scan(text: &str) -> Scanned {
    let (code, literal) = mask(text.as_bytes());
    let mut out = Scanned::default();
    // One entry per open brace: whether it opened an inline `mod x {`.
    let mut braces: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let c = code[i];
        if literal[i] {
            if let Some((named, end)) = path_at(&code, i, braces_inline(&braces), false) {
                out.paths.extend(named);
                i = end;
            } else {
                i += 1;
            }
            continue;
        }
        match c {
            b'{' => {
                braces.push(inline_mod_before(&code, i));
                i += 1;
            }
            b'}' => {
                braces.pop();
                i += 1;
            }
            _ if braces.is_empty() && word_at(&code, i, b"mod") => {
                if let Some((name, end)) = mod_declaration(&code, i) {
                    out.mods.push(name);
                    i = end;
                } else {
                    i += 3;
                }
            }
            _ => match path_at(&code, i, braces_inline(&braces), true) {
                Some((named, end)) => {
                    out.paths.extend(named);
                    i = end;
                }
                None => i += 1,
            },
        }
    }
    out
}

fn braces_inline(braces: &[bool]) -> usize {
    braces.iter().filter(|m| **m).count()
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The text with comments blanked (newlines kept), and which bytes lie in a string or character
/// literal (quotes included).
fn mask(src: &[u8]) -> (Vec<u8>, Vec<bool>) {
    let mut code = src.to_vec();
    let mut literal = vec![false; src.len()];
    let at = |i: usize| src.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while i < src.len() {
        let start = i;
        match (src[i], at(i + 1)) {
            (b'/', b'/') => {
                while i < src.len() && src[i] != b'\n' {
                    i += 1;
                }
                blank(&mut code, start, i);
            }
            (b'/', b'*') => {
                // Block comments nest in Rust.
                let mut depth = 0usize;
                while i < src.len() {
                    if src[i] == b'/' && at(i + 1) == b'*' {
                        depth += 1;
                        i += 2;
                    } else if src[i] == b'*' && at(i + 1) == b'/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                blank(&mut code, start, i.min(src.len()));
            }
            (b'r', b'"' | b'#')
                if start == 0 || !is_ident(src[start - 1]) || src[start - 1] == b'b' =>
            {
                let mut j = i + 1;
                while at(j) == b'#' {
                    j += 1;
                }
                if at(j) != b'"' {
                    i += 1; // `r#ident`, a raw identifier
                    continue;
                }
                let hashes = j - i - 1;
                j += 1;
                while j < src.len() {
                    if src[j] == b'"' && (1..=hashes).all(|k| at(j + k) == b'#') {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                i = j.min(src.len());
                literal[start..i].fill(true);
            }
            (b'"', _) => {
                i += 1;
                while i < src.len() && src[i] != b'"' {
                    i += if src[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(src.len());
                literal[start..i].fill(true);
            }
            (b'\'', _) => {
                // A character literal, or a lifetime or label (left as code).
                // `'\''`: the quote after the backslash is the character, not the end.
                let end = if at(i + 1) == b'\\' {
                    src.get(i + 3..)
                        .and_then(|rest| rest.iter().position(|c| *c == b'\''))
                        .map(|p| i + 3 + p + 1)
                } else {
                    let len = utf8_len(at(i + 1));
                    (at(i + 1 + len) == b'\'').then_some(i + 2 + len)
                };
                match end {
                    Some(end) => {
                        i = end.min(src.len());
                        literal[start..i].fill(true);
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    (code, literal)
}

fn blank(code: &mut [u8], from: usize, to: usize) {
    for c in &mut code[from..to] {
        if *c != b'\n' {
            *c = b' ';
        }
    }
}

/// Bytes of the UTF-8 character that starts with `first`.
fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Whether `word` stands at `i` as a whole word.
fn word_at(code: &[u8], i: usize, word: &[u8]) -> bool {
    code[i..].starts_with(word)
        && (i == 0 || !is_ident(code[i - 1]))
        && !code.get(i + word.len()).copied().is_some_and(is_ident)
}

fn skip_ws(code: &[u8], mut i: usize) -> usize {
    while code.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

fn ident_at(code: &[u8], i: usize) -> (String, usize) {
    let end = i + code[i.min(code.len())..]
        .iter()
        .take_while(|c| is_ident(**c))
        .count();
    let name = String::from_utf8_lossy(&code[i.min(end)..end]).into_owned();
    (name, end)
}

/// `mod name;` at `i` (the `mod` keyword): the name and the end of the declaration.
fn mod_declaration(code: &[u8], i: usize) -> Option<(String, usize)> {
    let start = skip_ws(code, i + 3);
    let (name, end) = ident_at(code, start);
    let semi = skip_ws(code, end);
    (!name.is_empty() && code.get(semi) == Some(&b';')).then_some((name, semi + 1))
}

/// Whether the `{` at `i` opens `mod name {`.
fn inline_mod_before(code: &[u8], i: usize) -> bool {
    let mut j = i;
    while j > 0 && code[j - 1].is_ascii_whitespace() {
        j -= 1;
    }
    let name_end = j;
    while j > 0 && is_ident(code[j - 1]) {
        j -= 1;
    }
    if j == name_end {
        return false;
    }
    while j > 0 && code[j - 1].is_ascii_whitespace() {
        j -= 1;
    }
    j >= 3 && word_at(code, j - 3, b"mod")
}

/// Whether the word at `i` is the path of a restricted visibility, `pub(in crate::a)`: it names a
/// module without using it.
fn in_visibility(code: &[u8], i: usize) -> bool {
    let before = &code[..i];
    let trimmed = before.trim_ascii_end();
    trimmed.ends_with(b"in")
        && trimmed[..trimmed.len() - 2]
            .trim_ascii_end()
            .ends_with(b"(")
}

/// The paths that start at `i`, if any do (a group, `crate::{a, b}`, names several), and where
/// they end. `bare` also takes a plain
/// identifier followed by `::` (a child module, maybe: see [`Root::Bare`]).
fn path_at(code: &[u8], i: usize, inline_depth: usize, bare: bool) -> Option<(Vec<Named>, usize)> {
    if i > 0 && (is_ident(code[i - 1]) || matches!(code[i - 1], b':' | b'$')) {
        return None;
    }
    let (first, end) = ident_at(code, i);
    if first.is_empty() || !code[end..].starts_with(b"::") || in_visibility(code, i) {
        return None;
    }
    let root = match first.as_str() {
        "crate" => Root::Crate,
        "self" => Root::Super(0),
        "super" => Root::Super(1),
        _ if bare && first.starts_with(|c: char| c.is_ascii_lowercase()) => Root::Bare(first),
        _ => return None,
    };
    let (trees, end) = tree(code, end + 2, 0);
    let mut named: Vec<Named> = trees
        .into_iter()
        .map(|segments| Named {
            root: root.clone(),
            segments,
            inline_depth,
        })
        .collect();
    // `super::super::x`: the extra steps up belong to the root.
    for n in &mut named {
        while let (Root::Super(k), Some("super")) =
            (&n.root, n.segments.first().map(String::as_str))
        {
            n.root = Root::Super(k + 1);
            n.segments.remove(0);
        }
    }
    Some((named, end))
}

/// A `use` tree after `::`: each path it names, as segments, and where it ends. Deeper groups
/// than any source needs are cut off rather than followed.
fn tree(code: &[u8], i: usize, depth: usize) -> (Vec<Vec<String>>, usize) {
    let i = skip_ws(code, i);
    match code.get(i) {
        Some(b'{') if depth < 32 => {
            let mut out = Vec::new();
            let mut j = i + 1;
            loop {
                j = skip_ws(code, j);
                if code.get(j) == Some(&b'}') {
                    j += 1;
                    break;
                }
                let (subs, end) = tree(code, j, depth + 1);
                if end == j {
                    break; // not a tree: malformed text, stop here
                }
                out.extend(subs);
                j = skip_ws(code, end);
                match code.get(j) {
                    Some(b',') => j += 1,
                    Some(b'}') => {
                        j += 1;
                        break;
                    }
                    _ => break,
                }
            }
            (out, j)
        }
        Some(b'*') => (vec![Vec::new()], i + 1),
        _ => {
            let (name, end) = ident_at(code, i);
            if name.is_empty() {
                return (vec![Vec::new()], i);
            }
            let end = skip_alias(code, end);
            if name == "self" {
                return (vec![Vec::new()], end);
            }
            let next = code.get(end + 2).copied().unwrap_or(0);
            if code[end..].starts_with(b"::") && (is_ident(next) || matches!(next, b'{' | b'*')) {
                let (subs, after) = tree(code, end + 2, depth + 1);
                let subs = subs
                    .into_iter()
                    .map(|mut s| {
                        s.insert(0, name.clone());
                        s
                    })
                    .collect();
                (subs, after)
            } else {
                (vec![vec![name]], end)
            }
        }
    }
}

/// After a `use` item: ` as alias`, if there.
fn skip_alias(code: &[u8], end: usize) -> usize {
    let j = skip_ws(code, end);
    if j > end && word_at(code, j, b"as") {
        let (alias, after) = ident_at(code, skip_ws(code, j + 2));
        if !alias.is_empty() {
            return after;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<(Root, String, usize)> {
        scan(text)
            .paths
            .into_iter()
            .map(|n| (n.root, n.segments.join("::"), n.inline_depth))
            .collect()
    }

    #[test]
    fn use_trees_name_each_path() {
        let text = "use crate::{a::{self, B as C}, d::*};\nuse super::super::x as y;\n\
                    use self::child::{\n    Z,\n};\nfn f() { crate::e::f::<u8>(); }\n";
        assert_eq!(
            paths(text),
            [
                (Root::Crate, "a".into(), 0),
                (Root::Crate, "a::B".into(), 0),
                (Root::Crate, "d".into(), 0),
                (Root::Super(2), "x".into(), 0),
                (Root::Super(0), "child::Z".into(), 0),
                (Root::Crate, "e::f".into(), 0),
            ]
        );
    }

    #[test]
    fn comments_and_literals_are_told_apart() {
        let text = "// crate::a in a comment\n/* crate::b /* nested */ crate::c */\n\
                    #[serde(deserialize_with = \"crate::exact::point\")]\n\
                    const S: &str = \"decode::x {\"; const C: char = '{'; const Q: char = '\\'';\n\
                    fn g<'a>(x: &'a str) {}\npub(in crate::d) fn h() {}\nuse decode::yolo;\n";
        assert_eq!(
            paths(text),
            [
                (Root::Crate, "exact::point".into(), 0),
                (Root::Bare("decode".into()), "yolo".into(), 0),
            ]
        );
    }

    #[test]
    fn mod_lines_and_inline_modules() {
        let s = scan(
            "#[cfg(feature = \"x\")]\npub mod a;\npub(crate) mod b ;\nfn f() { \"mod c;\"; }\n\
             #[cfg(test)]\nmod tests {\n    mod d;\n    use super::*;\n}\nuse super::e;\n",
        );
        assert_eq!(s.mods, ["a", "b"]);
        let depths: Vec<(String, usize)> = s
            .paths
            .into_iter()
            .map(|n| (n.segments.join("::"), n.inline_depth))
            .collect();
        assert_eq!(depths, [(String::new(), 1), ("e".into(), 0)]);
    }

    #[test]
    fn unfinished_text_does_not_panic() {
        for text in [
            "use crate::{a, ",
            "\"crate::a",
            "/* crate::a",
            "r#\"x",
            "'\\",
            "'",
            "mod",
            "use crate::",
            "}}}{",
            "crate::{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
        ] {
            scan(text);
        }
    }
}
