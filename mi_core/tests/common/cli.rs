//! Running the `mi` binary from a test.

use std::process::Command;

/// Runs `mi` with `args`: (exit code, stdout, stderr).
pub fn mi(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mi"))
        .args(args)
        .output()
        .expect("run mi");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `mi` expecting exit code 1, `needle` in one clean stderr line, nothing on stdout.
pub fn fail(args: &[&str], needle: &str) {
    let (code, out, err) = mi(args);
    assert_eq!(code, 1, "args {args:?}: stdout {out} stderr {err}");
    assert!(err.contains(needle), "args {args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(out.is_empty(), "args {args:?}: stdout {out}");
}
