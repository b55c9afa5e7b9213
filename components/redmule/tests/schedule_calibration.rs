//! The RedMulE timing model against the RTL measurements of
//! `shared/reference/pulp-cluster.md` section 7 and the per-cycle traces in
//! `shared/reference/rtl-traces/`.

use vp_redmule::schedule::{run_with, Geometry, JobShape, RunSummary, Schedule, StartInfo, Stream};

fn job(m: u32, n: u32, k: u32) -> JobShape {
    // Buffers back to back from 0, as in the calibration runs.
    let x = 0;
    let w = x + 2 * m * n;
    let z = w + 2 * n * k;
    JobShape {
        m,
        n,
        k,
        x,
        w,
        z,
        elem_bytes: 2,
    }
}

fn run(j: JobShape) -> RunSummary {
    let mut s = Schedule::new(Geometry::REDMULE, j, StartInfo::default()).expect("valid job");
    run_with(&mut s, 10_000_000, |_, _| true).expect("completes")
}

#[test]
fn calibration_points_are_exact() {
    // (M, N, K, cycles, reads, writes) measured on the RTL (memory always granting).
    let table = [
        (12, 16, 16, 170, 64, 12),
        (48, 48, 48, 2412, 1152, 144),
        (96, 96, 96, 18540, 8640, 576),
        (31, 32, 31, 875, 388, 72),
        (24, 17, 32, 442, 224, 48),
        (5, 32, 3, 215, 66, 12),
    ];
    for (m, n, k, cycles, reads, writes) in table {
        let r = run(job(m, n, k));
        assert_eq!(
            (r.cycles, r.reads, r.writes),
            (cycles, reads, writes),
            "{m}x{n}x{k}"
        );
    }
}

/// A tiny deterministic generator (xorshift64*) for refusal patterns.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// True with probability `pct` percent.
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 10_000 < pct * 100
    }
}

#[test]
fn random_refusal_costs_only_a_few_cycles_and_holds_requests() {
    // RTL under Verilator: 96^3 with 2 % of the grants refused takes 18546 to 18553 cycles.
    for seed in 1..=8u64 {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
        let mut s =
            Schedule::new(Geometry::REDMULE, job(96, 96, 96), StartInfo::default()).unwrap();
        let mut granted = true;
        let mut refused: Option<vp_redmule::schedule::WideAccess> = None;
        let (mut reads, mut writes, mut refusals) = (0u64, 0u64, 0u64);
        let cycles = loop {
            let t = s.now();
            assert!(t < 100_000, "seed {seed}: no completion");
            let o = s.cycle(granted);
            if let Some(prev) = refused.take() {
                assert_eq!(
                    o.req,
                    Some(prev),
                    "seed {seed}: refused request not held at {t}"
                );
            }
            if o.done {
                break t;
            }
            granted = true;
            if let Some(a) = o.req {
                granted = !rng.chance(2);
                if !granted {
                    refusals += 1;
                    refused = Some(a);
                } else if a.write {
                    writes += 1;
                } else {
                    reads += 1;
                }
            }
        };
        println!("seed {seed}: {cycles} cycles, {refusals} refusals");
        assert!(refusals > 100);
        assert_eq!((reads, writes), (8640, 576));
        assert!(
            (18541..=18570).contains(&cycles),
            "seed {seed}: {cycles} cycles"
        );
    }
}

#[test]
fn heavy_refusal_still_completes() {
    for (m, n, k) in [
        (96, 96, 96),
        (31, 32, 31),
        (5, 32, 3),
        (24, 17, 32),
        (12, 16, 16),
    ] {
        let free = run(job(m, n, k));
        for pct in [10u64, 30, 60] {
            let mut rng = Rng(0x1234_5678 ^ pct);
            let mut s =
                Schedule::new(Geometry::REDMULE, job(m, n, k), StartInfo::default()).unwrap();
            let r = run_with(&mut s, 10_000_000, |_, _| !rng.chance(pct)).expect("completes");
            assert_eq!(
                (r.reads, r.writes),
                (free.reads, free.writes),
                "{m}x{n}x{k} {pct}%"
            );
            assert!(r.cycles >= free.cycles, "{m}x{n}x{k} {pct}%");
        }
    }
}
