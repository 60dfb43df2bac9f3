//! Turning kube errors into one line an operator can act on. The full error goes to the log.

use kube::config::KubeconfigError;

/// At most this many characters of a plugin's or server's own words are shown.
const MAX_DETAIL: usize = 160;

/// One line for the UI; never multi-line, never raw plugin output.
pub fn summarize(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() { "Error" } else { status.reason.as_str() };
            format!("{} {reason}: {}", status.code, first_line(&status.message))
        }
        kube::Error::Auth(auth) => credentials(auth),
        kube::Error::HyperError(e) => format!("cannot connect: {}", first_line(&root_cause(e))),
        kube::Error::Service(e) => {
            let cause = root_cause(e.as_ref());
            if cause.contains("elapsed") || cause.contains("timed out") || cause.contains("deadline") {
                "timed out waiting for the API server".to_owned()
            } else {
                format!("cannot connect: {}", first_line(&cause))
            }
        }
        other => first_line(&other.to_string()),
    }
}

/// A credential failure without the plugin's whole command line and environment, which kube
/// puts in its message (the log keeps it).
fn credentials(error: &kube::client::AuthError) -> String {
    use kube::client::AuthError;
    match error {
        AuthError::AuthExecStart(e) => {
            format!("credentials: the exec credential plugin could not start: {e}")
        }
        AuthError::AuthExecRun { .. } => format!(
            "credentials: the exec credential plugin failed or gave no answer within {}s (its output is in the log)",
            super::plugin::DEADLINE.as_secs()
        ),
        AuthError::AuthExecParse(_) => {
            "credentials: the exec credential plugin's answer is not an ExecCredential".to_owned()
        }
        other => format!("credentials: {}", first_line(&other.to_string())),
    }
}

pub fn summarize_kubeconfig(error: &KubeconfigError) -> String {
    first_line(&error.to_string())
}

/// The innermost cause, because hyper's top-level message ("client error (Connect)") hides
/// the useful part ("Connection refused").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = error;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    deepest.to_string()
}

fn first_line(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("unknown error");
    if line.chars().count() > MAX_DETAIL {
        let cut: String = line.chars().take(MAX_DETAIL).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_one_short_line() {
        let long = format!("first line {}\nsecond line", "x".repeat(400));
        let line = first_line(&long);
        assert!(!line.contains('\n'));
        assert!(line.ends_with('…'));
        assert!(line.chars().count() <= MAX_DETAIL + 1);
        assert_eq!(first_line("\n\n  boom  \nmore"), "boom");
    }
}
