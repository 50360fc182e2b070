//! The file → file import graph of a crate's sources, and its cycles. Each `.rs` file is a node;
//! a file imports another when it names a path into it (see `scan.rs`), resolved to the deepest
//! file the path reaches: `crate::detect::decode::yolo::X` → `detect/decode/yolo.rs`,
//! `crate::detect::Detector` → `detect/mod.rs`. A `mod x;` line is not an import (a parent
//! declaring its children), but a parent naming its child (`pub use self::x::Y`) is. So a name
//! that `mod.rs` re-exports and its own child imports back through `mod.rs` is a cycle
//! child → mod.rs → child, as it should be. Each crate (`lib.rs`'s, `main.rs`'s) resolves
//! `crate::` in its own tree; paths into other crates (`lookout::`, `std::`) are not followed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::scan::{scan, Root, Scanned};

/// File (relative to the source folder, `/`-separated) → the files it imports.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// One file in a crate's module tree.
struct Module {
    /// Module path from its crate root (`["detect", "decode"]`).
    path: Vec<String>,
    root: String,
    /// Its `mod x;` children that have a file: name → file.
    children: BTreeMap<String, String>,
    scanned: Scanned,
}

/// Whether a child module named without `self::` (`pub use server::bind;`, `camera::Camera`) is
/// an import of the child. It is one, just as `self::server::bind` is; but a `mod.rs` re-exporting
/// its children while they use items of its own is the house style today, so `src/` is checked
/// without them until those items move out (`Count` lists those cycles too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareChildren {
    Ignore,
    Count,
}

/// The import graph of the crates whose root files are `roots` (`lib.rs`, `main.rs`), with
/// `files` holding every source text by its relative path. Files no `mod` line reaches are not
/// in it: [`unreached`] names them.
pub fn file_graph(files: &BTreeMap<String, String>, roots: &[&str], bare: BareChildren) -> Graph {
    let modules = module_tree(files, roots);
    // (crate root, module path) → file
    let by_path: BTreeMap<(&str, &[String]), &str> = modules
        .iter()
        .map(|(file, m)| ((m.root.as_str(), m.path.as_slice()), file.as_str()))
        .collect();
    let mut graph = Graph::new();
    for (file, m) in &modules {
        let deps = graph.entry(file.clone()).or_default();
        for named in &m.scanned.paths {
            let full: Vec<String> = match &named.root {
                Root::Crate => named.segments.clone(),
                Root::Super(up) => {
                    // Inside `mod tests { … }` the first `super` leaves the inline module only.
                    let up_files = up.saturating_sub(named.inline_depth);
                    let Some(keep) = m.path.len().checked_sub(up_files) else {
                        continue; // above the crate root: not a path into it
                    };
                    m.path[..keep]
                        .iter()
                        .chain(&named.segments)
                        .cloned()
                        .collect()
                }
                Root::Bare(child)
                    if bare == BareChildren::Count && m.children.contains_key(child) =>
                {
                    m.path
                        .iter()
                        .chain(std::iter::once(child))
                        .chain(&named.segments)
                        .cloned()
                        .collect()
                }
                // Another crate, not a module, or a child not counted.
                Root::Bare(_) => continue,
            };
            // The deepest file the path reaches; the crate root at least.
            let target = (0..=full.len())
                .rev()
                .find_map(|n| by_path.get(&(m.root.as_str(), &full[..n])));
            if let Some(target) = target.filter(|t| **t != file.as_str()) {
                deps.insert(target.to_string());
            }
        }
    }
    graph
}

/// Files in `files` that no crate root's `mod` lines reach.
pub fn unreached(files: &BTreeMap<String, String>, roots: &[&str]) -> Vec<String> {
    let modules = module_tree(files, roots);
    files
        .keys()
        .filter(|f| !modules.contains_key(*f))
        .cloned()
        .collect()
}

