//! RedMulE on the whole platform: the RTL calibration points, numerics against the exact
//! oracle for every op and format, the register protocol, and behaviour under contention.

use std::path::Path;

use redmule_vp::gemm::{scenario_yaml, GemmArgs};
use redmule_vp::{Loaded, Overrides, Platform};
use serde_json::Value;
use vp_kernel::RunEnd;

fn args(m: u32, n: u32, k: u32, op: &str, fmt: &str) -> GemmArgs {
    GemmArgs {
        m,
        n,
        k,
        op: op.into(),
        fmt: fmt.into(),
        x: None,
        w: None,
        y: None,
        z_out: None,
        deny_permille: 0,
        seed: 3,
        json: true,
    }
}

/// Run a scenario text; panics on build errors; returns (end, stats, finish errors).
fn run_yaml(yaml: &str) -> (RunEnd, Value, Vec<String>) {
    let reg = redmule_vp::builtin_registry();
    let l = Loaded::from_str(yaml, "test.yaml", Path::new("."))
        .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let p = Platform::build(&l, &reg, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    let out = p.run();
    (out.report.end, out.stats, out.finish_errors)
}

fn job(a: &GemmArgs) -> Value {
    let (end, stats, errs) = run_yaml(&scenario_yaml(a).unwrap());
    assert!(!end.is_failure(), "{end:?}");
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(stats["components"]["driver"]["mismatches"], 0);
    stats["components"]["redmule"]["jobs"][0].clone()
}

#[test]
fn calibration_points_are_exact() {
    // Measured on the RTL: cycles from the granted TRIGGER write to the completion event,
    // 288-bit reads and writes (reference section 7).
    for (m, n, k, cycles, reads, writes) in [
        (12, 16, 16, 170, 64, 12),
        (48, 48, 48, 2412, 1152, 144),
        (96, 96, 96, 18540, 8640, 576),
        (31, 32, 31, 875, 388, 72),
        (24, 17, 32, 442, 224, 48),
        (5, 32, 3, 215, 66, 12),
    ] {
        let j = job(&args(m, n, k, "gemm", "fp16"));
        assert_eq!(
            (
                j["cycles"].as_u64(),
                j["reads"].as_u64(),
                j["writes"].as_u64()
            ),
            (Some(cycles), Some(reads), Some(writes)),
            "{m}x{n}x{k}"
        );
    }
}

#[test]
fn paper_utilization_and_gflops_at_96_cubed() {
    let j = job(&args(96, 96, 96, "gemm", "fp16"));
    let u = j["utilization"].as_f64().unwrap();
    let g = j["gflops"].as_f64().unwrap();
    // 96^3 / (48 * 18540) = 0.99417; 2 * 96^3 * 613.1 MHz / 18540 = 58.5 GFLOPS.
    assert!((u - 0.9942).abs() < 0.0005, "{u}");
    assert!((g - 58.5).abs() < 0.1, "{g}");
}

#[test]
fn every_op_and_format_matches_the_oracle() {
    for fmt in ["fp16", "fp8", "fp8alt"] {
        for op in [
            "matmul", "gemm", "addmax", "addmin", "mulmax", "mulmin", "maxmin", "minmax",
        ] {
            // The driver checks every element against the exact oracle (mismatches = 0).
            let j = job(&args(13, 20, 17, op, fmt));
            assert!(j["cycles"].as_u64().unwrap() > 0, "{op} {fmt}");
        }
    }
}

#[test]
fn ops_and_fp8_take_the_cycles_of_fp16_gemm() {
    // Reference section 7: ops 1..7 and FP8 take the same cycles and accesses as FP16 GEMM.
    let base = job(&args(24, 17, 32, "gemm", "fp16"));
    for (op, fmt) in [
        ("addmax", "fp16"),
        ("minmax", "fp16"),
        ("gemm", "fp8"),
        ("gemm", "fp8alt"),
    ] {
        let j = job(&args(24, 17, 32, op, fmt));
        assert_eq!(j["cycles"], base["cycles"], "{op} {fmt}");
        assert_eq!(j["reads"], base["reads"], "{op} {fmt}");
    }
}

#[test]
fn random_shapes_are_numerically_exact() {
    let mut s: u64 = 12345;
    let mut next = |lim: u64| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        1 + (s >> 33) % lim
    };
    // N from 8 up: the RTL deadlocks on N <= 4 with more than one output tile (see
    // `rtl_deadlock_shapes_are_reported_not_hung`).
    for _ in 0..6 {
        let (m, n, k) = (next(40) as u32, 7 + next(33) as u32, next(40) as u32);
        job(&args(m, n, k, "gemm", "fp16"));
    }
}

