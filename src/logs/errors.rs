//! Which log lines are errors: a level of `ERROR` or `FATAL` (bare, or `level=error` and
//! `"level":"error"` in structured logs), a Go `panic`, and in access-log lines an HTTP 5xx
//! status — the checklist's "no errors in pod logs" and the rollback tree's error rate read
//! the same way. Configurable: other patterns are added to these.

use regex::Regex;

/// The defaults: the levels and 5xx statuses most services and ingress controllers write.
const DEFAULTS: [&str; 3] = [
    // A level, bare or structured.
    r#"(?i:\blevel["']?\s*[=:]\s*["']?(error|fatal|critical)\b)|\b(ERROR|FATAL|CRITICAL)\b"#,
    // A Go panic, as the runtime prints it.
    r"^panic:|\bpanic\(|goroutine \d+ \[running\]",
    // An HTTP 5xx: after a common-log-format request line, or as a status field.
    r#""[A-Z]+ [^"]* HTTP/[0-9.]+" 5\d\d\b|\bstatus["']?\s*[=:]\s*["']?5\d\d\b"#,
];

#[derive(Debug, Clone)]
pub struct ErrorPatterns {
    patterns: Vec<Regex>,
}

impl ErrorPatterns {
    /// The defaults and `extra` (regular expressions, as the config or `--grep` gives them);
    /// `Err` names the pattern that does not compile and why.
    pub fn new(extra: &[String]) -> Result<Self, String> {
        let patterns = DEFAULTS
            .iter()
            .map(|p| (*p).to_owned())
            .chain(extra.iter().cloned())
            .map(|p| Regex::new(&p).map_err(|e| format!("log error pattern {p:?}: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    pub fn is_error(&self, line: &str) -> bool {
        self.patterns.iter().any(|p| p.is_match(line))
    }
}

impl Default for ErrorPatterns {
    fn default() -> Self {
        Self::new(&[]).unwrap_or(Self { patterns: Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_panics_and_5xx_access_lines_are_errors_and_nothing_else_is() {
        let p = ErrorPatterns::default();
        for error in [
            "2026/12/03 10:00:00 ERROR payment declined upstream",
            r#"{"level":"error","msg":"db timeout"}"#,
            "level=fatal msg=\"cannot bind\"",
            "panic: runtime error: invalid memory address",
            r#"10.0.0.7 - - [03/Dec/2026:10:00:00 +0000] "GET /cart HTTP/1.1" 503 12 "-" "curl""#,
            "method=POST path=/pay status=500 duration=12ms",
        ] {
            assert!(p.is_error(error), "{error}");
        }
        for fine in [
            r#"10.0.0.7 - - [03/Dec/2026:10:00:00 +0000] "GET /cart HTTP/1.1" 200 512 "-" "curl""#,
            "level=info msg=\"errors so far: 0\"",
            "retrying after an error budget check",
            "GET /items/500 took 12ms status=200",
        ] {
            assert!(!p.is_error(fine), "{fine}");
        }
    }

    #[test]
    fn extra_patterns_are_added_and_a_broken_one_is_named() {
        let p = ErrorPatterns::new(&["OutOfMemory".into()]).expect("compiles");
        assert!(p.is_error("java.lang.OutOfMemoryError: heap"));
        let broken = ErrorPatterns::new(&["(unclosed".into()]).expect_err("does not compile");
        assert!(broken.contains("\"(unclosed\""), "{broken}");
    }
}
