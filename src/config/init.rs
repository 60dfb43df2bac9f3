//! `opsdeck init`: a starter config written from the kubeconfig's contexts.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// One kubeconfig context, as `init` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarterEnvironment {
    pub context: String,
    pub namespace: Option<String>,
}

/// Protection guessed from the context name: production-looking contexts get the typed
/// confirmation, staging-looking ones a y/n, everything else none. The operator reviews it.
fn guess_protection(context: &str) -> &'static str {
    let lower = context.to_lowercase();
    if lower.contains("prod") || lower.contains("prd") || lower.contains("live") {
        "typed"
    } else if lower.contains("stag") || lower.contains("stg") || lower.contains("preprod") {
        "confirm"
    } else {
        "none"
    }
}

/// Environment names must not contain `/` or spaces; contexts (EKS ARNs) often do.
fn environment_name(context: &str) -> String {
    let tail = context.rsplit('/').next().unwrap_or(context);
    let name: String = tail.chars().map(|c| if c.is_whitespace() || c == ':' { '-' } else { c }).collect();
    if name.is_empty() { "env".to_owned() } else { name }
}

/// The text of a starter config, valid as written.
pub fn starter_config(contexts: &[StarterEnvironment]) -> String {
    let mut out = String::from(
        "# opsdeck config, written by `opsdeck init` from your kubeconfig's contexts.\n\
         # Review every environment's protection, then add your apps.\n\
         # Every field is documented in config/opsdeck.example.toml in the opsdeck repository.\n",
    );
    let mut used = Vec::new();
    for ctx in contexts {
        let mut name = environment_name(&ctx.context);
        let base = name.clone();
        let mut n = 2;
        while used.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        used.push(name.clone());
        let namespace = ctx.namespace.as_deref().unwrap_or("default");
        let _ = write!(
            out,
            "\n[[environments]]\nname = {}\ncontext = {}\nnamespaces = [{}]\nprotection = \"{}\"\n",
            quote(&name),
            quote(&ctx.context),
            quote(namespace),
            guess_protection(&ctx.context),
        );
    }
    out.push_str("\n# [[apps]]\n# name = \"web\"\n# deployment = \"web\"\n# labels = { app = \"web\" }\n");
    out
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Writes `text` to `path` through a temporary file and a rename, so an interrupted write
/// never leaves half a file; refuses to replace an existing file unless `force`.
pub fn write_new_file(path: &Path, text: &str, force: bool) -> std::io::Result<()> {
    if path.exists() && !force {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} already exists; pass --force to overwrite it", path.display()),
        ));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("opsdeck"),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Protection;

    #[test]
    fn starter_config_is_valid_and_guesses_protection() {
        let text = starter_config(&[
            StarterEnvironment { context: "kind-local".into(), namespace: None },
            StarterEnvironment { context: "staging".into(), namespace: Some("shop".into()) },
            StarterEnvironment { context: "arn:aws:eks:eu-west-1:1:cluster/prod".into(), namespace: None },
        ]);
        let config = crate::config::parse(Path::new("init.toml"), &text).expect("starter config parses");
        let got: Vec<_> = config
            .environments
            .iter()
            .map(|e| (e.name().to_owned(), e.context().to_owned(), e.protection))
            .collect();
        assert_eq!(
            got,
            vec![
                ("kind-local".into(), "kind-local".into(), Protection::None),
                ("staging".into(), "staging".into(), Protection::Confirm),
                ("prod".into(), "arn:aws:eks:eu-west-1:1:cluster/prod".into(), Protection::Typed),
            ]
        );
        assert_eq!(config.environments[1].namespaces, vec!["shop".to_owned()]);
    }

    #[test]
    fn never_overwrites_without_force() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("opsdeck.toml");
        write_new_file(&path, "first", false).expect("first write");
        let err = write_new_file(&path, "second", false).expect_err("refused");
        assert!(err.to_string().contains("--force"));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "first");
        write_new_file(&path, "third", true).expect("forced");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "third");
    }
}
