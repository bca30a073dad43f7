//! The runtime's modules form layers: no module reaches, through `crate::…`
//! paths in its non-test code, a module that reaches it back. Traits sit at
//! the bottom (`tangent`, `check`), then the scalar rules (`arith`, `float`,
//! `dual`, `activation`), the array types and their rules, and `rules` (what
//! generated code calls) on top.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Module name → the crate modules its non-test code names.
fn graph() -> BTreeMap<String, Vec<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(&src).expect("src/") {
        let path = entry.expect("an entry of src/").path();
        let name = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned);
        let Some(name) = name else { continue };
        if path.is_dir() {
            let module = path.join("mod.rs");
            if module.exists() {
                files.insert(name, fs::read_to_string(module).expect("mod.rs"));
            }
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" {
            files.insert(name, fs::read_to_string(&path).expect("a module"));
        }
    }
    let names: Vec<String> = files.keys().cloned().collect();
    files
        .into_iter()
        .map(|(name, text)| {
            let mut deps = Vec::new();
            for line in text.lines() {
                let line = line.trim();
                if line.starts_with("#[cfg(test)]") {
                    break; // tests may use anything
                }
                if line.starts_with("//") {
                    continue;
                }
                for (at, _) in line.match_indices("crate::") {
                    let rest = &line[at + "crate::".len()..];
                    let end = rest
                        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    let dep = &rest[..end];
                    if dep != name
                        && names.iter().any(|n| n == dep)
                        && !deps.iter().any(|d| d == dep)
                    {
                        deps.push(dep.to_owned());
                    }
                }
            }
            (name, deps)
        })
        .collect()
}

/// A cycle through `start`, if there is one.
fn cycle_from(
    graph: &BTreeMap<String, Vec<String>>,
    start: &str,
    path: &mut Vec<String>,
) -> Option<Vec<String>> {
    let here = path.last().cloned().unwrap_or_else(|| start.to_owned());
    for next in &graph[&here] {
        if next == start {
            let mut cycle = path.clone();
            cycle.push(start.to_owned());
            return Some(cycle);
        }
        if !path.contains(next) && next.as_str() > start {
            path.push(next.clone());
            if let Some(c) = cycle_from(graph, start, path) {
                return Some(c);
            }
            path.pop();
        }
    }
    None
}

#[test]
fn test_runtime_modules_have_no_import_cycle() {
    let graph = graph();
    assert!(
        graph.contains_key("rules") && graph.contains_key("activation"),
        "the module scan found {:?}",
        graph.keys().collect::<Vec<_>>()
    );
    for start in graph.keys() {
        let mut path = vec![start.clone()];
        if let Some(cycle) = cycle_from(&graph, start, &mut path) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn test_the_cycle_finder_finds_a_cycle() {
    let graph: BTreeMap<String, Vec<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a", "d"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    let mut path = vec!["a".to_owned()];
    assert_eq!(
        cycle_from(&graph, "a", &mut path),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let mut path = vec!["d".to_owned()];
    assert_eq!(cycle_from(&graph, "d", &mut path), None);
}
