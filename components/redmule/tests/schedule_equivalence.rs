//! Behavioural fingerprint of the schedule model: every case below runs [`Schedule`] cycle by
//! cycle (memory always granting, seeded random refusals, bursts of refusals; several
//! geometries, leftovers in M, N and K, FP8, misaligned bases, late ARITH writes, MATMUL, RTL
//! request retirement) and hashes everything observable in every cycle: the port request with
//! all its fields, the grant given back, the stall cause, the event, `now`, `is_drained`,
//! `deadlocked` and `finished`.
//!
//! The hashes in `data/schedule_equivalence.txt` were recorded from the schedule model as it was
//! verified against the RTL (before any speed work), so any change of behaviour, in any cycle
//! of any case, fails here. To record them again (only for an intended change of behaviour):
//! `REDMULE_EQUIV_RECORD=1 cargo test -p vp-redmule --test schedule_equivalence`.

use vp_redmule::schedule::{Geometry, JobShape, Schedule, Stall, StartInfo, Stream};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/schedule_equivalence.txt"
);

/// FNV-1a over 64-bit words.
struct Fnv(u64);
impl Fnv {
    fn add(&mut self, v: u64) {
        for b in v.to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[path = "common/xorshift.rs"]
mod xorshift;
use xorshift::{Refusals, Rng};

#[derive(Clone, Copy, Debug)]
enum Grants {
    Always,
    /// Independent refusals with this percentage.
    Random(u64, u64),
    /// Runs of refusals (two-state chain) with this share, seeded.
    Bursty(u64, u64),
}

struct Case {
    name: String,
    geom: Geometry,
    job: JobShape,
    info: StartInfo,
    rtl: bool,
    grants: Grants,
}

fn job(m: u32, n: u32, k: u32, eb: u32, skew: u32) -> JobShape {
    let x = skew;
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

fn stream_code(s: Stream) -> u64 {
    match s {
        Stream::X => 1,
        Stream::W => 2,
        Stream::Y => 3,
        Stream::Z => 4,
    }
}

fn stall_code(s: Option<Stall>) -> u64 {
    match s {
        None => 0,
        Some(Stall::WMissing) => 1,
        Some(Stall::XNotFull) => 2,
        Some(Stall::YMissing) => 3,
        Some(Stall::Other(w)) => 4 + w.len() as u64,
    }
}

/// Runs one case; returns (hash, cycles run, outcome code).
fn run(c: &Case) -> (u64, u64, &'static str) {
    let mut s = Schedule::new(c.geom, c.job, c.info)
        .expect("valid case")
        .with_rtl_request_retirement(c.rtl);
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    let (rng, pct, bursty) = match c.grants {
        Grants::Always => (Rng(1), 0, false),
        Grants::Random(seed, pct) => (Rng(0x9e37_79b9_7f4a_7c15 ^ seed), pct, false),
        Grants::Bursty(seed, pct) => (Rng(0xd1b5_4a32_d192_ed03 ^ seed), pct, true),
    };
    let mut memory = Refusals::new(rng, pct, bursty);
    let macs = u64::from(c.job.m) * u64::from(c.job.n.next_multiple_of(4)) * u64::from(c.job.k);
    let cap = 4000 + 40 * macs / u64::from(c.geom.rows * c.geom.cols);
    let mut granted = true;
    let outcome = loop {
        let t = s.now();
        h.add(t);
        if t > cap {
            break "cap";
        }
        if s.deadlocked() {
            break "deadlock";
        }
        let o = s.cycle(granted);
        h.add(u64::from(granted));
        match o.req {
            None => h.add(0),
            Some(a) => {
                h.add(1);
                h.add(u64::from(a.addr));
                h.add(u64::from(a.byte_addr));
                h.add(u64::from(a.write));
                h.add(stream_code(a.stream));
                h.add(u64::from(a.tile_m));
                h.add(u64::from(a.tile_k));
                h.add(u64::from(a.row));
                h.add(u64::from(a.chunk));
                h.add(u64::from(a.bytes));
            }
        }
        h.add(stall_code(o.stall));
        h.add(u64::from(o.done));
        h.add(u64::from(s.is_drained()));
        h.add(u64::from(s.deadlocked()));
        h.add(u64::from(s.finished()));
        if s.is_drained() {
            break "drained";
        }
        granted = true;
        if o.req.is_some() && pct > 0 {
            granted = memory.grant();
        }
    };
    (h.0, s.now(), outcome)
}

fn cases() -> Vec<Case> {
    let geoms = [
        Geometry::REDMULE,
        Geometry {
            rows: 8,
            cols: 4,
            stages: 3,
        },
        Geometry {
            rows: 8,
            cols: 8,
            stages: 1,
        },
        Geometry {
            rows: 12,
            cols: 2,
            stages: 7,
        },
    ];
    // Leftovers in M, N and K, single and multi tile, the calibration shapes, RTL deadlocks.
    let shapes: &[(u32, u32, u32)] = &[
        (12, 16, 16),
        (48, 48, 48),
        (31, 32, 31),
        (24, 17, 32),
        (5, 32, 3),
        (13, 5, 1),
        (13, 4, 4),
        (16, 16, 16),
        (25, 33, 17),
        (36, 16, 48),
        (40, 5, 20),
        (1, 1, 1),
        (7, 3, 40),
        (20, 70, 9),
        (33, 20, 33),
        (24, 4, 32),
        (64, 64, 64),
        (17, 31, 47),
        (96, 96, 96),
        (128, 128, 128),
    ];
    let mut v = Vec::new();
    for (gi, &g) in geoms.iter().enumerate() {
        for (si, &(m, n, k)) in shapes.iter().enumerate() {
            if gi > 0 && m * n * k > 40_000 {
                continue;
            }
            let grants: Vec<Grants> = if gi == 0 {
                vec![
                    Grants::Always,
                    Grants::Random(si as u64, 10),
                    Grants::Random(si as u64 + 100, 40),
                    Grants::Bursty(si as u64, 30),
                ]
            } else {
                vec![
                    Grants::Always,
                    Grants::Random(si as u64 + 7, 20),
                    Grants::Bursty(si as u64 + 7, 25),
                ]
            };
            for gr in grants {
                for rtl in [false, true] {
                    if rtl && gi > 0 && !matches!(gr, Grants::Always | Grants::Random(..)) {
                        continue;
                    }
                    v.push(Case {
                        name: format!(
                            "g{}x{}x{} {m}x{n}x{k} {gr:?} rtl={rtl}",
                            g.rows, g.cols, g.stages
                        ),
                        geom: g,
                        job: job(m, n, k, 2, 0),
                        info: StartInfo::default(),
                        rtl,
                        grants: gr,
                    });
                }
            }
        }
    }
    // FP8, misaligned bases, late ARITH writes, MATMUL (single tile; multi tile deadlocks).
    let extra: &[(u32, u32, u32, u32, u32, u32, bool)] = &[
        (24, 17, 32, 1, 0, 1, true),
        (31, 32, 31, 1, 3, 1, true),
        (31, 32, 31, 2, 2, 1, true),
        (25, 33, 17, 2, 6, 5, true),
        (12, 16, 16, 2, 0, 20, true),
        (12, 16, 16, 2, 0, 40, true),
        (12, 16, 16, 2, 0, 1, false),
        (10, 13, 7, 1, 0, 1, false),
        (36, 16, 48, 2, 0, 12, false),
    ];
    for (i, &(m, n, k, eb, skew, a2t, y)) in extra.iter().enumerate() {
        for gr in [Grants::Always, Grants::Random(1000 + i as u64, 25)] {
            v.push(Case {
                name: format!("extra {m}x{n}x{k} eb={eb} skew={skew} a2t={a2t} y={y} {gr:?}"),
                geom: Geometry::REDMULE,
                job: job(m, n, k, eb, skew),
                info: StartInfo {
                    arith_to_trigger: a2t,
                    reads_y: y,
                },
                rtl: false,
                grants: gr,
            });
        }
    }
    v
}

#[test]
fn schedule_behaviour_matches_the_recorded_fingerprints() {
    let got: Vec<String> = cases()
        .iter()
        .map(|c| {
            let (h, t, o) = run(c);
            format!("{h:016x} {t} {o} {}", c.name)
        })
        .collect();
    if std::env::var_os("REDMULE_EQUIV_RECORD").is_some() {
        std::fs::create_dir_all(std::path::Path::new(DATA).parent().unwrap()).unwrap();
        std::fs::write(DATA, got.join("\n") + "\n").unwrap();
        return;
    }
    let want = std::fs::read_to_string(DATA).expect("recorded fingerprints");
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(want.len(), got.len(), "number of cases changed");
    let bad: Vec<String> = want
        .iter()
        .zip(&got)
        .filter(|(w, g)| w != g)
        .map(|(w, g)| format!("want {w}\n got {g}"))
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} cases differ:\n{}",
        bad.len(),
        got.len(),
        bad.join("\n")
    );
}
