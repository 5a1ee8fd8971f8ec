//! The shape of the code, as STYLE.md sets it: a `cmd` module imports only downward (never
//! another `cmd` module), and no module imports a module that imports it back, directly or
//! through others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module → the crate modules its code (not its comments or tests) names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().with_extension("");
        let rel = rel.to_string_lossy().replace("/mod", "").replace('/', "::");
        if rel == "main" {
            continue;
        }
        // `shell::posix` and friends are one module with `shell`; each `cmd` file is its own.
        let name = match rel.split_once("::") {
            Some(("shell", _)) => "shell".to_string(),
            _ => rel.clone(),
        };
        let text = std::fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let deps = g.entry(name.clone()).or_default();
        for line in code.lines() {
            let line = line.split("//").next().unwrap();
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + 7..];
                let mut names: Vec<String> = Vec::new();
                if let Some(inner) = rest.strip_prefix('{') {
                    let inner = inner.split('}').next().unwrap();
                    names.extend(
                        inner
                            .split(',')
                            .map(|s| s.trim().split("::").next().unwrap().to_string()),
                    );
                } else {
                    let word: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    let mut parts = word.split("::");
                    let first = parts.next().unwrap_or("").to_string();
                    match (first.as_str(), parts.next()) {
                        ("cmd", Some(sub)) if !sub.is_empty() => names.push(format!("cmd::{sub}")),
                        // Macros exported at the root live in `messages`.
                        ("debug" | "warn", _) => names.push("messages".into()),
                        _ => names.push(first),
                    }
                }
                for n in names {
                    if !n.is_empty()
                        && n != "self"
                        && n != name
                        && !(name == "shell" && n == "shell")
                    {
                        deps.insert(n);
                    }
                }
            }
        }
    }
    g
}

#[test]
fn cmd_modules_import_no_other_cmd_module() {
    for (m, deps) in graph() {
        if m.starts_with("cmd::") {
            let cmds: Vec<&String> = deps.iter().filter(|d| d.starts_with("cmd")).collect();
            assert!(cmds.is_empty(), "{m} imports {cmds:?}");
        }
    }
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let g = graph();
    assert!(g.len() > 20, "{} modules found", g.len());
    // Depth-first search for a cycle.
    fn visit<'a>(
        g: &'a BTreeMap<String, BTreeSet<String>>,
        m: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(at) = path.iter().position(|p| *p == m) {
            panic!("import cycle: {}", [&path[at..], &[m]].concat().join(" → "));
        }
        if done.contains(m) {
            return;
        }
        path.push(m);
        for d in g.get(m).into_iter().flatten() {
            if g.contains_key(d.as_str()) {
                visit(g, d, path, done);
            }
        }
        path.pop();
        done.insert(m);
    }
    let mut done = BTreeSet::new();
    for m in g.keys() {
        visit(&g, m, &mut Vec::new(), &mut done);
    }
}