/// Every file reachable from `roots` through `mod x;` lines, by file.
fn module_tree(files: &BTreeMap<String, String>, roots: &[&str]) -> BTreeMap<String, Module> {
    let mut modules = BTreeMap::new();
    let mut queue: VecDeque<(String, Vec<String>, String)> = roots
        .iter()
        .filter(|r| files.contains_key(**r))
        .map(|r| (r.to_string(), Vec::new(), r.to_string()))
        .collect();
    while let Some((file, path, root)) = queue.pop_front() {
        if modules.contains_key(&file) {
            continue;
        }
        let Some(text) = files.get(&file) else {
            continue;
        };
        let scanned = scan(text);
        let dir = children_dir(&file);
        let mut children = BTreeMap::new();
        for name in &scanned.mods {
            let child = [format!("{dir}{name}.rs"), format!("{dir}{name}/mod.rs")]
                .into_iter()
                .find(|f| files.contains_key(f));
            if let Some(child) = child {
                let mut child_path = path.clone();
                child_path.push(name.clone());
                queue.push_back((child.clone(), child_path, root.clone()));
                children.insert(name.clone(), child);
            }
        }
        modules.insert(
            file,
            Module {
                path,
                root,
                children,
                scanned,
            },
        );
    }
    modules
}

/// Where the files of `file`'s children lie: beside a `mod.rs` or crate root, else in the folder
/// named after the file (`track/bytetrack.rs` → `track/bytetrack/`).
fn children_dir(file: &str) -> String {
    let (dir, name) = file.rsplit_once('/').unwrap_or(("", file));
    let dir = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    match name {
        "mod.rs" | "lib.rs" | "main.rs" => dir,
        _ => format!("{dir}{}/", name.trim_end_matches(".rs")),
    }
}

/// Files that import each other in a circle: all of them, and one shortest circle through the
/// first, which ends where it starts.
#[derive(Debug, PartialEq, Eq)]
pub struct Cycle {
    pub files: Vec<String>,
    pub circle: Vec<String>,
}

/// The graph's cycles: one per strongly connected set of two or more files, in file order.
pub fn cycles(graph: &Graph) -> Vec<Cycle> {
    let mut out: Vec<Cycle> = strongly_connected(graph)
        .into_iter()
        .filter(|set| set.len() > 1)
        .map(|set| {
            let circle = shortest_circle(graph, &set);
            Cycle {
                files: set.into_iter().collect(),
                circle,
            }
        })
        .collect();
    out.sort_by(|a, b| a.files.cmp(&b.files));
    out
}

/// Tarjan's strongly connected components, without recursion.
fn strongly_connected(graph: &Graph) -> Vec<BTreeSet<String>> {
    let nodes: Vec<&String> = graph
        .keys()
        .chain(graph.values().flatten())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let index_of: BTreeMap<&String, usize> =
        nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let succ: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            graph
                .get(*n)
                .into_iter()
                .flatten()
                .filter_map(|m| index_of.get(m).copied())
                .collect()
        })
        .collect();
    let n = nodes.len();
    let (mut index, mut low) = (vec![usize::MAX; n], vec![0; n]);
    let mut on_stack = vec![false; n];
    let (mut stack, mut sets) = (Vec::new(), Vec::new());
    let mut next = 0;
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        // (node, how many of its successors have been visited)
        let mut work = vec![(start, 0usize)];
        while let Some(&mut (v, ref mut k)) = work.last_mut() {
            if *k == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = succ[v].get(*k) {
                *k += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut set = BTreeSet::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    set.insert(nodes[w].clone());
                    if w == v {
                        break;
                    }
                }
                sets.push(set);
            }
        }
    }
    sets
}

