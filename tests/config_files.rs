//! Config fixtures through the real loader: every valid file loads, every invalid file fails
//! with the location and message its first line promises (`# error: LINE:COL: text`).

use std::path::{Path, PathBuf};

use opsdeck::config;

const CONTEXTS: [&str; 3] = ["local", "staging", "production"];

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs").join(kind);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// Loads like the console does: parse, validate, then check contexts against a kubeconfig.
fn load(path: &Path) -> Result<config::Config, String> {
    let text = std::fs::read_to_string(path).expect("read fixture");
    let parsed = config::parse(path, &text).map_err(|e| e.to_string())?;
    let known: Vec<String> = CONTEXTS.iter().map(|s| (*s).to_owned()).collect();
    let errors = config::check_contexts(&parsed, path, &text, &known);
    if errors.is_empty() { Ok(parsed) } else { Err(errors.to_string()) }
}

#[test]
fn valid_configs_load() {
    let mut files = fixtures("valid");
    files.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/opsdeck.example.toml"));
    for path in files {
        if let Err(e) = load(&path) {
            panic!("{} should load:\n{e}", path.display());
        }
    }
}

#[test]
fn invalid_configs_say_where_and_what() {
    for path in fixtures("invalid") {
        let text = std::fs::read_to_string(&path).expect("read");
        let expected = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# error: "))
            .unwrap_or_else(|| panic!("{} lacks a `# error:` first line", path.display()));
        let Err(message) = load(&path) else { panic!("{} should fail to load", path.display()) };
        // "LINE:COL: text" promises a location; plain "text" promises the message only.
        let mut parts = expected.splitn(3, ':');
        let located = match (parts.next(), parts.next(), parts.next()) {
            (Some(line), Some(col), Some(rest))
                if line.parse::<usize>().is_ok() && col.parse::<usize>().is_ok() =>
            {
                Some((format!("{}:{line}:{col}:", path.display()), rest.trim()))
            }
            _ => None,
        };
        match located {
            Some((prefix, rest)) => {
                assert!(
                    message.starts_with(&prefix),
                    "{}: expected {prefix}, got:\n{message}",
                    path.display()
                );
                assert!(message.contains(rest), "{}: expected {rest:?} in:\n{message}", path.display());
            }
            None => assert!(
                message.starts_with(&path.display().to_string()) && message.contains(expected),
                "{}: expected {expected:?} in:\n{message}",
                path.display()
            ),
        }
        assert!(!message.contains('\n'), "{}: one problem, one line:\n{message}", path.display());
    }
}

#[test]
fn every_problem_in_a_file_is_reported() {
    let text = "[[environments]]\nname = \"a b\"\ncontext = \"x\"\ncolor = \"crimson\"\n\n[[environments]]\nname = \"a b\"\ncontext = \"y\"\n";
    let errors = config::parse(Path::new("many.toml"), text).expect_err("invalid");
    let lines: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(lines[0].starts_with("many.toml:2:8: environment name \"a b\""));
    assert!(lines[1].starts_with("many.toml:4:9: environment \"a b\": color"));
    assert!(lines[3].starts_with("many.toml:7:8: duplicate environment name"));
}
