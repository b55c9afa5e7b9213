//! A core runs ahead of the clock up to its next shared access and posts a TCDM access
//! dated in a later cycle at once. When the run ends before that cycle (the cycle limit
//! here, a stop by another core in general), the stats must show what a core that had not
//! got there yet shows: whatever the run-ahead quantum, and wherever the run is cut.

mod common;

use std::path::Path;

use common::{run_program, vp, SHARED_CORE_FIELDS};
use serde_json::Value;

fn run(max_cycles: u64, quantum: u64) -> Value {
    let elf = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware/prebuilt/matmul_int.elf");
    let out = run_program(&elf, &format!("quantum: {quantum}"), Some(max_cycles));
    assert_eq!(out.report.end, vp_kernel::RunEnd::Limit);
    out.stats
}

#[test]
fn a_run_cut_by_the_cycle_limit_counts_only_reached_accesses() {
    // Limits spread over the start-up (bss clear, stores) and the parallel phase (loads of
    // every core); a quantum of 1 cycle never posts ahead.
    let mut posted_ahead = 0;
    for max in (0..40).map(|k| 1000 + 997 * k) {
        let (a, b) = (run(max, 1), run(max, 10_000));
        assert_eq!(a["cycles"], b["cycles"], "limit {max}");
        for i in 0..8 {
            let k = format!("core{i}");
            for f in SHARED_CORE_FIELDS {
                assert_eq!(
                    a["components"][&k][f], b["components"][&k][f],
                    "limit {max}: {k}.{f}"
                );
            }
            let (sa, sb) = (&a["components"][&k]["state"], &b["components"][&k]["state"]);
            assert_eq!(sa, sb, "limit {max}: {k}.state");
            posted_ahead +=
                (a["components"][&k]["instructions"] != b["components"][&k]["instructions"]) as u32;
        }
        assert_eq!(
            a["components"]["interconnect"], b["components"]["interconnect"],
            "limit {max}"
        );
    }
    // The cuts do fall while cores have run ahead.
    assert!(posted_ahead > 0);
}

#[test]
fn a_run_cut_while_cores_ran_ahead_writes_no_slice_past_its_end() {
    // 3000 cycles at 613 MHz end at 4,893.96 ns. A core that posted a TCDM access dated
    // after that must not have closed its "running" slice at the access's cycle: every
    // slice on the core tracks ends by the end of the run.
    let dir = std::env::temp_dir().join(format!("redmule-vp-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("cut.json");
    let elf = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware/prebuilt/matmul_int.elf");
    let st = vp()
        .arg("run-elf")
        .arg(&elf)
        .args(["--max-cycles", "3000", "--trace"])
        .arg(&trace)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(3), "the cycle limit's exit code");
    let v: Value = serde_json::from_slice(&std::fs::read(&trace).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let end_us = 3000.0 / 613.0;
    let mut slices = 0;
    for e in v["traceEvents"].as_array().unwrap() {
        if e["ph"] == "X" {
            let t = e["ts"].as_f64().unwrap() + e["dur"].as_f64().unwrap();
            assert!(t <= end_us + 1e-9, "slice past the end ({end_us} us): {e}");
            slices += 1;
        }
    }
    assert!(slices > 100, "the cores' timeline is there");
}
