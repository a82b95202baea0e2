//! The shape of the crate: feature folders depend on each other in one
//! direction only (docs/architecture.md), and handlers build no queries.
//! Read from the source text, like a reviewer would.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

const FEATURES: &[&str] = &[
    "audit",
    "auth",
    "bookings",
    "calendar",
    "courses",
    "devices",
    "fees",
    "jobs",
    "messages",
    "organisations",
    "privacy",
    "reports",
    "residents",
    "schedule",
    "staff",
    "tickets",
    "venues",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its tests and comments.
fn code_of(path: &Path) -> String {
    let text = fs::read_to_string(path).expect("read file");
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn feature_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src");
        let Some(first) = rel.components().next() else {
            continue;
        };
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if !FEATURES.contains(&module.as_str()) {
            continue;
        }
        let code = code_of(&file);
        for other in FEATURES {
            let uses = ["::", ";", " as ", ",", "}"]
                .iter()
                .any(|end| code.contains(&format!("crate::{other}{end}")));
            if *other != module && uses {
                graph
                    .entry(module.clone())
                    .or_default()
                    .insert((*other).to_owned());
            }
        }
    }
    graph
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| n == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn feature_folders_have_no_import_cycles() {
    let graph = feature_graph();
    assert!(
        graph.contains_key("bookings"),
        "the graph was read: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "features import each other in a cycle: {}",
            cycle.join(" → ")
        );
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("a".into());
    assert!(find_cycle(&graph).is_some());
}

#[test]
fn handlers_build_no_queries() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            f.file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with("routes.rs"))
        })
        .filter(|f| {
            let code = code_of(f);
            code.contains("diesel::") || code.contains(".filter(")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "handlers with queries: {offenders:?}");
}
