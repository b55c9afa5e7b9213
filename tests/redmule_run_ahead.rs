//! RedMulE's run ahead (the cycles it is alone on the memory evaluated in one tick, its
//! accesses granted at once by `Port::request_alone`) against one tick and one HCI pass per
//! cycle (`run_ahead: false`): random shapes, ops, formats, array geometries, refused grants,
//! queued jobs, traffic on the narrow ports for part of the job, guard settings, and the
//! firmware offloads with real cores. Every run must be the same: its end, every statistic
//! (cycles, reads, writes, stalls, the interconnect's counters) and Z bit for bit; and the
//! run ahead must really have been taken.

use std::path::{Path, PathBuf};

use redmule_vp::{Loaded, Overrides, Platform};
use serde_json::Value;
use vp_kernel::testkit::XorShift as Rng;
use vp_kernel::RunEnd;

fn tmpdir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "redmule-vp-run-ahead-{test}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One random scenario; `{RA}` stands for the run-ahead switch, `{OUT}` for Z's file prefix.
fn random_case(rng: &mut Rng) -> String {
    let (rows, cols, stages) =
        *rng.pick(&[(12, 4, 3), (12, 4, 3), (8, 4, 3), (8, 8, 1), (4, 2, 3)]);
    let fmt = *rng.pick(&["fp16", "fp16", "fp8", "fp8alt"]);
    let deny = *rng.pick(&[0, 0, 0, 3, 40, 300]);
    let ic = *rng.pick(&[
        "{}",
        "{ max_stall: 4 }",
        "{ max_stall: 1, invert_prio: true }",
        "{ hci_variant: v2_4, max_stall: 3 }",
    ]);
    let jobs = 1 + rng.below(2);
    let mut matrices = String::new();
    let mut joblist = String::new();
    let mut addr = 0x1000_0000u64;
    for j in 0..jobs {
        let big = rng.below(4) == 0;
        let dim = |r: &mut Rng| 1 + r.below(if big { 40 } else { 26 }) as u32;
        let (m, n, k) = (dim(rng), dim(rng), dim(rng));
        let op = *rng.pick(&[
            "gemm", "gemm", "matmul", "addmax", "addmin", "mulmax", "mulmin", "maxmin", "minmax",
        ]);
        let eb = if fmt == "fp16" { 2 } else { 1 };
        let mut alloc = |name: &str, r: u32, c: u32| {
            let a = addr;
            addr = (addr + (r * c * eb) as u64).div_ceil(32) * 32;
            matrices.push_str(&format!(
                "        {name}{j}: {{ rows: {r}, cols: {c}, addr: {a:#x}, dtype: {fmt} }}\n"
            ));
        };
        alloc("X", m, n);
        alloc("W", n, k);
        alloc("Z", m, k);
        let wait = rng.below(2) == 0;
        joblist.push_str(&format!(
            "        - {{ x: X{j}, w: W{j}, z: Z{j}, op: {op}, fmt: {fmt}, check: true, wait: {wait}, out: \"{{OUT}}-{j}.npy\" }}\n"
        ));
    }
    let mut traffic = String::new();
    for c in 0..rng.below(5) {
        let intensity = *rng.pick(&[0.1, 0.3, 0.7, 1.0]);
        let write_ratio = *rng.pick(&[0.0, 0.5]);
        let start = rng.below(400);
        let duration = 1 + rng.below(1500);
        // Writes go above the matrices (the same banks, other rows); reads anywhere.
        let range = if write_ratio > 0.0 {
            "{ base: 0x10018000, size: 0x4000 }"
        } else {
            "{ base: 0x10000000, size: 0x8000 }"
        };
        traffic.push_str(&format!(
            "  - name: core{c}\n    kind: traffic\n    params: {{ pattern: random, intensity: {intensity}, write_ratio: {write_ratio}, range: {range}, start: {start}, duration: {duration} }}\n    bind: {{ tcdm: interconnect.narrow }}\n"
        ));
    }
    format!(
        "name: run-ahead\nseed: {seed}\nplatform:\n  interconnect: {ic}\n  redmule: {{ rows: {rows}, cols: {cols}, stages: {stages}, deny_permille: {deny}, run_ahead: {{RA}} }}\ncomponents:\n  - name: driver\n    kind: redmule_driver\n    params:\n      start_cycle: {sc}\n      matrices:\n{matrices}      jobs:\n{joblist}    bind: {{ tcdm: interconnect.tcdm, done: redmule.done, regs: redmule.regs }}\n{traffic}",
        seed = rng.below(1000),
        sc = 1 + rng.below(300),
    )
}

