//! Differential test of the steady-state replay (`schedule/replay.rs`): a schedule with the
//! replay on and one with it off run side by side on the same grants, and everything
//! observable must agree in every cycle: the port request with all its fields, the stall cause,
//! the event, `now`, `is_drained`, `deadlocked`, `finished`. Random shapes (leftovers in M, N and
//! K, single tiles, K shorter than a chunk, several geometries, FP8, misaligned bases, MATMUL, RTL
//! request retirement) with the memory always granting, with independent and with bursty seeded
//! refusals (a refusal in a replayed period hands over to the full model). And the batch access
//! to a replayed period (`Schedule::replay_ahead` / `replay_skip`, the engine's run ahead)
//! against the same schedule evaluated cycle by cycle, with the brief codes and stall counts the
//! engine reads there (`Ahead::code`, `Ahead::stalls`).

use vp_redmule::schedule::{Ahead, CycleOut, Geometry, JobShape, Schedule, StartInfo};

#[path = "common/xorshift.rs"]
mod xorshift;
use xorshift::{Refusals, Rng};

#[derive(Clone, Copy, Debug)]
enum Grants {
    Always,
    /// Independent refusals with this percentage.
    Random(u64),
    /// Runs of refusals with this share.
    Bursty(u64),
}

#[derive(Clone, Copy, Debug)]
struct Case {
    geom: Geometry,
    job: JobShape,
    info: StartInfo,
    rtl: bool,
    grants: Grants,
    seed: u64,
}

/// Runs `c` with the replay on and off in lockstep; returns the cycles run and the cycles the
/// replaying schedule replayed, or where they first differ. `batched`: the replaying schedule
/// takes the outputs of its replayed periods through `replay_ahead` in runs of random length
/// (`replay_skip`), a run ending at a refused request, instead of one `cycle` call each.
fn run(c: &Case, batched: bool) -> Result<(u64, u64), String> {
    let mk = |replay| {
        Schedule::new(c.geom, c.job, c.info)
            .expect("valid case")
            .with_rtl_request_retirement(c.rtl)
            .with_steady_state_replay(replay)
    };
    let (mut a, mut b) = (mk(true), mk(false));
    let rng = Rng(0x9e37_79b9_7f4a_7c15 ^ c.seed);
    let (pct, bursty) = match c.grants {
        Grants::Always => (0, false),
        Grants::Random(p) => (p, false),
        Grants::Bursty(p) => (p, true),
    };
    let mut memory = Refusals::new(rng, pct, bursty);
    let macs = u64::from(c.job.m) * u64::from(c.job.n.next_multiple_of(4)) * u64::from(c.job.k);
    let cap = 4000 + 40 * macs / u64::from(c.geom.rows * c.geom.cols);
    let mut granted = true;
    let obs = |s: &Schedule| (s.now(), s.is_drained(), s.deadlocked(), s.finished());
    let mut runs = Rng(0x5eed_0003 ^ c.seed);
    // The stall cause of the last output (for `Ahead::CHANGED`).
    let mut last_stall = None;
    loop {
        if batched {
            if let Some(ahead) = a.replay_ahead(granted) {
                let t0 = b.now();
                let may_end = a.may_end_next();
                let len = 1 + (runs.next_u64() % ahead.len() as u64) as usize;
                let mut n = 0;
                let mut stalls = [0u64; 4];
                while n < len {
                    let (oa, ob) = (ahead.get(n), b.cycle(granted));
                    if (ahead.stall(n), ahead.req(n)) != (oa.stall, oa.req) {
                        return Err(format!("cycle {}: stall() or req() != get()", b.now() - 1));
                    }
                    // The brief code and the stall counts the engine reads instead.
                    let code = ahead.code(n);
                    let kind = match oa.req {
                        None => 0,
                        Some(r) if r.write => Ahead::WRITE,
                        Some(_) => Ahead::READ,
                    };
                    let cause = Ahead::stall_code(oa.stall);
                    if code & !Ahead::CHANGED != kind | cause
                        || (code & Ahead::CHANGED == 0 && oa.stall != last_stall)
                        || oa.req.is_some_and(|r| ahead.addr(n) != r.addr)
                    {
                        return Err(format!("cycle {}: code() or addr() wrong", b.now() - 1));
                    }
                    last_stall = oa.stall;
                    if cause != 0 {
                        stalls[cause as usize - 1] += 1;
                    }
                    n += 1;
                    if ahead.stalls(n) != stalls {
                        return Err(format!("cycle {}: stalls() wrong", b.now() - 1));
                    }
                    if oa != ob {
                        return Err(format!("cycle {}: ahead {oa:?} != {ob:?}", b.now() - 1));
                    }
                    if ob.done || b.deadlocked() || (b.may_end_next() && !may_end) {
                        return Err(format!("cycle {}: an end in a replayed period", b.now()));
                    }
                    granted = true;
                    if ob.req.is_some() && pct > 0 {
                        granted = memory.grant();
                    }
                    if !granted {
                        break;
                    }
                }
                a.replay_skip(n);
                if a.now() != t0 + n as u64 || obs(&a) != obs(&b) {
                    return Err(format!("cycle {}: after {n} outputs ahead", b.now()));
                }
                continue;
            }
        }
        let t = b.now();
        if obs(&a) != obs(&b) {
            return Err(format!(
                "cycle {t}: (now, drained, deadlocked, finished) {:?} != {:?}",
                obs(&a),
                obs(&b)
            ));
        }
        if t > cap || b.deadlocked() {
            if a.deadlock_report() != b.deadlock_report() {
                return Err(format!("cycle {t}: deadlock reports differ"));
            }
            return Ok((t, a.replayed_cycles()));
        }
        let (oa, ob): (CycleOut, CycleOut) = (a.cycle(granted), b.cycle(granted));
        if oa != ob {
            return Err(format!("cycle {t}: {oa:?} != {ob:?}"));
        }
        last_stall = ob.stall;
        if b.is_drained() {
            if obs(&a) != obs(&b) {
                return Err(format!("cycle {t}: drained differs"));
            }
            return Ok((t, a.replayed_cycles()));
        }
        granted = true;
        if ob.req.is_some() && pct > 0 {
            granted = memory.grant();
        }
    }
}

