//! Builds the web UI (`examples/web`) with npm so that
//! `cargo run --release --bin chatcore-server` serves it on a fresh clone.
//!
//! The UI is built into `examples/web/dist`, which the server serves at `/`
//! unless `CHATCORE_WEB_DIR` says otherwise. The build runs only when the
//! UI's sources change. Without npm, or when the npm build fails, the Rust
//! build still succeeds with a warning and the server runs without the UI.
//! `CHATCORE_SKIP_WEB_BUILD=1` turns this off (CI builds the UI itself).

use std::path::Path;
use std::process::Command;

fn main() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    for input in [
        "src",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
        "tsconfig.app.json",
        "tsconfig.node.json",
    ] {
        println!("cargo:rerun-if-changed=web/{input}");
    }
    println!("cargo:rerun-if-env-changed=CHATCORE_SKIP_WEB_BUILD");
    if std::env::var_os("CHATCORE_SKIP_WEB_BUILD").is_some_and(|v| v != "0") {
        return;
    }
    if !web.join("package.json").exists() {
        return;
    }
    let npm_works = Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !npm_works {
        println!(
            "cargo:warning=npm not found: the web UI is not built (install Node.js 20+, or set CHATCORE_WEB_DIR)"
        );
        return;
    }
    if !web.join("node_modules").exists() && !run(&web, &["ci", "--no-audit", "--no-fund"]) {
        return;
    }
    run(&web, &["run", "build"]);
}

/// Runs npm in `dir`; on failure prints the tail of its output as a warning.
fn run(dir: &Path, args: &[&str]) -> bool {
    match Command::new("npm").args(args).current_dir(dir).output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            println!(
                "cargo:warning=`npm {}` failed; the web UI is not built",
                args.join(" ")
            );
            for line in text
                .lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
            {
                println!("cargo:warning=  {line}");
            }
            false
        }
        Err(error) => {
            println!("cargo:warning=could not run npm: {error}");
            false
        }
    }
}
