//! The instruction-cache model on the whole platform: off by default (every fetch hits, the
//! firmware suite's cycle counts stand), on when the scenario selects it
//! (`platform.icache_ctrl.model: hier`). firmware/examples/icache_cold times a 128-byte
//! function (8 lines of 16 bytes) with the IMISS and CYCLES performance counters.

mod common;

use std::path::{Path, PathBuf};

use common::{stats_json, vp};
use serde_json::Value;

fn root(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Run `args` with `--stats json`: (exit code, document, stderr).
fn run_json(args: &[&str]) -> (i32, Value, String) {
    stats_json(vp().args(args))
}

/// (name, imiss, cycles) of each `icache_cold:` line.
fn measurements(v: &Value) -> Vec<(String, u64, u64)> {
    v["components"]["stdout"]["lines"]
        .as_array()
        .expect("stdout lines")
        .iter()
        .filter_map(|l| {
            let l = l.as_str()?;
            let rest = l.split("icache_cold: ").nth(1)?;
            let w: Vec<&str> = rest.split_whitespace().collect();
            Some((w[0].to_string(), w[2].parse().ok()?, w[4].parse().ok()?))
        })
        .collect()
}

fn eoc(v: &Value) {
    assert_eq!(v["end"]["kind"], "stopped", "{}", v["end"]);
    assert_eq!(v["components"]["cluster_ctrl"]["eoc"], true);
}

#[test]
fn without_the_model_fetches_never_miss() {
    let elf = root("firmware/prebuilt/icache_cold.elf");
    let (code, v, err) = run_json(&["run-elf", elf.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    eoc(&v);
    let m = measurements(&v);
    let names: Vec<&str> = m.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(names, ["cold", "warm", "flush", "l1flush"]);
    // IMISS 0 everywhere, and the four calls cost the same.
    assert!(m.iter().all(|x| x.1 == 0), "{m:?}");
    assert!(m.iter().all(|x| x.2 == m[0].2), "{m:?}");
    assert_eq!(v["components"]["icache_ctrl"]["model"], "hit");
    assert!(v["components"]["core0"].get("fetch_stall_cycles").is_none());
}

#[test]
fn with_the_model_cold_code_stalls_by_the_rtl_latencies() {
    // A relative scenario path: the ELF resolves from the scenario's folder.
    let (code, v, err) = run_json(&["run", "scenarios/icache/icache_cold.yaml"]);
    assert_eq!(code, 0, "{err}");
    eoc(&v);
    let m = measurements(&v);
    let imiss: Vec<u64> = m.iter().map(|x| x.1).collect();
    // cold: 8 lines missing both levels, 6 + axi_latency_cycles 8 (the default) = 14 each:
    // 112. warm: private hits: 0. flush (FLUSH, both levels): 112 again.
    // l1flush (FLUSH_L1_ONLY): private misses that hit the shared cache, 2 each: 16.
    assert_eq!(imiss, [112, 0, 112, 16], "{m:?}");
    // The stalls are the whole difference in cycles.
    let warm = m[1].2;
    let extra: Vec<u64> = m.iter().map(|x| x.2 - warm).collect();
    assert_eq!(extra, [112, 0, 112, 16], "{m:?}");
    // The cache's accounts: every stall was handed to a core, by level.
    let ic = &v["components"]["icache_ctrl"];
    let stalls = ic["stall_cycles"].as_u64().unwrap();
    let by_core: u64 = (0..8)
        .map(|i| {
            v["components"][format!("core{i}")]["fetch_stall_cycles"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(stalls, by_core);
    let refills = ic["refills"].as_u64().unwrap();
    let shared = ic["shared_hits"].as_u64().unwrap();
    assert_eq!(stalls, 14 * refills + 2 * shared);
    assert_eq!(ic["flushes"], 3);
}

#[test]
fn the_model_is_deterministic_and_off_by_default() {
    let (c1, a, e1) = run_json(&["run", "scenarios/icache/matmul_int-cold.yaml"]);
    let (c2, b, e2) = run_json(&["run", "scenarios/icache/matmul_int-cold.yaml"]);
    assert_eq!((c1, c2), (0, 0), "{e1}{e2}");
    assert_eq!(a, b);
    // The same firmware with the model off: no fetch stall anywhere, and the checksum line
    // is the same.
    let elf = root("firmware/prebuilt/matmul_int.elf");
    let (c3, off, e3) = run_json(&["run-elf", elf.to_str().unwrap()]);
    assert_eq!(c3, 0, "{e3}");
    let line = |v: &Value| v["components"]["stdout"]["lines"][1].clone();
    assert_eq!(line(&a), line(&off));
    assert!(a["components"]["icache_ctrl"]["refills"].as_u64().unwrap() > 0);
    assert!(off["components"]["icache_ctrl"].get("refills").is_none());
}

#[test]
fn bad_icache_params_name_the_field() {
    let dir = std::env::temp_dir().join(format!("vp-icache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (params, field) in [
        ("{model: lru}", "model:"),
        ("{model: hier, private_bytes: 0}", "private_bytes:"),
        ("{model: hier, shared_bytes: 3000}", "shared_bytes:"),
        ("{model: hier, private_ways: 3}", "private_ways:"),
    ] {
        let f = dir.join("bad.yaml");
        std::fs::write(
            &f,
            format!("name: bad\nplatform:\n  icache_ctrl: {params}\n"),
        )
        .unwrap();
        let out = vp().arg("validate").arg(&f).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{params}: {err}");
        assert!(
            err.contains(&format!("platform.icache_ctrl: {field}")),
            "{params}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