#[test]
fn rtl_deadlock_shapes_are_reported_not_hung() {
    // 30 x 1 x 6: N = 1 with three output tiles; the RTL's scheduler never finishes
    // (reference section 7). The run must stop with a fault that says so.
    let (end, _, _) = run_yaml(&scenario_yaml(&args(30, 1, 6, "gemm", "fp16")).unwrap());
    match end {
        RunEnd::Fault { source, message } => {
            assert_eq!(source, "redmule");
            assert!(
                message.contains("deadlock at cycle")
                    && message.contains("job 30x1x6")
                    && message.contains("RedMulE 12x4x3")
                    && message.contains("memory always granting"),
                "{message}"
            );
        }
        e => panic!("expected a fault, got {e:?}"),
    }
}

#[test]
fn refused_grants_delay_a_little_and_the_result_stays_right() {
    let base = job(&args(48, 48, 48, "gemm", "fp16"));
    let mut a = args(48, 48, 48, "gemm", "fp16");
    a.deny_permille = 20;
    let j = job(&a);
    let (c0, c1) = (
        base["cycles"].as_u64().unwrap(),
        j["cycles"].as_u64().unwrap(),
    );
    assert!(j["refused"].as_u64().unwrap() > 0);
    assert!(c1 >= c0 && c1 < c0 + c0 / 10, "{c0} -> {c1}");
    assert_eq!(j["reads"], base["reads"]);
}

fn two_jobs(wait: bool) -> String {
    format!(
        r#"name: two-jobs
components:
  - name: driver
    kind: redmule_driver
    params:
      matrices:
        X: {{ rows: 24, cols: 32, addr: 0x10000000 }}
        W: {{ rows: 32, cols: 16, addr: 0x10000800 }}
        Z: {{ rows: 24, cols: 16, addr: 0x10001000 }}
        A: {{ rows: 12, cols: 16, addr: 0x10002000 }}
        B: {{ rows: 16, cols: 16, addr: 0x10002800 }}
        C: {{ rows: 12, cols: 16, addr: 0x10003000 }}
      jobs:
        - {{ x: X, w: W, z: Z, check: true, wait: {wait} }}
        - {{ x: A, w: B, z: C, op: matmul, check: true, wait: {wait} }}
    bind: {{ tcdm: interconnect.tcdm, done: redmule.done, regs: redmule.regs }}
"#
    )
}

#[test]
fn a_second_committed_job_starts_when_the_first_ends() {
    let (end, stats, errs) = run_yaml(&two_jobs(false));
    assert!(!end.is_failure() && errs.is_empty(), "{end:?} {errs:?}");
    let jobs = stats["components"]["redmule"]["jobs"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        jobs[1]["trigger_cycle"],
        jobs[0]["end_cycle"].as_u64().unwrap() + 1
    );
    assert_eq!(stats["components"]["driver"]["mismatches"], 0);
    // Each job keeps its own registers: the second is a 12x16x16 MATMUL.
    assert_eq!(
        (jobs[1]["m"].as_u64(), jobs[1]["op"].as_str()),
        (Some(12), Some("matmul"))
    );
}

