//! Simulation speed of the memory system under contention.
//!
//! ```text
//! cargo run --release -p vp-traffic --example contention_bench [cycles] [seed]
//! ```
//!
//! Builds the contention bench (8 random narrow generators at full intensity + one wide
//! streaming generator on the default 16-bank TCDM), runs it and prints simulated cycles
//! per wall-clock second and per second on the CPU (from /proc/self/schedstat where
//! available: on a shared machine the wall figure understates the speed). Time is
//! measured here, outside the model.

use std::time::Instant;

use vp_kernel::{Clock, Sim};

fn main() {
    let mut args = std::env::args().skip(1);
    let cycles: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let sim = Sim::new();
    let domain = sim.add_clock("cluster", Clock::from_mhz(613.0).unwrap());
    let bench =
        vp_traffic::build_contention_bench(&sim, domain, cycles, &vp_interconnect::kind(), seed)
            .expect("bench");
    let cpu0 = cpu_ns();
    let t0 = Instant::now();
    let report = bench.run(&sim);
    let dt = t0.elapsed().as_secs_f64();
    let cpu = cpu_ns().zip(cpu0).map(|(b, a)| (b - a) as f64 / 1e9);
    let simulated = sim.clock(domain).cycle_at(report.time);
    println!(
        "{:?} after {simulated} cycles, {} activations, {} grants",
        report.end,
        report.activations,
        bench.grants()
    );
    println!(
        "{:.2} s wall, {:.2} M simulated cycles/s",
        dt,
        simulated as f64 / dt / 1e6
    );
    if let Some(cpu) = cpu {
        println!(
            "{:.2} s on the CPU, {:.2} M simulated cycles/s of CPU time",
            cpu,
            simulated as f64 / cpu / 1e6
        );
    }
    if std::env::var_os("BENCH_STATS").is_some() {
        println!("{}", serde_json::to_string_pretty(&bench.stats()).unwrap());
    }
}

/// Nanoseconds this thread spent on the CPU (Linux), if known.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}