struct Run {
    end: RunEnd,
    cycles: u64,
    stats: Value,
    errors: Vec<String>,
    z: Vec<Vec<u8>>,
}

fn run(template: &str, run_ahead: bool, dir: &Path, tag: &str) -> Run {
    let out = dir.join(format!("{tag}-{run_ahead}"));
    let yaml = template
        .replace("{RA}", &run_ahead.to_string())
        .replace("{OUT}", &out.display().to_string());
    let reg = redmule_vp::builtin_registry();
    let l = Loaded::from_str(&yaml, "run-ahead.yaml", Path::new("."))
        .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let p = Platform::build(&l, &reg, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    let o = p.run();
    let mut z = Vec::new();
    for j in 0..2 {
        let f = PathBuf::from(format!("{}-{j}.npy", out.display()));
        if let Ok(b) = std::fs::read(&f) {
            z.push(b);
            let _ = std::fs::remove_file(&f);
        }
    }
    Run {
        end: o.report.end,
        cycles: o.cycles,
        stats: o.stats,
        errors: o.finish_errors,
        z,
    }
}

/// The run-ahead counters, taken out of the statistics (the only figures that differ).
fn take_counters(s: &mut Value) -> (u64, u64) {
    let r = s["components"]["redmule"]
        .as_object_mut()
        .expect("redmule statistics");
    let g = r.remove("alone_grants").and_then(|v| v.as_u64()).unwrap();
    let a = r.remove("ahead_cycles").and_then(|v| v.as_u64()).unwrap();
    (g, a)
}

/// Wide accesses of the finished jobs.
fn accesses(s: &Value) -> u64 {
    s["components"]["redmule"]["jobs"]
        .as_array()
        .map_or(0, |j| {
            j.iter()
                .map(|j| j["reads"].as_u64().unwrap() + j["writes"].as_u64().unwrap())
                .sum()
        })
}

/// Compare the two runs of `template`; returns the run ahead's (alone grants, ahead cycles,
/// wide accesses of the finished jobs).
fn compare(template: &str, dir: &Path, tag: &str) -> (u64, u64, u64) {
    let mut on = run(template, true, dir, tag);
    let mut off = run(template, false, dir, tag);
    assert_eq!(on.end, off.end, "end\n{template}");
    assert_eq!(on.cycles, off.cycles, "cycles\n{template}");
    assert_eq!(on.errors, off.errors, "finish errors\n{template}");
    assert_eq!(on.z, off.z, "Z\n{template}");
    let counters = take_counters(&mut on.stats);
    assert_eq!(take_counters(&mut off.stats), (0, 0), "off\n{template}");
    assert_eq!(on.stats, off.stats, "statistics\n{template}");
    (counters.0, counters.1, accesses(&on.stats))
}

#[test]
fn random_jobs_run_the_same_with_and_without_the_run_ahead() {
    let dir = tmpdir("random");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut grants, mut ahead, mut total, mut finished) = (0, 0, 0, 0);
    for i in 0..60 {
        let t = random_case(&mut rng);
        let (g, a, n) = compare(&t, &dir, &format!("case{i}"));
        grants += g;
        ahead += a;
        total += n;
        let r = run(&t, true, &dir, &format!("check{i}"));
        if !r.end.is_failure() && r.errors.is_empty() {
            finished += 1;
            assert!(!r.z.is_empty(), "Z written\n{t}");
        }
    }
    // The run ahead was taken for most accesses (not where traffic competes or grants are
    // refused), and most jobs completed (the rest are RTL deadlock shapes, which must fault
    // the same way).
    assert!(
        grants * 2 > total && ahead > grants,
        "{grants} {ahead} {total}"
    );
    assert!(finished >= 40, "{finished} of 60 finished");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_long_job_alone_is_evaluated_ahead_and_unchanged() {
    // 96^3: the replayed steady state, W reloads and tile loads; then with traffic on the
    // narrow side for its first quarter.
    let dir = tmpdir("long");
    let base = "name: long\nseed: 5\nplatform:\n  redmule: { run_ahead: {RA} }\ncomponents:\n  - name: driver\n    kind: redmule_driver\n    params:\n      matrices:\n        X: { rows: 96, cols: 96, addr: 0x10000000 }\n        W: { rows: 96, cols: 96, addr: 0x10004800 }\n        Z: { rows: 96, cols: 96, addr: 0x10009000 }\n      jobs:\n        - { x: X, w: W, z: Z, check: true, out: \"{OUT}-0.npy\" }\n    bind: { tcdm: interconnect.tcdm, done: redmule.done, regs: redmule.regs }\n";
    let (g, a, n) = compare(base, &dir, "long");
    assert_eq!(n, 8640 + 576);
    // Every access but none, and all but a handful of cycles, ahead.
    assert_eq!(g, 8640 + 576);
    assert!(a > 18_000, "{a}");
    let busy = format!(
        "{base}  - name: core0\n    kind: traffic\n    params: {{ pattern: random, intensity: 0.5, range: {{ base: 0x10000000, size: 0x10000 }}, duration: 5000 }}\n    bind: {{ tcdm: interconnect.narrow }}\n"
    );
    let (g2, _, _) = compare(&busy, &dir, "busy");
    assert!(g2 > 0 && g2 < g, "{g2}");
    // A run limit in the middle of the job: the run ahead stops before it, and the run
    // stops in the same state (statistics of the unfinished job's memory traffic included).
    let cut = format!("{base}run:\n  max_cycles: 9001\n");
    let (g3, a3, _) = compare(&cut, &dir, "cut");
    assert!(g3 > 0 && a3 < 9001, "{g3} {a3}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn stalls_inside_replayed_periods_are_counted_the_same_ahead() {
    // 96 x 8 x 96 GEMM: N = 8 is too short a chunk to hide the Y loads, so the engine
    // stalls on a missing Y inside periods the schedule replays (about 600 stall cycles,
    // most of the job replayed): the run ahead walks those recorded outputs in one loop
    // and must count every stall cycle and change of cause as the per-cycle step does.
    let dir = tmpdir("ystall");
    let t = "name: ystall\nseed: 7\nplatform:\n  redmule: { run_ahead: {RA} }\ncomponents:\n  - name: driver\n    kind: redmule_driver\n    params:\n      matrices:\n        X: { rows: 96, cols: 8, addr: 0x10000000 }\n        W: { rows: 8, cols: 96, addr: 0x10001000 }\n        Z: { rows: 96, cols: 96, addr: 0x10004000 }\n      jobs:\n        - { x: X, w: W, z: Z, op: gemm, check: true, out: \"{OUT}-0.npy\" }\n    bind: { tcdm: interconnect.tcdm, done: redmule.done, regs: redmule.regs }\n";
    let (g, a, _) = compare(t, &dir, "ystall");
    assert!(g > 0 && a > 0, "{g} {a}");
    let r = run(t, true, &dir, "ystall-check");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let job = &r.stats["components"]["redmule"]["jobs"][0];
    let stall_y = job["stalls"]["y_missing"].as_u64();
    assert!(stall_y.is_some_and(|n| n > 300), "Y-missing stalls: {job}");
    let _ = std::fs::remove_dir_all(dir);
}

fn prebuilt(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("firmware/prebuilt/{name}.elf"))
}

#[test]
fn firmware_offloads_run_the_same_with_and_without_the_run_ahead() {
    // Real cores: they program RedMulE and sleep waiting for event 12 (redmule_gemm), or
    // hammer the TCDM while it computes (contention).
    let dir = tmpdir("firmware");
    for name in ["redmule_gemm", "contention"] {
        let t = format!(
            "program:\n  elf: {}\nplatform:\n  redmule: {{ run_ahead: {{RA}} }}\n",
            Value::String(prebuilt(name).display().to_string())
        );
        let (g, _, _) = compare(&t, &dir, name);
        assert!(g > 0, "{name}: the run ahead was not taken");
    }
    let _ = std::fs::remove_dir_all(dir);
}