#[test]
fn a_bad_job_stops_the_run_naming_the_registers() {
    let yaml = r#"name: bad
components:
  - name: driver
    kind: redmule_driver
    params:
      matrices:
        X: { rows: 4, cols: 4, addr: 0x10000000 }
        W: { rows: 4, cols: 4, addr: 0x10000100 }
        Z: { rows: 4, cols: 4, addr: 0x1001FFF0 }
      jobs:
        - { x: X, w: W, z: Z }
    bind: { tcdm: interconnect.tcdm, done: redmule.done, regs: redmule.regs }
"#;
    // Z at 0x1001FFF0 + 32 bytes runs past the 128 KiB TCDM: the loader refuses it first.
    let reg = redmule_vp::builtin_registry();
    let l = Loaded::from_str(yaml, "bad.yaml", Path::new(".")).unwrap();
    let e = Platform::build(&l, &reg, &Overrides::default())
        .err()
        .expect("rejected");
    assert!(e.message.contains("outside the TCDM"), "{e}");
}

#[test]
fn under_core_contention_the_result_is_right_and_takes_longer() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/contention/redmule-under-contention.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let (end, stats, errs) = run_yaml(&text);
    assert!(!end.is_failure() && errs.is_empty(), "{end:?} {errs:?}");
    assert_eq!(stats["components"]["driver"]["mismatches"], 0);
    let j = &stats["components"]["redmule"]["jobs"][0];
    let cycles = j["cycles"].as_u64().unwrap();
    // Alone, 48^3 takes 2412 cycles. Eight cores at 50 % random intensity win every bank
    // they request; the guard (max_stall 4) gives the wide port every 5th cycle of
    // conflict, so the job must take longer but no more than about 5 times as long.
    assert!(cycles > 2412 && cycles < 5 * 2412, "{cycles}");
    assert_eq!(j["reads"], 1152);
    assert!(
        stats["components"]["interconnect"]["hci"]["guard_firings"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn array_geometry_changes_timing_and_keeps_results_right() {
    let base = job(&args(48, 48, 48, "gemm", "fp16"));
    let mut cycles = Vec::new();
    for geom in [
        "{ rows: 8, cols: 4, stages: 3 }",
        "{ rows: 8, cols: 8, stages: 1 }",
    ] {
        let yaml = scenario_yaml(&args(48, 48, 48, "gemm", "fp16"))
            .unwrap()
            .replace("redmule: { deny_permille: 0 }", &format!("redmule: {geom}"));
        let (end, stats, errs) = run_yaml(&yaml);
        assert!(
            !end.is_failure() && errs.is_empty(),
            "{geom}: {end:?} {errs:?}"
        );
        assert_eq!(stats["components"]["driver"]["mismatches"], 0, "{geom}");
        let j = &stats["components"]["redmule"]["jobs"][0];
        cycles.push(j["cycles"].as_u64().unwrap());
    }
    // Fewer rows (8 instead of 12) means more row blocks: more cycles than the default
    // 12 x 4 x 3 array's 2412; a different tile width (8 x (1+1) = 16 columns per tile with
    // 8 CEs per row) changes them again.
    let c0 = base["cycles"].as_u64().unwrap();
    assert!(cycles[0] > c0, "{cycles:?} vs {c0}");
    assert_ne!(cycles[0], cycles[1]);
}

#[test]
fn an_array_wider_than_the_hci_port_stops_with_a_fault_not_wrong_results() {
    // 4 CEs x (4 + 1) stages = 20 FP16 values = 10 words + 1 for realignment = 11 words, on
    // the default 9-word wide port: the interconnect answers with an error.
    let yaml = scenario_yaml(&args(16, 16, 16, "gemm", "fp16"))
        .unwrap()
        .replace(
            "redmule: { deny_permille: 0 }",
            "redmule: { rows: 8, cols: 4, stages: 4 }",
        );
    let (end, _, _) = run_yaml(&yaml);
    match end {
        RunEnd::Fault { source, message } => {
            assert_eq!(source, "redmule");
            assert!(
                message.contains("11-word") && message.contains("wide_words"),
                "{message}"
            );
        }
        e => panic!("expected a fault, got {e:?}"),
    }
}
