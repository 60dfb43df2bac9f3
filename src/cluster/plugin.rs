//! Exec credential plugins (gcloud, aws, kubelogin) on a leash. kube runs a plugin as a plain
//! child and waits for it; one that hangs outlives the deadline opsdeck gives the connection,
//! and outlives opsdeck itself. So the kubeconfig's exec entries are routed through opsdeck's
//! own binary (`opsdeck exec-plugin`), which runs the plugin in a process group of its own,
//! passes its output through, and kills the whole group when the deadline passes or when the
//! opsdeck that asked for it is gone.

use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use kube::config::Kubeconfig;

/// The hidden subcommand the guard runs as.
pub const SUBCOMMAND: &str = "exec-plugin";

/// A plugin gets this long: a little under the connection's own credentials deadline, so the
/// plugin is gone by the time the connection gives up on it.
pub const DEADLINE: Duration = Duration::from_secs(19);

/// Routes every exec entry of `kubeconfig` through `guard` (opsdeck's binary). Only when
/// `guard` is opsdeck itself: a test binary or a library caller keeps kube's plain exec.
pub fn guard(kubeconfig: &mut Kubeconfig, guard: &std::path::Path) {
    let is_opsdeck = guard.file_stem().and_then(|s| s.to_str()) == Some("opsdeck");
    if !is_opsdeck {
        return;
    }
    for named in &mut kubeconfig.auth_infos {
        let Some(exec) = named.auth_info.as_mut().and_then(|a| a.exec.as_mut()) else { continue };
        let Some(command) = exec.command.take() else { continue };
        let mut args = vec![SUBCOMMAND.to_owned(), "--".to_owned(), command];
        args.extend(exec.args.take().unwrap_or_default());
        exec.command = Some(guard.display().to_string());
        exec.args = Some(args);
    }
}

/// `opsdeck exec-plugin -- COMMAND ARGS…`: runs the plugin in its own process group, with its
/// stdout and stderr those kube gave this process, and ends it — the whole group — at the
/// deadline or when the process that started this one exits.
pub fn run(command: &[String]) -> ExitCode {
    use std::os::unix::process::CommandExt as _;
    let Some((program, args)) = command.split_first() else {
        eprintln!("opsdeck exec-plugin: no plugin command given");
        return ExitCode::from(2);
    };
    let parent = std::os::unix::process::parent_id();
    let mut child = match Command::new(program).args(args).stdin(Stdio::null()).process_group(0).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("opsdeck exec-plugin: cannot run {program}: {e}");
            return ExitCode::from(1);
        }
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return ExitCode::from(u8::try_from(status.code().unwrap_or(1)).unwrap_or(1)),
            Ok(None) => {}
            Err(e) => {
                eprintln!("opsdeck exec-plugin: {e}");
                break;
            }
        }
        let orphaned = std::os::unix::process::parent_id() != parent;
        if started.elapsed() >= DEADLINE || orphaned {
            eprintln!(
                "opsdeck exec-plugin: {program} {}; stopping it and everything it started",
                if orphaned { "outlived opsdeck" } else { "did not answer in time" }
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // The group is the plugin and whatever it started; `kill` on `-PGID` reaches them all.
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    let _ = child.wait();
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_entries_go_through_opsdeck_and_others_are_left_alone() {
        let text = r"
apiVersion: v1
kind: Config
users:
- name: cloud
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: gke-gcloud-auth-plugin
      args: [--verbose]
- name: token
  user:
    token: abc
";
        let mut kubeconfig = Kubeconfig::from_yaml(text).expect("kubeconfig");
        guard(&mut kubeconfig, std::path::Path::new("/usr/local/bin/opsdeck"));
        let exec = kubeconfig.auth_infos[0].auth_info.as_ref().and_then(|a| a.exec.as_ref()).expect("exec");
        assert_eq!(exec.command.as_deref(), Some("/usr/local/bin/opsdeck"));
        assert_eq!(
            exec.args.as_deref(),
            Some(
                &["exec-plugin".to_owned(), "--".into(), "gke-gcloud-auth-plugin".into(), "--verbose".into()]
                    [..]
            )
        );
        assert!(kubeconfig.auth_infos[1].auth_info.as_ref().and_then(|a| a.token.as_ref()).is_some());
        let mut other = Kubeconfig::from_yaml(text).expect("kubeconfig");
        guard(&mut other, std::path::Path::new("/tmp/deps/faults-1234"));
        let exec = other.auth_infos[0].auth_info.as_ref().and_then(|a| a.exec.as_ref()).expect("exec");
        assert_eq!(exec.command.as_deref(), Some("gke-gcloud-auth-plugin"), "not opsdeck: unchanged");
    }
}
