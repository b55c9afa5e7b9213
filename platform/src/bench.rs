//! `redmule-vp bench`: named benchmarks that print simulated cycles, wall seconds and
//! simulated cycles per second. Speed targets are checked here, never in tests.
//!
//! Most benchmarks are scenarios embedded from `scenarios/bench/`; a benchmark whose
//! component kinds are not registered is skipped with a note.

use std::path::Path;
use std::time::Instant;

use serde_json::json;
use vp_kernel::{Registry, Sim};

use crate::assembly::{Overrides, Platform};
use crate::cli::{EXIT_BAD_INPUT, EXIT_FAULT, EXIT_OK};
use crate::scenario::Loaded;

/// A benchmark's result.
#[derive(Clone, Debug)]
pub struct BenchResult {
    pub name: &'static str,
    pub cycles: u64,
    pub wall_s: f64,
    /// Extra figures (name, value, unit).
    pub extra: Vec<(String, f64, &'static str)>,
}

impl BenchResult {
    pub fn cycles_per_s(&self) -> f64 {
        self.cycles as f64 / self.wall_s.max(1e-12)
    }
}

type BenchFn = fn(&Registry) -> Result<BenchResult, String>;

/// The benchmarks: (name, what it measures, function).
pub const BENCHES: &[(&str, &str, BenchFn)] = &[
    ("idle", "a run that waits 10^9 cycles with nothing pending (idle skipping)", bench_idle),
    (
        "contention",
        "8 random narrow initiators at full intensity + 1 wide streaming initiator (target >= 20 M cycles/s)",
        bench_contention,
    ),
    (
        "contention-floor",
        "contention's work hand-fused in one loop, same results: the speed of light for it on this machine",
        bench_contention_floor,
    ),
    (
        "gemm128",
        "a 128 x 128 x 128 FP16 GEMM on RedMulE alone, numerics on, 40 runs (target >= 18 M cycles/s)",
        bench_gemm128,
    ),
    (
        "tracing-off",
        "overhead of the tracing calls with no trace requested: contention with the CLI's subscriber vs none",
        bench_tracing_off,
    ),
    (
        "cores8",
        "firmware/prebuilt/matmul_int.elf on 8 cores x 10 runs: aggregate simulated MIPS (target >= 50)",
        crate::run_elf::bench_cores8,
    ),
];

/// Of `runs` of one benchmark (at least one), the median by simulated cycles per second (the
/// slower of the two middle ones for an even count), with the slowest and fastest rates as
/// extra figures when there is more than one run: the headline rate's as `slowest` /
/// `fastest`, and each extra rate's (a unit ending in "/s", e.g. cores8's MIPS; not a
/// `best_...` figure, itself an extreme) as `<name>_slowest` / `<name>_fastest`.
fn median_run(mut runs: Vec<BenchResult>) -> BenchResult {
    runs.sort_by(|a, b| a.cycles_per_s().total_cmp(&b.cycles_per_s()));
    let n = runs.len();
    let (slowest, fastest) = (runs[0].cycles_per_s(), runs[n - 1].cycles_per_s());
    // (min, max) over the runs of each extra rate, by its position in the median run's list
    let spread: Vec<Option<(String, f64, f64, &'static str)>> = runs[0]
        .extra
        .iter()
        .enumerate()
        .map(|(k, (name, _, unit))| {
            if !unit.ends_with("/s") || name.starts_with("best") {
                return None;
            }
            let vals = runs.iter().filter_map(|r| r.extra.get(k)).map(|e| e.1);
            let lo = vals.clone().fold(f64::INFINITY, f64::min);
            let hi = vals.fold(f64::NEG_INFINITY, f64::max);
            Some((name.clone(), lo, hi, *unit))
        })
        .collect();
    let mut r = runs.swap_remove((n - 1) / 2);
    if n > 1 {
        r.extra
            .push(("repeat".into(), n as f64, "runs, the median shown"));
        r.extra
            .push(("slowest".into(), slowest / 1e6, "M cycles/s"));
        r.extra
            .push(("fastest".into(), fastest / 1e6, "M cycles/s"));
        for (name, lo, hi, unit) in spread.into_iter().flatten() {
            r.extra.push((format!("{name}_slowest"), lo, unit));
            r.extra.push((format!("{name}_fastest"), hi, unit));
        }
    }
    r
}

/// `v` as an integer if it is a whole number (a count), for the table and JSON.
fn count(v: f64) -> Option<i64> {
    (v.fract() == 0.0 && v.abs() < 1e15).then_some(v as i64)
}

/// A figure for the table: a whole number (a count) without decimals, else three.
fn figure(v: f64) -> String {
    match count(v) {
        Some(n) => format!("{n}"),
        None => format!("{v:.3}"),
    }
}

/// Run the benchmarks named (all when empty), each `repeat` times (the median run is
/// reported, see `median_run`); print a table or JSON lines.
pub fn run_cli(reg: &Registry, names: &[String], json: bool, repeat: u32) -> i32 {
    for n in names {
        if !BENCHES.iter().any(|(b, _, _)| b == n) {
            let known: Vec<&str> = BENCHES.iter().map(|b| b.0).collect();
            eprintln!(
                "error: unknown benchmark '{n}', expected one of: {}",
                known.join(", ")
            );
            return EXIT_BAD_INPUT;
        }
    }
    let mut code = EXIT_OK;
    for (name, what, f) in BENCHES {
        if !names.is_empty() && !names.iter().any(|n| n == name) {
            continue;
        }
        let runs: Result<Vec<BenchResult>, String> = (0..repeat.max(1)).map(|_| f(reg)).collect();
        match runs.map(median_run) {
            Ok(r) => {
                if json {
                    let mut o = json!({
                        "name": r.name,
                        "cycles": r.cycles,
                        "wall_s": r.wall_s,
                        "cycles_per_s": r.cycles_per_s(),
                    });
                    for (k, v, _) in &r.extra {
                        // (counts as JSON integers)
                        o[k] = count(*v).map_or_else(|| json!(v), |n| json!(n));
                    }
                    println!("{o}");
                } else {
                    println!(
                        "{:<16} {:>14} cycles {:>9.3} s {:>10.2} M cycles/s   ({what})",
                        r.name,
                        r.cycles,
                        r.wall_s,
                        r.cycles_per_s() / 1e6
                    );
                    for (k, v, unit) in &r.extra {
                        println!("{:<16}   {k}: {} {unit}", "", figure(*v));
                    }
                }
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                code = EXIT_FAULT;
            }
        }
    }
    code
}

fn bench_idle(_reg: &Registry) -> Result<BenchResult, String> {
    let sim = Sim::new();
    let clock = vp_kernel::Clock::from_mhz(613.0).ok_or("clock")?;
    let s = sim.clone();
    sim.spawn("sleeper", async move {
        s.wait_cycles(clock, 1_000_000_000).await
    });
    let t0 = Instant::now();
    let r = sim.run(None);
    let wall = t0.elapsed().as_secs_f64();
    if r.end.is_failure() {
        return Err(format!("idle run ended with {:?}", r.end));
    }
    Ok(BenchResult {
        name: "idle",
        cycles: clock.cycle_at(r.time),
        wall_s: wall,
        extra: vec![],
    })
}

/// Run an embedded scenario; returns the outcome's cycles and the wall time of `run`.
pub fn run_scenario(reg: &Registry, name: &str, yaml: &str) -> Result<(u64, f64), String> {
    run_scenario_timed(reg, name, yaml).map(|(c, w, _)| (c, w))
}

/// [`run_scenario`], also returning the wall time of parsing, building and elaborating the
/// platform (not part of the simulation's time, reported apart).
fn run_scenario_timed(reg: &Registry, name: &str, yaml: &str) -> Result<(u64, f64, f64), String> {
    let t0 = Instant::now();
    let l = Loaded::from_str(yaml, name, Path::new(".")).map_err(|e| e.to_string())?;
    let p = Platform::build(&l, reg, &Overrides::default()).map_err(|e| e.to_string())?;
    let setup = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let out = p.run();
    let wall = t0.elapsed().as_secs_f64();
    if out.failed() {
        return Err(format!("{name}: the run failed: {:?}", out.report.end));
    }
    Ok((out.cycles, wall, setup))
}

const CONTENTION: &str = include_str!("../../scenarios/bench/contention.yaml");

fn bench_contention(reg: &Registry) -> Result<BenchResult, String> {
    let (cycles, wall) = run_scenario(reg, "contention", CONTENTION)?;
    Ok(BenchResult {
        name: "contention",
        cycles,
        wall_s: wall,
        extra: vec![],
    })
}

fn bench_contention_floor(_reg: &Registry) -> Result<BenchResult, String> {
    let setup = crate::floor::FloorSetup::contention(2_000_000);
    let t0 = Instant::now();
    let r = crate::floor::run(&setup);
    let wall = t0.elapsed().as_secs_f64();
    Ok(BenchResult {
        name: "contention-floor",
        cycles: r.stats.active_cycles,
        wall_s: wall,
        extra: vec![],
    })
}

fn bench_tracing_off(reg: &Registry) -> Result<BenchResult, String> {
    // (a) as the CLI runs it: a subscriber with only the WARN-filtered summary layer.
    let (cycles, with_cli) = run_scenario(reg, "contention", CONTENTION)?;
    // (b) no subscriber at all: the tracing calls are disabled callsites.
    let l =
        Loaded::from_str(CONTENTION, "contention", Path::new(".")).map_err(|e| e.to_string())?;
    let p = Platform::build(&l, reg, &Overrides::default()).map_err(|e| e.to_string())?;
    let limit = p.max_cycles.map(|c| p.clock.time_of(c));
    let t0 = Instant::now();
    let r = p.sim.run(limit);
    let bare = t0.elapsed().as_secs_f64();
    if r.end.is_failure() {
        return Err(format!("bare run ended with {:?}", r.end));
    }
    Ok(BenchResult {
        name: "tracing-off",
        cycles,
        wall_s: with_cli,
        extra: vec![
            ("bare_wall_s".into(), bare, "s"),
            (
                "overhead_percent".into(),
                (with_cli / bare.max(1e-12) - 1.0) * 100.0,
                "%",
            ),
        ],
    })
}

/// Runs of the `gemm128` benchmark.
const GEMM128_RUNS: u32 = 40;

fn bench_gemm128(reg: &Registry) -> Result<BenchResult, String> {
    let a = crate::gemm::GemmArgs {
        m: 128,
        n: 128,
        k: 128,
        op: "gemm".into(),
        fmt: "fp16".into(),
        x: None,
        w: None,
        y: None,
        z_out: None,
        deny_permille: 0,
        seed: 1,
        json: false,
    };
    // The model's own numerics run (the stores carry computed data); the slow oracle check
    // of the driver is left out of the timing.
    let yaml = crate::gemm::scenario_yaml(&a)?.replace("check: true", "check: false");
    // One job lasts a few milliseconds: a single run is at the mercy of the scheduler's
    // noise. Run it GEMM128_RUNS times on fresh platforms (nothing carries over from one
    // run to the next) and report the total, plus the best run. The timed window is the
    // simulation (`Platform::run`); building the platform (parsing, loading the random
    // matrices) is reported apart.
    let (mut cycles, mut wall, mut best, mut setup) = (0u64, 0f64, 0f64, 0f64);
    for _ in 0..GEMM128_RUNS {
        let (c, w, s) = run_scenario_timed(reg, "gemm128", &yaml)?;
        cycles += c;
        wall += w;
        setup += s;
        best = best.max(c as f64 / w.max(1e-12));
    }
    Ok(BenchResult {
        name: "gemm128",
        cycles,
        wall_s: wall,
        extra: vec![
            ("runs".into(), GEMM128_RUNS as f64, ""),
            ("best_run".into(), best / 1e6, "M cycles/s"),
            (
                "setup_s".into(),
                setup,
                "s building the platforms (not in the timed window)",
            ),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(cycles: u64, wall_s: f64) -> BenchResult {
        BenchResult {
            name: "t",
            cycles,
            wall_s,
            extra: vec![
                ("own".into(), wall_s, "s"),
                ("rate".into(), cycles as f64 / wall_s, "cycles/s"),
            ],
        }
    }

    #[test]
    fn the_median_run_is_reported_with_the_spread() {
        // Rates 4, 1, 3, 2 M cycles/s: sorted 1, 2, 3, 4; the median of an even count is the
        // slower middle one (2), reported with its own figures.
        let runs = vec![
            result(4_000_000, 1.0),
            result(1_000_000, 1.0),
            result(6_000_000, 2.0),
            result(2_000_000, 1.0),
        ];
        let r = median_run(runs);
        assert_eq!((r.cycles, r.wall_s), (2_000_000, 1.0));
        let get = |k: &str| r.extra.iter().find(|e| e.0 == k).map(|e| e.1);
        assert_eq!(get("own"), Some(1.0));
        assert_eq!(get("repeat"), Some(4.0));
        assert_eq!(get("slowest"), Some(1.0));
        assert_eq!(get("fastest"), Some(4.0));
        // an extra rate (unit ".../s") gets its own spread over the runs; others do not
        assert_eq!(get("rate_slowest"), Some(1e6));
        assert_eq!(get("rate_fastest"), Some(4e6));
        assert_eq!(get("own_slowest"), None);
        // An odd count: the middle one.
        let r = median_run(vec![result(5, 1.0), result(9, 1.0), result(7, 1.0)]);
        assert_eq!(r.cycles, 7);
        // One run: as it is, no spread.
        let r = median_run(vec![result(5, 1.0)]);
        assert_eq!((r.cycles, r.extra.len()), (5, 2));
    }

    #[test]
    fn counts_print_without_decimals() {
        assert_eq!(figure(5_486_960.0), "5486960");
        assert_eq!(figure(9.0), "9");
        assert_eq!(figure(61.5484), "61.548");
        assert_eq!(figure(0.5), "0.500");
    }
}
