//! Run one job shape under many seeded refusal patterns and count how the runs end.
//!
//! `cargo run --release -p vp-redmule --example refusal_sweep -- ROWS COLS STAGES M N K SEEDS
//! PCT [bursty|random] [rtl]` prints one line per run that does not drain (seed, outcome,
//! cycle) or drains with other numbers of granted reads and writes than with the memory always
//! granting, and a summary `drained N deadlock N cap N (other access counts: N)`. `DUMP=seed` instead prints the refused
//! cycles of that seed (numbered as in the RTL traces, TRIGGER + 36), the input of
//! `schedule_trace`'s `REFUSE=file` and of a test bench replaying the same refusals.
//!
//! The refusal generators are those of `tests/schedule_equivalence.rs`: independent refusals,
//! or a two-state chain (runs of refusals) advanced on every request.
use vp_redmule::schedule::{Geometry, JobShape, Schedule, StartInfo};

#[path = "../tests/common/xorshift.rs"]
mod xorshift;
use xorshift::{Refusals, Rng};

/// Runs one seed; returns the outcome, the final cycle and the refused cycles.
fn run(
    g: Geometry,
    job: JobShape,
    seed: u64,
    pct: u64,
    bursty: bool,
    rtl: bool,
) -> (&'static str, u64, Vec<u64>, (u64, u64)) {
    let mut s = Schedule::new(g, job, StartInfo::default())
        .expect("valid job")
        .with_rtl_request_retirement(rtl);
    let rng = if bursty {
        Rng(0xd1b5_4a32_d192_ed03 ^ seed)
    } else {
        Rng(0x9e37_79b9_7f4a_7c15 ^ seed)
    };
    let macs = u64::from(job.m) * u64::from(job.n.next_multiple_of(4)) * u64::from(job.k);
    let cap = 4000 + 40 * macs / u64::from(g.rows * g.cols);
    let mut memory = Refusals::new(rng, pct, bursty);
    let mut granted = true;
    let mut refused = Vec::new();
    let (mut reads, mut writes) = (0u64, 0u64);
    loop {
        let t = s.now();
        if t > cap {
            return ("cap", t, refused, (reads, writes));
        }
        if s.deadlocked() {
            return ("deadlock", t, refused, (reads, writes));
        }
        let o = s.cycle(granted);
        if s.is_drained() {
            return ("drained", t, refused, (reads, writes));
        }
        granted = true;
        if o.req.is_some() && pct > 0 {
            granted = memory.grant();
            if !granted {
                refused.push(t + 36);
            }
        }
        if let (Some(a), true) = (o.req, granted) {
            if a.write {
                writes += 1;
            } else {
                reads += 1;
            }
        }
    }
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> u64 { a[i].parse().expect("numbers") };
    let g = Geometry {
        rows: num(0) as u32,
        cols: num(1) as u32,
        stages: num(2) as u32,
    };
    let (m, n, k) = (num(3) as u32, num(4) as u32, num(5) as u32);
    let seeds = num(6);
    let pct = num(7);
    let bursty = a.get(8).is_none_or(|s| s == "bursty");
    let rtl = a.get(9).is_some_and(|s| s == "rtl");
    let job = JobShape {
        m,
        n,
        k,
        x: 0,
        w: 2 * m * n,
        z: 2 * m * n + 2 * n * k,
        elem_bytes: 2,
    };
    if let Some(seed) = std::env::var("DUMP").ok().and_then(|v| v.parse().ok()) {
        let (o, t, refused, _) = run(g, job, seed, pct, bursty, rtl);
        eprintln!("seed {seed}: {o} at {t}");
        for c in refused {
            println!("{c}");
        }
        return;
    }
    // Accesses of the same job with the memory always granting.
    let (_, _, _, want) = run(g, job, 0, 0, bursty, rtl);
    let (mut dr, mut dl, mut cap, mut odd) = (0, 0, 0, 0);
    for seed in 0..seeds {
        let (o, t, _, got) = run(g, job, seed, pct, bursty, rtl);
        match o {
            "drained" => dr += 1,
            "deadlock" => dl += 1,
            _ => cap += 1,
        }
        if o != "drained" {
            println!("seed {seed} {o} {t}");
        } else if got != want {
            odd += 1;
            println!(
                "seed {seed} drained at {t} with {} reads, {} writes (always granting: {}, {})",
                got.0, got.1, want.0, want.1
            );
        }
    }
    println!("drained {dr} deadlock {dl} cap {cap} (other access counts: {odd})");
}
