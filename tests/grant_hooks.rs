//! While other cores are busy, a core goes on from a TCDM grant inside the interconnect's
//! pass (its grant hook) instead of being ticked in the cycle after the grant. The run must
//! be the same either way: every prebuilt firmware, and runs cut by the cycle limit
//! anywhere (a grant collected inside the pass for a turn the run never reached is taken
//! back), give the same end and statistics with the core param `grant_hooks` on and off
//! (the cores' `alone_grants` counters aside: a core going on inside the pass posts the
//! accesses its tick might have granted alone; and in cut runs how far a core ran ahead of
//! the clock, as for the run-ahead quantum). With the hooks the kernel ticks less.

mod common;

use std::path::Path;

use common::{prebuilt_elfs, run_program, SHARED_CORE_FIELDS};

use serde_json::Value;

/// (end, kernel activations, stats without the cores' alone_grants) of a run of `elf`.
fn run(elf: &Path, hooks: bool, quantum: u64, max_cycles: Option<u64>) -> (String, u64, Value) {
    let params = format!("grant_hooks: {hooks}, quantum: {quantum}");
    let mut out = run_program(elf, &params, max_cycles);
    if let Some(Value::Object(m)) = out.stats.get_mut("components") {
        for (k, c) in m.iter_mut() {
            if let (true, Some(c)) = (k.starts_with("core"), c.as_object_mut()) {
                assert!(c.remove("alone_grants").is_some(), "{k} has alone_grants");
            }
        }
    }
    (
        format!("{:?}", out.report.end),
        out.report.activations,
        out.stats,
    )
}

#[test]
fn every_prebuilt_firmware_runs_the_same_with_and_without_grant_hooks() {
    for elf in prebuilt_elfs() {
        let name = elf.display().to_string();
        let (e1, a1, s1) = run(&elf, true, 10_000, None);
        let (e2, a2, s2) = run(&elf, false, 10_000, None);
        assert_eq!(e1, e2, "{name}: end");
        assert_eq!(s1, s2, "{name}: stats");
        assert!(a1 <= a2, "{name}: more ticks with the hooks ({a1} > {a2})");
        if name.ends_with("matmul_int.elf") {
            // Its parallel phase goes on inside the passes: far fewer ticks.
            assert!(
                a1 * 2 < a2,
                "{name}: {a1} ticks with the hooks, {a2} without"
            );
        }
    }
}

#[test]
fn runs_cut_by_the_cycle_limit_are_the_same_with_and_without_grant_hooks() {
    // Limits spread over matmul_int (the start-up with every core busy, core 0 alone, the
    // parallel phase), and runs of consecutive limits in the busy phases, so that some cut
    // falls between a grant collected inside the pass and the core's turn after it; a
    // short quantum stops the runs inside the pass often.
    let elf = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware/prebuilt/matmul_int.elf");
    let mut cases: Vec<(u64, u64)> = (0..16).map(|k| (1_000 + 12_007 * k, 10_000)).collect();
    cases.extend((4_000..4_016).map(|m| (m, 10_000)));
    cases.extend((100_000..100_024).map(|m| (m, 10_000)));
    cases.extend((120_000..120_012).map(|m| (m, 3)));
    for (max, quantum) in cases {
        let (e1, _, s1) = run(&elf, true, quantum, Some(max));
        let (e2, _, s2) = run(&elf, false, quantum, Some(max));
        assert_eq!(e1, "Limit", "limit {max}: the run ends at the limit");
        assert_eq!(e1, e2, "limit {max} quantum {quantum}: end");
        let (c1, c2) = (&s1["components"], &s2["components"]);
        for (k, v) in c1.as_object().unwrap() {
            if !k.starts_with("core") {
                assert_eq!(v, &c2[k], "limit {max} quantum {quantum}: {k}");
                continue;
            }
            for f in SHARED_CORE_FIELDS.iter().chain(&["state", "faults"]) {
                assert_eq!(v[f], c2[k][f], "limit {max} quantum {quantum}: {k}.{f}");
            }
        }
        assert_eq!(s1["cycles"], s2["cycles"], "limit {max}");
    }
}
