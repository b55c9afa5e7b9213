//! How much of a job the schedule replays instead of evaluating (steady-state replay).
//!
//! `cargo run --release -p vp-redmule --example replay_stats -- M N K` (memory always granting,
//! or refusing `DENY` per mille of the grants; `GEO="rows cols stages"` for another array;
//! `NOREPLAY=1` evaluates every cycle).
mod common;

use vp_redmule::schedule::{run_with, JobShape, Schedule, StartInfo};

fn main() {
    if let Err(e) = run() {
        eprintln!("replay_stats: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let a: Vec<u32> = std::env::args()
        .skip(1)
        .map(|s| s.parse().map_err(|_| format!("'{s}' is not a number")))
        .collect::<Result<_, _>>()?;
    let [m, n, k] = a[..] else {
        return Err("usage: replay_stats M N K".into());
    };
    let geom = common::geometry_from_env();
    let job = JobShape {
        m,
        n,
        k,
        x: 0,
        w: 2 * m * n,
        z: 2 * m * n + 2 * n * k,
        elem_bytes: 2,
    };
    let mut s = Schedule::new(geom, job, StartInfo::default())
        .map_err(|e| format!("{m}x{n}x{k}: {e}"))?
        .with_steady_state_replay(std::env::var("NOREPLAY").is_err());
    // DENY=permille: refuse that share of the grants (seeded xorshift).
    let deny: u64 = match std::env::var("DENY") {
        Ok(v) => v
            .parse()
            .map_err(|_| format!("DENY: '{v}' is not a number"))?,
        Err(_) => 0,
    };
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let sum = run_with(&mut s, 100_000_000, |_, _| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % 1000 >= deny
    })
    .map_err(|e| format!("{m}x{n}x{k}: {e}"))?;
    println!(
        "{m}x{n}x{k}: {} cycles, {} replayed ({:.1} %)",
        sum.cycles,
        s.replayed_cycles(),
        100.0 * s.replayed_cycles() as f64 / sum.cycles.max(1) as f64
    );
    Ok(())
}
