//! The command-line contract, through the built binary.

use std::path::Path;
use std::process::{Command, Output};

fn opsdeck(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("KUBECONFIG")
        .env_remove("OPSDECK_CONFIG")
        .output()
        .expect("run opsdeck")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: \"https://127.0.0.1:1\"}
users:
- name: u
  user: {token: t}
contexts:
- name: local
  context: {cluster: c, user: u}
- name: prod-eu
  context: {cluster: c, user: u, namespace: shop}
current-context: local
";

#[test]
fn help_lists_every_subcommand_of_the_contract() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = opsdeck(&["--help"], home.path());
    assert!(out.status.success());
    let help = stdout(&out);
    for sub in [
        "demo",
        "status",
        "history",
        "canary",
        "restart",
        "pause",
        "resume",
        "rollback",
        "checklist",
        "audit",
        "init",
        "completions",
    ] {
        assert!(help.contains(&format!("\n  {sub} ")), "--help lacks {sub}:\n{help}");
    }
    let canary = stdout(&opsdeck(&["canary", "--help"], home.path()));
    for sub in ["status", "step", "back", "set", "abort", "promote"] {
        assert!(canary.contains(&format!("\n  {sub} ")), "canary --help lacks {sub}:\n{canary}");
    }
}

#[test]
fn malformed_config_prints_its_location_and_exits_2() {
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("bad.toml");
    std::fs::write(
        &config,
        "[[environments]]\nname = \"production\"\ncontext = \"production\"\nprotection = \"strict\"\n",
    )
    .expect("write");
    let out = opsdeck(&["--config", config.to_str().expect("utf8")], home.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.toml:4:14: unknown variant `strict`"), "{err}");
}

#[test]
fn missing_default_config_says_what_to_do() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = opsdeck(&[], home.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("run `opsdeck init`"), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = opsdeck(&["canary", "set", "150", "--env", "e", "--app", "a"], home.path());
    assert_eq!(out.status.code(), Some(2));
    let out = opsdeck(&["canary", "abort"], home.path());
    assert_eq!(out.status.code(), Some(2), "abort needs --all or --env and --app");
}

#[test]
fn init_writes_a_loadable_config_and_never_overwrites_without_force() {
    let home = tempfile::tempdir().expect("tempdir");
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(&kubeconfig, KUBECONFIG).expect("write");
    let kc = kubeconfig.to_str().expect("utf8");
    let out = opsdeck(&["--kubeconfig", kc, "init"], home.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let path = home.path().join("config/opsdeck/opsdeck.toml");
    let written = std::fs::read_to_string(&path).expect("config written");
    assert!(
        written.contains("context = \"prod-eu\"") && written.contains("protection = \"typed\""),
        "{written}"
    );
    assert!(written.contains("namespaces = [\"shop\"]"), "{written}");

    std::fs::write(&path, "# mine\n").expect("edit");
    let out = opsdeck(&["--kubeconfig", kc, "init"], home.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "# mine\n", "an existing file is untouched");

    let out = opsdeck(&["--kubeconfig", kc, "init", "--force"], home.path());
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&path).expect("read"), written);
}

#[test]
fn completions_are_generated() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = opsdeck(&["completions", "bash"], home.path());
    assert!(out.status.success());
    assert!(stdout(&out).contains("rollback"));
}
