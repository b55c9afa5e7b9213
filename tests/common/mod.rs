//! Helpers shared by the whole-platform integration tests.
#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The `redmule-vp` binary, run from the repository root.
pub fn vp() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redmule-vp"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Every prebuilt firmware image (firmware/prebuilt/*.elf), sorted.
pub fn prebuilt_elfs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware/prebuilt");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "elf"))
        .collect();
    v.sort();
    assert!(v.len() >= 6, "the prebuilt firmware: {v:?}");
    v
}

/// Build the default cluster running `elf` on every core, with the cores' `core_params`
/// (a YAML flow mapping's entries, e.g. `quantum: 100`) and the cycle limit `max_cycles`,
/// and run it.
pub fn run_program(elf: &Path, core_params: &str, max_cycles: Option<u64>) -> redmule_vp::Outcome {
    let yaml = format!(
        "program:\n  elf: {}\n  core_params: {{{core_params}}}\n",
        Value::String(elf.display().to_string())
    );
    let reg = redmule_vp::builtin_registry();
    let l = redmule_vp::Loaded::from_str(&yaml, "program.yaml", Path::new(".")).unwrap();
    let o = redmule_vp::Overrides {
        max_cycles,
        ..Default::default()
    };
    redmule_vp::Platform::build(&l, &reg, &o).unwrap().run()
}

/// Run `cmd` with `--stats json` appended: (exit code, stats document, stderr).
pub fn stats_json(cmd: &mut Command) -> (i32, Value, String) {
    let out = cmd
        .args(["--stats", "json"])
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}); stderr: {stderr}"));
    (out.status.code().unwrap_or(-1), v, stderr)
}

/// A core's counters of what reached the memory system: the same however far the core ran
/// ahead of the clock (its instruction count and pc may differ when a run stops mid-quantum).
pub const SHARED_CORE_FIELDS: [&str; 6] = [
    "stall_cycles",
    "sleep_cycles",
    "loads",
    "stores",
    "tcdm_accesses",
    "bus_accesses",
];
