//! A core runs ahead of the clock up to its next shared access and posts a TCDM access
//! dated in a later cycle at once. When the run ends before that cycle (the cycle limit
//! here, a stop by another core in general), the stats must show what a core that had not
//! got there yet shows: whatever the run-ahead quantum, and wherever the run is cut.

use std::path::Path;

use serde_json::Value;

fn run(max_cycles: u64, quantum: u64) -> Value {
    let elf = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware/prebuilt/matmul_int.elf");
    let yaml = format!(
        "program:\n  elf: {}\n  core_params: {{quantum: {quantum}}}\n",
        Value::String(elf.display().to_string())
    );
    let reg = redmule_vp::builtin_registry();
    let l = redmule_vp::Loaded::from_str(&yaml, "cut.yaml", Path::new(".")).unwrap();
    let o = redmule_vp::Overrides {
        max_cycles: Some(max_cycles),
        ..Default::default()
    };
    let p = redmule_vp::Platform::build(&l, &reg, &o).unwrap();
    let out = p.run();
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
            for f in [
                "stall_cycles",
                "sleep_cycles",
                "loads",
                "stores",
                "tcdm_accesses",
                "bus_accesses",
            ] {
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
