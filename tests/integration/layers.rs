//! The module map of `src/`: which top-level module may use which. Arrows point one way
//! (down this list), so the list has no cycle, and every `crate::X` path in a module's code
//! must be to a module it is allowed to use. A new top-level module, or a new arrow, is a
//! line to add here, said in review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::util::repo_root;

/// Top-level modules, lowest first, each with the modules it may use.
const ALLOWED: &[(&str, &[&str])] = &[
    ("exit", &[]),
    ("files", &[]),
    ("conversation", &[]),
    ("cli", &["exit"]),
    ("config", &["files", "conversation"]),
    ("redact", &["config"]),
    ("output", &["exit", "redact"]),
    ("logging", &["files", "redact"]),
    ("provider", &["config", "conversation", "files", "redact"]),
    ("eval", &["config", "conversation", "files", "redact"]),
    (
        "router",
        &[
            "config",
            "conversation",
            "eval",
            "files",
            "output",
            "provider",
            "redact",
        ],
    ),
    (
        "session",
        &["config", "conversation", "files", "provider", "router"],
    ),
    (
        "gateway",
        &[
            "config",
            "conversation",
            "files",
            "provider",
            "redact",
            "router",
            "session",
        ],
    ),
    (
        "tui",
        &[
            "config",
            "conversation",
            "exit",
            "files",
            "output",
            "provider",
            "redact",
            "router",
            "session",
        ],
    ),
    (
        "commands",
        &[
            "cli",
            "config",
            "conversation",
            "eval",
            "exit",
            "files",
            "gateway",
            "logging",
            "output",
            "provider",
            "redact",
            "router",
            "session",
            "tui",
        ],
    ),
];

/// The top-level modules named by `crate::NAME` in `code`, comments left out.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let before = rest[..i].chars().last();
            rest = &rest[i + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // `aiw_crate::` and the like
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// For each top-level module of `src/`: the modules its code uses.
fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo_root().join("src");
    let mut map = BTreeMap::new();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        if name == "lib" || name == "main" {
            continue;
        }
        let mut files = Vec::new();
        if p.is_dir() {
            rust_files(&p, &mut files);
        } else {
            files.push(p.clone());
        }
        let used: &mut BTreeSet<String> = map.entry(name.clone()).or_default();
        for f in files {
            used.extend(crate_paths(&std::fs::read_to_string(&f).unwrap()));
        }
        used.remove(&name);
    }
    map
}

#[test]
fn every_module_uses_only_the_modules_below_it() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, used) in uses() {
        let Some(ok) = allowed.get(module.as_str()) else {
            wrong.push(format!(
                "src/{module} is not in the module map: add it to ALLOWED in tests/integration/layers.rs"
            ));
            continue;
        };
        for u in used {
            if !ok.contains(&u.as_str()) {
                wrong.push(format!("src/{module} uses crate::{u}, which it may not"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_module_map_points_one_way() {
    // Each module may only use modules listed before it: the map is its own topological order.
    let mut seen = BTreeSet::new();
    for (module, deps) in ALLOWED {
        for d in *deps {
            assert!(
                seen.contains(d),
                "{module} may use {d}, which is not below it in ALLOWED"
            );
        }
        assert!(seen.insert(*module), "{module} is listed twice");
    }
}

#[test]
fn the_scanner_finds_paths_and_ignores_comments() {
    let code = "use crate::config::Secret;\n\
                let x = crate::router::fleet::f(); // crate::tui in a comment\n\
                /// [`Auth`](crate::gateway::X)\n\
                use aiw_crate::nothing;\n";
    let found: Vec<String> = crate_paths(code).into_iter().collect();
    assert_eq!(found, ["config", "router"]);
}