const GEOMS: [Geometry; 5] = [
    Geometry::REDMULE,
    Geometry {
        rows: 8,
        cols: 4,
        stages: 3,
    },
    Geometry {
        rows: 12,
        cols: 2,
        stages: 7,
    },
    Geometry {
        rows: 8,
        cols: 8,
        stages: 1,
    },
    Geometry {
        rows: 4,
        cols: 2,
        stages: 3,
    },
];

fn job(rng: &mut Rng, m: u32, n: u32, k: u32) -> JobShape {
    let eb = if rng.chance(15) { 1 } else { 2 };
    let skew = if rng.chance(20) {
        (rng.next_u64() % 8) as u32 * 2
    } else {
        0
    };
    let x = 0x100 + skew;
    let w = (x + eb * m * n + 3 + skew) & !1;
    let z = (w + eb * n * k + 64 + skew) & !1;
    JobShape {
        m,
        n,
        k,
        x,
        w,
        z,
        elem_bytes: eb,
    }
}

/// Random cases: shapes up to a few tiles in each dimension with leftovers, and fixed corner
/// shapes (single tiles, K shorter than a chunk, N shorter than the CE columns).
fn cases(n_random: usize, seed: u64) -> Vec<Case> {
    let mut rng = Rng(seed);
    let mut v = Vec::new();
    let fixed: &[(u32, u32, u32)] = &[
        (12, 16, 16),
        (1, 1, 1),
        (12, 64, 5),
        (5, 128, 3),
        (24, 17, 32),
        (40, 5, 20),
        (96, 96, 96),
        (64, 64, 64),
        (36, 16, 48),
        (33, 20, 33),
        (100, 48, 7),
        (60, 200, 40),
    ];
    let mut shapes: Vec<(u32, u32, u32)> = fixed.to_vec();
    for _ in 0..n_random {
        let d = |r: &mut Rng, max: u64| 1 + (r.next_u64() % max) as u32;
        shapes.push((d(&mut rng, 90), d(&mut rng, 140), d(&mut rng, 70)));
    }
    for (i, &(m, n, k)) in shapes.iter().enumerate() {
        let geom = GEOMS[i % GEOMS.len()];
        let grants = match i % 4 {
            0 | 1 => Grants::Always,
            2 => Grants::Random(1 + rng.next_u64() % 20),
            _ => Grants::Bursty(5 + rng.next_u64() % 30),
        };
        let info = StartInfo {
            arith_to_trigger: if rng.chance(10) {
                1 + (rng.next_u64() % 27) as u32
            } else {
                1
            },
            reads_y: !rng.chance(5),
        };
        v.push(Case {
            geom,
            job: job(&mut rng, m, n, k),
            info,
            rtl: rng.chance(10),
            grants,
            seed: rng.next_u64(),
        });
    }
    v
}