/// A shortest circle from the set's first file back to it, through the set's files.
fn shortest_circle(graph: &Graph, set: &BTreeSet<String>) -> Vec<String> {
    let Some(start) = set.first() else {
        return Vec::new();
    };
    let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for next in graph
            .get(node)
            .into_iter()
            .flatten()
            .filter(|f| set.contains(*f))
        {
            if next == start {
                // node, the file it was reached from, …, start; then turned round and closed.
                let mut circle = vec![node.clone()];
                let mut at = node;
                while let Some(prev) = came_from.get(at) {
                    circle.push((*prev).clone());
                    at = prev;
                }
                circle.reverse();
                circle.push(start.clone());
                return circle;
            }
            if next != start && !came_from.contains_key(next) {
                came_from.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect()
    }

    fn edges(graph: &Graph, file: &str) -> Vec<String> {
        graph.get(file).into_iter().flatten().cloned().collect()
    }

    #[test]
    fn a_two_file_cycle_is_found() {
        let f = files(&[
            ("lib.rs", "pub mod a;\npub mod b;\n"),
            ("a.rs", "use crate::b::X;\n"),
            ("b.rs", "pub struct X;\npub fn f() { crate::a::g() }\n"),
        ]);
        let graph = file_graph(&f, &["lib.rs"], BareChildren::Ignore);
        assert_eq!(
            cycles(&graph),
            [Cycle {
                files: vec!["a.rs".into(), "b.rs".into()],
                circle: vec!["a.rs".into(), "b.rs".into(), "a.rs".into()],
            }]
        );
    }

    #[test]
    fn mod_lines_and_sibling_imports_are_not_cycles() {
        let f = files(&[
            ("lib.rs", "pub mod m;\npub use m::y::Y;\n"),
            ("m/mod.rs", "mod x;\npub mod y;\n"),
            (
                "m/x.rs",
                "use super::y::Y;\nuse crate::m::y;\nmod tests { use super::*; }\n",
            ),
            ("m/y.rs", "pub struct Y;\n"),
        ]);
        let graph = file_graph(&f, &["lib.rs"], BareChildren::Count);
        assert_eq!(cycles(&graph), []);
        assert_eq!(edges(&graph, "m/x.rs"), ["m/y.rs"]);
        assert_eq!(edges(&graph, "m/mod.rs"), Vec::<String>::new());
        assert_eq!(edges(&graph, "lib.rs"), ["m/y.rs"]);
    }

    #[test]
    fn a_re_export_imported_back_through_mod_rs_is_a_cycle() {
        for (reexport, bare) in [
            ("pub use self::y::Y;", BareChildren::Ignore),
            ("pub use y::Y;", BareChildren::Count),
        ] {
            let mod_rs = format!("mod x;\nmod y;\n{reexport}\nfn helper() {{}}\n");
            let f = files(&[
                ("lib.rs", "pub mod m;\n"),
                ("m/mod.rs", &mod_rs),
                ("m/x.rs", "use super::Y;\n"),
                ("m/y.rs", "pub struct Y;\nfn f() { super::helper() }\n"),
            ]);
            let graph = file_graph(&f, &["lib.rs"], bare);
            assert_eq!(edges(&graph, "m/x.rs"), ["m/mod.rs"]);
            let found = cycles(&graph);
            assert_eq!(found.len(), 1, "{reexport}: {found:?}");
            assert_eq!(found[0].circle, ["m/mod.rs", "m/y.rs", "m/mod.rs"]);
            let ignored = file_graph(&f, &["lib.rs"], BareChildren::Ignore);
            assert_eq!(
                cycles(&ignored).len(),
                usize::from(bare == BareChildren::Ignore)
            );
        }
    }

    #[test]
    fn paths_resolve_to_the_deepest_file_of_their_own_crate() {
        let f = files(&[
            ("lib.rs", "pub mod d;\npub mod t;\n"),
            ("d/mod.rs", "pub mod decode;\npub struct Detector;\n"),
            ("d/decode/mod.rs", "pub mod yolo;\n"),
            ("d/decode/yolo.rs", "pub struct X;\n"),
            (
                "t.rs",
                "mod tests;\nuse crate::d::decode::yolo::X;\nuse crate::d::Detector;\n",
            ),
            ("t/tests.rs", "use super::super::d;\n"),
            ("main.rs", "mod cli;\nuse lookout::t;\n"),
            (
                "cli.rs",
                "use lookout::d::Detector;\nfn f() { crate::main_helper() }\n",
            ),
        ]);
        let graph = file_graph(&f, &["lib.rs", "main.rs"], BareChildren::Ignore);
        assert_eq!(edges(&graph, "t.rs"), ["d/decode/yolo.rs", "d/mod.rs"]);
        assert_eq!(edges(&graph, "t/tests.rs"), ["d/mod.rs"]);
        assert_eq!(edges(&graph, "main.rs"), Vec::<String>::new());
        assert_eq!(edges(&graph, "cli.rs"), ["main.rs"]);
        assert_eq!(unreached(&f, &["lib.rs", "main.rs"]), Vec::<String>::new());
        assert_eq!(unreached(&f, &["lib.rs"]), ["cli.rs", "main.rs"]);
    }
}
