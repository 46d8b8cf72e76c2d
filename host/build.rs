//! Builds the guest component for `wasm32-wasip2`, compiles it ahead of time
//! with wasmtime's Cranelift, and hands both paths to the host crate, which
//! embeds them with `include_bytes!`: a start loads machine code and never
//! runs a compiler, and the binary carries no compiler.
//!
//! The nested cargo uses its own target directory: sharing the outer one
//! deadlocks on cargo's build-directory lock.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "guest";

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().expect("host/ sits in the workspace").to_path_buf();
    for watched in ["guest/src", "guest/Cargo.toml", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=CODEX_AUTH_GUEST_WASM");

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // A prebuilt component may be supplied (e.g. to test a release artifact).
    let wasm = match env::var_os("CODEX_AUTH_GUEST_WASM") {
        Some(prebuilt) => PathBuf::from(prebuilt),
        None => build_guest(&root, &out_dir),
    };
    println!("cargo:rustc-env=CODEX_AUTH_GUEST_WASM={}", wasm.display());
    precompile(&wasm, &out_dir.join("codex_auth_guest.cwasm"));
}

/// Compiles the component for this machine, with the engine configuration
/// the runtime uses (`wasmtime::Config::new()`): the same wasmtime version and
/// settings make it loadable, which wasmtime checks when it loads it.
fn precompile(wasm: &Path, out: &Path) {
    let bytes = std::fs::read(wasm).unwrap_or_else(|e| panic!("reading {}: {e}", wasm.display()));
    let engine = wasmtime::Engine::new(&wasmtime::Config::new()).expect("a wasmtime engine");
    let compiled = engine.precompile_component(&bytes).expect("compiling the guest component ahead of time");
    std::fs::write(out, compiled).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
    println!("cargo:rustc-env=CODEX_AUTH_GUEST_CWASM={}", out.display());
}

fn build_guest(root: &Path, out_dir: &Path) -> PathBuf {
    let target_dir = env::var_os("CODEX_AUTH_GUEST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("guest"));
    ensure_target_installed();

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(root)
        .args(["build", "--locked", "-p", "codex-auth-guest", "--target", TARGET, "--profile", PROFILE])
        .arg("--target-dir")
        .arg(&target_dir)
        // The outer build's flags are for the host target, not wasm.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_MAKEFLAGS")
        .status()
        .expect("could not run cargo for the guest");
    assert!(status.success(), "building the guest component failed");

    let wasm = target_dir.join(TARGET).join(PROFILE).join("codex_auth_guest.wasm");
    let out = out_dir.join("codex_auth_guest.wasm");
    std::fs::copy(&wasm, &out).unwrap_or_else(|e| panic!("copying {}: {e}", wasm.display()));
    out
}

/// `rust-toolchain.toml` lists the target, but rustup installs listed
/// targets only when it installs the toolchain; add it to an existing one.
fn ensure_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc).args(["--print", "sysroot"]).output();
    let installed = sysroot.is_ok_and(|o| {
        let root = String::from_utf8_lossy(&o.stdout).trim().to_owned();
        Path::new(&root).join("lib/rustlib").join(TARGET).exists()
    });
    if !installed {
        let added = Command::new("rustup").args(["target", "add", TARGET]).status();
        if !added.is_ok_and(|s| s.success()) {
            println!(
                "cargo:warning=could not add the {TARGET} target with rustup; the guest build will say why"
            );
        }
    }
}