fn check(cases: &[Case], batched: bool) -> (u64, u64) {
    let (mut total, mut replayed) = (0, 0);
    let mut failures = Vec::new();
    for c in cases {
        match run(c, batched) {
            Ok((t, r)) => {
                total += t;
                replayed += r;
            }
            Err(e) => failures.push(format!("{c:?}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ with the replay on:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    (total, replayed)
}

#[test]
fn replay_matches_full_evaluation() {
    // `REPLAY_CASES=n` (and `REPLAY_SEED`) for a longer sweep than the default.
    let n = std::env::var("REPLAY_CASES").map_or(300, |v| v.parse().expect("REPLAY_CASES"));
    let seed =
        std::env::var("REPLAY_SEED").map_or(0x5eed_0001, |v| v.parse().expect("REPLAY_SEED"));
    let cs = cases(n, seed);
    let (total, replayed) = check(&cs, false);
    eprintln!("random: {replayed} of {total} cycles replayed");
    // The replay must actually have run, or this test checks nothing.
    assert!(
        replayed * 4 > total,
        "only {replayed} of {total} cycles replayed"
    );
}

#[test]
fn replay_under_refusals_hands_over_exactly() {
    // Large steady stretches with refusals sprinkled in: every refusal falls in a replayed
    // period and must hand over to the full model in the exact state.
    let mut v = Vec::new();
    let mut rng = Rng(0x5eed_0002);
    for (i, &(m, n, k)) in [(96, 96, 96), (64, 128, 64), (120, 64, 80), (48, 200, 33)]
        .iter()
        .enumerate()
    {
        for (gi, &geom) in GEOMS.iter().enumerate().take(4) {
            for grants in [Grants::Random(1), Grants::Random(3), Grants::Bursty(2)] {
                v.push(Case {
                    geom,
                    job: job(&mut rng, m, n, k),
                    info: StartInfo::default(),
                    rtl: (i + gi) % 5 == 4,
                    grants,
                    seed: rng.next_u64(),
                });
            }
        }
    }
    let (total, replayed) = check(&v, false);
    eprintln!("refusals: {replayed} of {total} cycles replayed");
    assert!(
        replayed * 10 > total,
        "only {replayed} of {total} cycles replayed"
    );
}

#[test]
fn outputs_taken_ahead_are_the_cycles_outputs() {
    // The engine's run ahead takes a replayed period's outputs in runs (`replay_ahead`,
    // `replay_skip`): random shapes and the long refused ones, runs of random length, ending
    // at refused requests.
    let mut cs = cases(80, 0x5eed_0004);
    let mut rng = Rng(0x5eed_0005);
    for &(m, n, k) in &[(96, 96, 96), (128, 128, 128), (120, 64, 80)] {
        for grants in [Grants::Always, Grants::Random(2), Grants::Bursty(3)] {
            cs.push(Case {
                geom: Geometry::REDMULE,
                job: job(&mut rng, m, n, k),
                info: StartInfo::default(),
                rtl: false,
                grants,
                seed: rng.next_u64(),
            });
        }
    }
    let (total, replayed) = check(&cs, true);
    eprintln!("ahead: {replayed} of {total} cycles replayed");
    assert!(
        replayed * 4 > total,
        "only {replayed} of {total} cycles replayed"
    );
}

#[test]
fn replay_across_row_blocks() {
    // Many row blocks and W column tiles: the periods of the last W tile of a row block and of
    // the first of the next are replayed from templates of other row blocks (the scheduler's
    // `y_cols_iter` / `y_rows_iter` comparisons a period does not read). N small enough that
    // `y_rows_iter` wraps (it counts to the W rows' limit, so the first-load comparison comes
    // back), K with and without a column leftover, N with and without a row leftover, under
    // every grant pattern.
    let mut v = Vec::new();
    let mut rng = Rng(0x5eed_0006);
    let mut shapes = vec![
        (200, 8, 64),
        (150, 4, 48),
        (170, 12, 40),
        (130, 6, 50),
        (260, 16, 33),
        (100, 24, 64),
    ];
    // And random ones: up to 25 row blocks, N up to 24, K up to 80.
    for _ in 0..30 {
        let d = |r: &mut Rng, lo: u64, span: u64| (lo + r.next_u64() % span) as u32;
        shapes.push((d(&mut rng, 90, 210), d(&mut rng, 1, 24), d(&mut rng, 1, 80)));
    }
    for (i, &(m, n, k)) in shapes.iter().enumerate() {
        for (gi, &geom) in GEOMS.iter().enumerate().take(3) {
            let grants = match (i + gi) % 3 {
                0 => Grants::Always,
                1 => Grants::Random(2),
                _ => Grants::Bursty(3),
            };
            v.push(Case {
                geom,
                job: job(&mut rng, m, n, k),
                info: StartInfo::default(),
                rtl: false,
                grants,
                seed: rng.next_u64(),
            });
        }
    }
    let (total, replayed) = check(&v, false);
    let (total_b, replayed_b) = check(&v, true);
    eprintln!(
        "row blocks: {replayed} of {total} cycles replayed ({replayed_b} of {total_b} batched)"
    );
    assert!(
        replayed * 4 > total,
        "only {replayed} of {total} cycles replayed"
    );
}
