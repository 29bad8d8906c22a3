//! What the example-program tests share: finding the program they run.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The example program `name` next to this test's target directory.
///
/// A plain `cargo test` builds every example before it runs tests, so the binary is there and
/// current. When a test is run alone (`cargo test --test NAME`), cargo skips the examples; then
/// the binary is built here, with the same profile and target directory. Building it on every
/// run instead would make cargo re-resolve features for `sipline-examples` alone and recompile
/// dependencies in the middle of the test run.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile directory")
        .to_path_buf();
    let bin = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", "sipline-examples", "--example", name]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        if let Some(target_dir) = profile_dir.parent() {
            cmd.env("CARGO_TARGET_DIR", target_dir);
        }
        let status = cmd.status().expect("cargo runs");
        assert!(status.success(), "building the {name} example failed");
    }
    bin
}
