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
