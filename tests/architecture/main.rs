//! The module graph of `src/` has no cycle: a module never imports one that imports it back
//! (DESIGN.md: cli/daemon → config and pipeline → track/publish → detect/source → metrics/error).
//! Every `crate::<module>` path in a file counts, in `use` lines and inline alike.
//!
//! Within a module too, files import each other one way: the file → file graph of the library
//! (`src/lib.rs`'s tree) and of the binary (`src/main.rs`'s, where `lookout::` is the library) has
//! no cycle either (`file_graph.rs` says what counts as an import).

mod file_graph;
mod scan;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level module → the top-level modules its files name through `crate::`.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(src) {
        let rel = file.strip_prefix(src).expect("under src");
        let first = rel.components().next().expect("a path");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" || module == "main" {
            continue; // the crate root re-exports; the binary is another crate
        }
        let text = std::fs::read_to_string(&file).expect("readable source");
        let deps = graph.entry(module.clone()).or_default();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                // `crate::{a, b}` names several modules at once.
                let names: Vec<String> = if let Some(inner) = rest.strip_prefix('{') {
                    let group = inner.split('}').next().unwrap_or("");
                    group
                        .split(',')
                        .filter_map(|p| p.trim().split("::").next().map(str::to_string))
                        .filter(|p| !p.is_empty())
                        .collect()
                } else {
                    vec![name]
                };
                for n in names {
                    if n != module && n != "Error" && n != "Result" && !n.is_empty() {
                        deps.insert(n);
                    }
                }
            }
        }
    }
    graph
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("src readable").flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

/// A cycle through `start`, as module names, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start.to_string());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut p = path.clone();
                p.push(next.clone());
                stack.push((next.clone(), p));
            }
        }
    }
    None
}

#[test]
fn src_modules_import_each_other_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = module_graph(&src);
    assert!(graph.len() > 5, "found the modules: {graph:?}");
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_from(&graph, m))
        .map(|c| c.join(" → "))
        .collect();
    assert!(
        cycles.is_empty(),
        "import cycles among src/ modules:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(dir.path().join("a")).expect("mkdir");
    std::fs::write(dir.path().join("a/mod.rs"), "use crate::b::X;\n").expect("write");
    std::fs::write(dir.path().join("b.rs"), "fn f() { crate::{c::Y, z}; }\n").expect("write");
    std::fs::write(
        dir.path().join("c.rs"),
        "// crate::b in a comment\nuse crate::a::Z;\n",
    )
    .expect("write");
    let graph = module_graph(dir.path());
    assert_eq!(
        cycle_from(&graph, "a"),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(graph["b"], ["c".to_string(), "z".to_string()].into());
}

/// Every `.rs` file under `src`, by its path relative to it, `/`-separated.
fn sources(src: &Path) -> BTreeMap<String, String> {
    rust_files(src)
        .into_iter()
        .map(|file| {
            let rel = file.strip_prefix(src).expect("under src");
            let key = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let text = std::fs::read_to_string(&file).expect("readable source");
            (key, text)
        })
        .collect()
}

#[test]
fn src_files_import_each_other_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = sources(&src);
    let roots = ["lib.rs", "main.rs"];
    // A file the module tree misses would escape the check.
    assert_eq!(
        file_graph::unreached(&files, &roots),
        Vec::<String>::new(),
        "files no `mod` line reaches"
    );
    // `pub use child::X` in a mod.rs whose children use its items is still common (admin,
    // metrics, source, track, pipeline, daemon, cli): counted once those items live elsewhere.
    let graph = file_graph::file_graph(&files, &roots, file_graph::BareChildren::Ignore);
    assert!(
        graph
            .get("publish/publisher.rs")
            .is_some_and(|deps| deps.contains("publish/client.rs")),
        "the graph has the imports: {graph:?}"
    );
    let cycles: Vec<String> = file_graph::cycles(&graph)
        .into_iter()
        .map(|c| {
            let prefixed =
                |f: &Vec<String>| f.iter().map(|f| format!("src/{f}")).collect::<Vec<_>>();
            (prefixed(&c.files), prefixed(&c.circle))
        })
        .map(|(files, circle)| format!("{} (files: {})", circle.join(" → "), files.join(", ")))
        .collect();
    assert!(
        cycles.is_empty(),
        "import cycles among src/ files:\n{}",
        cycles.join("\n")
    );
}
