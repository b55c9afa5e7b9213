//! The RedMulE timing model against the RTL measurements of
//! `shared/reference/pulp-cluster.md` section 7 and the per-cycle traces in
//! `shared/reference/rtl-traces/`.

use vp_redmule::schedule::{
    run_with, Geometry, JobShape, RunSummary, Schedule, Stall, StartInfo, Stream,
};

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

#[path = "common/xorshift.rs"]
mod xorshift;
use xorshift::{Refusals, Rng};

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

/// Replays `rtl-traces/<name>`: every port request, stall and the event must be in the same
/// cycle, in the same order, at the same address.
fn replay(name: &str, m: u32, n: u32, k: u32, x: u32, w: u32, z: u32) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/rtl-traces/"
    );
    let Ok(text) = std::fs::read_to_string(format!("{path}{name}")) else {
        println!("skipping {name}: {path}{name} not found");
        return;
    };
    let mut trigger = None;
    let mut expected = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 2 {
            continue;
        }
        let cyc: u64 = f[0].parse().expect("cycle");
        match f[1] {
            "P" if f[2] == "00000000" => trigger = Some(cyc),
            "P" => {}
            "R" | "W" => {
                assert_eq!(
                    f[3], "1",
                    "the traces were taken with the memory always granting"
                );
                expected.push(format!("{cyc} {} {}", f[1], f[2]));
            }
            "STALL" | "EVT" => expected.push(format!("{cyc} {}", f[1])),
            other => panic!("unknown record {other}"),
        }
        if f[1] == "EVT" {
            break;
        }
    }
    let t0 = trigger.expect("TRIGGER write in trace");
    let j = JobShape {
        m,
        n,
        k,
        x,
        w,
        z,
        elem_bytes: 2,
    };
    let mut s = Schedule::new(Geometry::REDMULE, j, StartInfo::default()).unwrap();
    let mut got = Vec::new();
    loop {
        let t = s.now() + t0;
        let o = s.cycle(true);
        if let Some(a) = o.req {
            got.push(format!(
                "{t} {} {:08x}",
                if a.write { "W" } else { "R" },
                a.addr
            ));
        }
        if o.stall.is_some() {
            got.push(format!("{t} STALL"));
        }
        if o.done {
            got.push(format!("{t} EVT"));
            break;
        }
        assert!(t < 1_000_000);
    }
    for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
        assert_eq!(e, g, "{name}: record {i} differs");
    }
    assert_eq!(expected.len(), got.len(), "{name}: number of records");
}

#[test]
fn rtl_trace_12x16x16_replays_exactly() {
    replay("12x16x16.trace.txt", 12, 16, 16, 0, 384, 896);
}

#[test]
fn rtl_trace_24x20x33_replays_exactly() {
    // N = 20 and K = 33 exercise all leftovers and unaligned rows (K * 2 = 66 bytes).
    replay("24x20x33.trace.txt", 24, 20, 33, 0, 960, 2304);
}

#[test]
fn shapes_the_rtl_deadlocks_on_are_reported() {
    // Under Verilator the RTL (51cd064) never raises the event on these shapes (memory always
    // granting): 13x5x1 (X buffer loads a 13th row past its 1-row leftover block), and N <= 4
    // with several output tiles.
    for (m, n, k) in [(13, 5, 1), (24, 4, 17), (1, 1, 17)] {
        let mut s = Schedule::new(Geometry::REDMULE, job(m, n, k), StartInfo::default()).unwrap();
        let r = run_with(&mut s, 1_000_000, |_, _| true);
        assert!(r.is_err(), "{m}x{n}x{k}");
        assert!(s.deadlocked(), "{m}x{n}x{k}");
    }
}

#[test]
fn misaligned_bases_cost_nothing() {
    // The port realigns inside its 288-bit beat (hci_core_source/sink with MISALIGNED_ACCESSES):
    // same cycles and accesses; the port address is the word-aligned one.
    for (m, n, k) in [(12, 16, 16), (31, 32, 31), (24, 17, 32), (5, 32, 3)] {
        let a = job(m, n, k);
        let b = JobShape {
            x: a.x + 2,
            w: a.w + 6,
            z: a.z + 10,
            ..a
        };
        let ra = run(a);
        let rb = run(b);
        assert_eq!(ra, rb, "{m}x{n}x{k}");
        let mut s = Schedule::new(Geometry::REDMULE, b, StartInfo::default()).unwrap();
        run_with(&mut s, 1_000_000, |_, acc| {
            assert_eq!(acc.addr % 4, 0);
            assert_eq!(acc.addr, acc.byte_addr & !3);
            true
        })
        .unwrap();
    }
}

#[test]
fn fp8_takes_the_fp16_schedule_with_packed_addresses() {
    for (m, n, k) in [(12, 16, 16), (31, 32, 31), (24, 17, 32), (48, 48, 48)] {
        let f16 = job(m, n, k);
        let f8 = JobShape {
            x: 0,
            w: m * n,
            z: m * n + n * k,
            elem_bytes: 1,
            ..f16
        };
        let mut a = Schedule::new(Geometry::REDMULE, f16, StartInfo::default()).unwrap();
        let mut b = Schedule::new(Geometry::REDMULE, f8, StartInfo::default()).unwrap();
        let (mut ga, mut gb) = (true, true);
        loop {
            let oa = a.cycle(ga);
            let ob = b.cycle(gb);
            ga = true;
            gb = true;
            assert_eq!(oa.done, ob.done);
            assert_eq!(oa.stall, ob.stall);
            assert_eq!(oa.req.is_some(), ob.req.is_some());
            if let (Some(x), Some(y)) = (oa.req, ob.req) {
                assert_eq!(
                    (x.stream, x.write, x.row, x.tile_m, x.tile_k),
                    (y.stream, y.write, y.row, y.tile_m, y.tile_k)
                );
                // FP8 is packed one byte per element: every offset halves.
                let base16 = match x.stream {
                    Stream::X => f16.x,
                    Stream::W => f16.w,
                    _ => f16.z,
                };
                let base8 = match y.stream {
                    Stream::X => f8.x,
                    Stream::W => f8.w,
                    _ => f8.z,
                };
                assert_eq!(y.byte_addr - base8, (x.byte_addr - base16) / 2);
                assert_eq!(y.bytes * 2, x.bytes);
            }
            if oa.done {
                break;
            }
        }
    }
}

#[test]
fn the_start_up_follows_the_arith_write() {
    // The tiler starts on ARITH (34 cycles to its valid), the controller needs the TRIGGER
    // (4 cycles through hwpe_ctrl_slave): the first request comes 3 cycles after STARTING.
    for (d, first) in [(1u64, 37u64), (10, 28), (29, 9), (30, 8), (100, 8)] {
        let start = StartInfo {
            arith_to_trigger: d as u32,
            ..StartInfo::default()
        };
        let mut s = Schedule::new(Geometry::REDMULE, job(12, 16, 16), start).unwrap();
        let mut t_first = None;
        let mut t_done = None;
        while t_done.is_none() {
            let t = s.now();
            let o = s.cycle(true);
            if o.req.is_some() && t_first.is_none() {
                t_first = Some(t);
            }
            if o.done {
                t_done = Some(t);
            }
        }
        assert_eq!(t_first, Some(first), "ARITH {d} cycles before TRIGGER");
        assert_eq!(t_done.unwrap() - t_first.unwrap(), 170 - 37);
    }
}

/// Accesses of a job from the loop structure of `redmule_memory_scheduler.sv`:
/// R = ceil(M/12) row blocks, C = ceil(K/16) column blocks, Xc = ceil(N/16) X chunks,
/// Np = N rounded up to 4 (W rows; a padded row still costs its slot).
/// - X: for every (row block, column block), every chunk, one read per valid X row: C * Xc * M.
/// - W: the whole padded W once per row block, column block after column block: R * C * Np.
/// - Y and Z: 12 rows per output tile, whatever M is: 12 * R * C each.
fn expected_accesses(m: u32, n: u32, k: u32) -> (u64, u64) {
    let (r, c, xc) = (
        m.div_ceil(12) as u64,
        k.div_ceil(16) as u64,
        n.div_ceil(16) as u64,
    );
    let np = n.div_ceil(4) as u64 * 4;
    (c * xc * m as u64 + r * c * np + 12 * r * c, 12 * r * c)
}

#[test]
fn accesses_follow_the_loop_structure() {
    let mut checked = 0;
    for m in [12u32, 13, 20, 24, 25, 37, 48, 60] {
        for n in [5u32, 8, 9, 16, 17, 31, 33, 48, 70] {
            for k in [1u32, 15, 16, 17, 33, 50] {
                let mut s =
                    Schedule::new(Geometry::REDMULE, job(m, n, k), StartInfo::default()).unwrap();
                let Ok(r) = run_with(&mut s, 1_000_000, |_, _| true) else {
                    // a corner shape on which the RTL deadlocks too
                    assert!(s.deadlocked());
                    continue;
                };
                let (reads, writes) = expected_accesses(m, n, k);
                let tiles = m.div_ceil(12) * k.div_ceil(16);
                assert_eq!(r.writes, writes, "{m}x{n}x{k}");
                if tiles > 1 {
                    assert_eq!(r.reads, reads, "{m}x{n}x{k}");
                } else {
                    // Single tile: Y (and X when it ends early) is read again while the
                    // controller's first_load holds.
                    assert!(
                        r.reads >= reads + 12 && r.reads <= reads + 12 + m as u64,
                        "{m}x{n}x{k}"
                    );
                }
                // The array needs at least 4 cycles per padded W row per tile.
                let np = n.div_ceil(4) as u64 * 4;
                assert!(r.cycles >= 4 * np * tiles as u64, "{m}x{n}x{k}");
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "{checked}");
}

#[test]
fn geometry_parameters_change_the_schedule() {
    // Same job on arrays of other shapes (RTL parameters ARRAY_WIDTH, ARRAY_HEIGHT, PIPE_REGS
    // with the 256-bit word kept: H * (P + 1) = 16).
    let j = job(48, 48, 48);
    let base = run(j);
    for g in [
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
    ] {
        let mut s = Schedule::new(g, j, StartInfo::default()).unwrap();
        let r = run_with(&mut s, 1_000_000, |_, _| true).unwrap();
        assert_ne!(r.cycles, base.cycles, "{g:?}");
        let blocks = 48u64.div_ceil(g.rows as u64);
        assert_eq!(r.writes, g.rows as u64 * blocks * 3, "{g:?}");
    }
    assert!(Schedule::new(
        Geometry {
            rows: 13,
            cols: 4,
            stages: 3
        },
        j,
        StartInfo::default()
    )
    .is_err());
}

/// Replays a refusal pattern recorded on the RTL (Verilator, 51cd064; cycles numbered as in
/// `rtl-traces`, TRIGGER at 36) with the model reproducing the RTL's request retirement.
fn replay_refusals(m: u32, n: u32, k: u32, refused: &[u64], rtl: bool) -> (Option<u64>, u64, u64) {
    let mut s = Schedule::new(Geometry::REDMULE, job(m, n, k), StartInfo::default())
        .unwrap()
        .with_rtl_request_retirement(rtl);
    let (mut granted, mut reads, mut writes) = (true, 0, 0);
    loop {
        let t = s.now() + 36;
        let o = s.cycle(granted);
        granted = true;
        if let Some(a) = o.req {
            granted = !refused.contains(&t);
            if granted && a.write {
                writes += 1;
            } else if granted {
                reads += 1;
            }
        }
        if o.done {
            return (Some(t), reads, writes);
        }
        if s.deadlocked() || t > 100_000 {
            return (None, reads, writes);
        }
    }
}

#[test]
fn rtl_refusal_patterns_replay_exactly() {
    // 12x16x16, 30 % of the cycles refused (seed 1): RTL event at 222, 64 reads, 12 writes.
    let p1 = [
        79, 80, 89, 90, 91, 92, 101, 102, 103, 104, 106, 109, 111, 112, 123, 124, 132, 133, 138,
        139, 146, 147, 149, 152, 153, 157, 158, 162, 163, 170, 208, 212,
    ];
    assert_eq!(replay_refusals(12, 16, 16, &p1, true), (Some(222), 64, 12));
    // 24x17x32, 20 % (seed 1): RTL event at 513 with the last store granted in that cycle.
    let p2 = [
        80, 90, 91, 102, 103, 104, 106, 109, 111, 124, 132, 133, 139, 146, 149, 152, 153, 157, 158,
        169, 170, 184, 187, 189, 190, 191, 197, 198, 199, 200, 212, 225, 244, 248, 263, 283, 288,
        290, 302, 311, 331, 333, 335, 336, 342, 343, 365, 366, 368, 371, 372, 374, 381, 383, 384,
        387, 389, 396, 398, 399, 403, 406, 420, 425, 429, 431, 435, 437, 439, 444, 445, 507, 510,
        511, 512,
    ];
    assert_eq!(replay_refusals(24, 17, 32, &p2, true), (Some(513), 224, 48));
    // 96^3 with a single refusal at cycle 125: the RTL retires the refused X request and its
    // port multiplexer locks up for good (51 reads, then silence). The default model holds the
    // request and completes one cycle later than without the refusal.
    assert_eq!(replay_refusals(96, 96, 96, &[125], true), (None, 51, 0));
    let (evt, reads, writes) = replay_refusals(96, 96, 96, &[125], false);
    assert_eq!((reads, writes), (8640, 576));
    assert!(evt.unwrap() - 36 <= 18541);
}

#[test]
fn refused_stores_of_the_next_to_last_block_no_longer_deadlock() {
    // Refusals seen by 16x16x16 under two random narrow-port traffic generators (the VP's
    // interconnect, cycles numbered as in `rtl-traces`). The stores of the first row block are
    // refused so often that the last block's results are shifted into the Z buffer while it is
    // still Pushed; the Z buffer used to drop that block and the job deadlocked (no request for
    // 1024 cycles after the 12th store). Hold-until-grant now pushes the block once the previous
    // one is stored.
    let refused = [
        74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 86, 87, 91, 92, 94, 95, 96, 97, 100, 103, 104,
        105, 107, 108, 109, 110, 112, 113, 114, 116, 117, 118, 119, 120, 121, 122, 124, 125, 126,
        128, 129, 130, 133, 134, 135, 136, 137, 138, 139, 142, 143, 144, 145, 146, 147, 149, 150,
        152, 153, 154, 155, 156, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 170, 171, 172,
        173, 175, 176, 177, 178, 179, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 192, 193,
        194, 195, 196, 197, 198, 199, 201, 203, 205, 206, 207, 209, 210, 211, 212, 213, 214, 215,
        216, 217, 218, 219, 220, 221, 222, 223, 224, 226, 227, 228, 229, 230, 231, 232, 233, 234,
        235, 236, 237, 238, 240, 243, 244, 245, 246, 247, 248, 249, 251, 253, 254, 256, 258, 260,
        261, 262, 265, 266, 267, 268, 269, 271, 272, 273, 274, 275, 277, 278, 279, 280, 281, 282,
        283, 284, 285, 286, 287, 288, 289, 290, 291, 294, 297, 299, 300, 302, 304, 305, 306, 307,
        309, 311, 312, 313, 314, 317, 318, 319, 320, 321, 322, 324, 325, 328, 329, 331, 332, 333,
        334, 335, 338, 339, 341, 342, 343, 345, 348, 349, 350, 351, 353, 354, 355, 356, 357, 358,
        359, 360, 361, 362, 363, 365, 366, 367, 368, 371, 373, 374, 375, 376, 377, 378, 379, 382,
        384, 385, 386, 387, 388, 389, 390, 391, 393, 394, 395, 396, 397, 399, 400, 401, 402, 404,
        406, 407, 408, 409, 410, 411, 412, 413, 414, 416, 417, 418, 419, 420, 421, 422, 423, 424,
        425, 426, 427, 428, 430, 431, 433, 435, 436, 437, 438, 439, 440, 442, 443, 444, 445, 446,
        447, 448, 451, 452, 453, 454, 455, 456, 457, 458, 459, 460, 461,
    ];
    let (evt, reads, writes) = replay_refusals(16, 16, 16, &refused, false);
    assert!(
        evt.is_some(),
        "deadlocked after {reads} reads, {writes} writes"
    );
    let free = run(job(16, 16, 16));
    assert_eq!((reads, writes), (free.reads, free.writes));
    assert_eq!(writes, 24);
}

#[test]
fn seeded_random_refusals_never_lock_up_hold_until_grant() {
    // Many refusal patterns at 20 to 60 %, both independent per cycle and in bursts (long runs
    // of refused grants are what delays a block's stores past the next block's results), on
    // multi-tile shapes: every job completes with the same accesses as without refusals.
    let shapes = [
        (16, 16, 16),
        (24, 17, 32),
        (13, 4, 4),
        (25, 33, 17),
        (36, 16, 48),
        (40, 5, 20),
    ];
    for (m, n, k) in shapes {
        let free = run(job(m, n, k));
        assert_eq!(
            (free.reads, free.writes),
            expected_accesses(m, n, k),
            "{m}x{n}x{k}"
        );
        for seed in 0..48u64 {
            let pct = 20 + seed % 41;
            let bursty = seed % 2 == 1;
            let rng = Rng(0xd1b5_4a32_d192_ed03 ^ (seed * 0x1_0000_0001 + u64::from(m)));
            let mut memory = Refusals::new(rng, pct, bursty);
            let mut s =
                Schedule::new(Geometry::REDMULE, job(m, n, k), StartInfo::default()).unwrap();
            let r = run_with(&mut s, 1_000_000, |_, _| memory.grant()).unwrap_or_else(|e| {
                panic!("{m}x{n}x{k} seed {seed} ({pct} %, bursty {bursty}): {e}")
            });
            assert_eq!(
                (r.reads, r.writes),
                (free.reads, free.writes),
                "{m}x{n}x{k} seed {seed} ({pct} %, bursty {bursty})"
            );
            assert!(r.cycles >= free.cycles, "{m}x{n}x{k} seed {seed}");
        }
    }
}

/// 8 x 8 x 1: ARRAY_WIDTH 8, ARRAY_HEIGHT 8, PIPE_REGS 1.
const G8X8X1: Geometry = Geometry {
    rows: 8,
    cols: 8,
    stages: 1,
};

/// Runs a job on 8 x 8 x 1 refusing the port requests of the cycles in `refused` (numbered as
/// in `rtl-traces`): (event cycle, granted reads, granted writes, cycle of the last request,
/// first cycle of the final run of stalls and its causes, empty if the last cycle does not stall).
fn replay_8x8x1(
    (m, n, k): (u32, u32, u32),
    refused: &[u64],
    rtl: bool,
) -> (Option<u64>, u64, u64, u64, u64, Vec<Stall>) {
    let mut s = Schedule::new(G8X8X1, job(m, n, k), StartInfo::default())
        .unwrap()
        .with_rtl_request_retirement(rtl);
    let (mut granted, mut reads, mut writes, mut last_req) = (true, 0, 0, 0);
    let (mut stall_from, mut causes) = (0, Vec::new());
    loop {
        let t = s.now() + 36;
        let o = s.cycle(granted);
        granted = true;
        if let Some(a) = o.req {
            last_req = t;
            granted = !refused.contains(&t);
            if granted && a.write {
                writes += 1;
            } else if granted {
                reads += 1;
            }
        }
        match o.stall {
            Some(c) => {
                if causes.is_empty() {
                    stall_from = t;
                }
                if !causes.contains(&c) {
                    causes.push(c);
                }
            }
            None => causes.clear(),
        }
        if o.done {
            return (Some(t), reads, writes, last_req, stall_from, causes);
        }
        if s.deadlocked() || t > 100_000 {
            return (None, reads, writes, last_req, stall_from, causes);
        }
    }
}

#[test]
fn bursts_of_refused_stores_deadlock_8x8x1_as_the_rtl_does() {
    // A run of refused grants (bursty, 25 %, the sweep example's seed 124) on 25x33x17 with
    // 8 x 8 x 1. Replayed on Verilator (51cd064 built with that geometry, a test bench refusing
    // exactly these cycles): the refused stores keep the Z buffer PUSHED until the next block's
    // Y push is running, the Y rows loaded next are ended by that push, and the RTL stalls from
    // cycle 859 on (stall_engine every cycle up to the 4000-cycle limit) after its last request
    // at 863, with 503 reads (154 X, 236 W, 113 Y) and 48 writes granted. The model's per-cycle
    // trace was identical in both request modes (see the module docs).
    let refused = [
        73, 74, 75, 76, 77, 78, 79, 80, 81, 87, 93, 94, 95, 96, 97, 98, 111, 112, 113, 114, 115,
        116, 124, 125, 126, 127, 128, 142, 143, 144, 145, 146, 147, 152, 153, 154, 155, 156, 157,
        158, 159, 167, 168, 169, 170, 199, 200, 201, 202, 211, 218, 219, 220, 240, 241, 255, 256,
        257, 258, 259, 263, 264, 265, 266, 284, 314, 315, 338, 339, 340, 341, 342, 343, 344, 359,
        362, 363, 364, 365, 366, 367, 381, 382, 412, 413, 414, 415, 417, 418, 419, 420, 421, 422,
        423, 424, 425, 426, 427, 428, 429, 447, 448, 449, 450, 451, 452, 453, 454, 455, 456, 457,
        460, 461, 467, 468, 481, 482, 483, 484, 490, 491, 492, 493, 494, 495, 496, 521, 522, 523,
        524, 525, 526, 527, 530, 531, 532, 533, 534, 535, 536, 537, 538, 539, 540, 541, 542, 589,
        590, 591, 592, 593, 594, 595, 596, 597, 598, 599, 600, 601, 602, 603, 604, 605, 606, 607,
        620, 621, 622, 623, 624, 628, 629, 630, 631, 632, 633, 634, 635, 636, 637, 638, 641, 642,
        643, 644, 645, 646, 724, 725, 796, 801, 802, 803, 804, 812, 836, 837, 838, 839, 840, 841,
        860,
    ];
    for rtl in [false, true] {
        let (evt, reads, writes, last_req, stall_from, causes) =
            replay_8x8x1((25, 33, 17), &refused, rtl);
        assert_eq!(evt, None, "rtl={rtl}");
        assert_eq!((reads, writes, last_req), (503, 48, 863), "rtl={rtl}");
        assert_eq!(stall_from, 859, "rtl={rtl}");
        assert_eq!(causes, [Stall::YMissing], "rtl={rtl}");
    }
    // Without refusals the same job completes (RTL: event at 768, as in the model).
    assert_eq!(replay_8x8x1((25, 33, 17), &[], false).0, Some(768));
    // The fault names the geometry, the shape and the refusals.
    let mut s = Schedule::new(G8X8X1, job(25, 33, 17), StartInfo::default()).unwrap();
    let err = run_with(&mut s, 100_000, |t, _| !refused.contains(&(t + 36))).unwrap_err();
    assert!(s.deadlocked());
    for part in ["RedMulE 8x8x1", "job 25x33x17", "Y rows", "refused grants"] {
        assert!(err.contains(part), "{part:?} not in {err:?}");
    }
    // A shape the RTL deadlocks on with the memory always granting is reported as such.
    let mut s = Schedule::new(Geometry::REDMULE, job(13, 5, 1), StartInfo::default()).unwrap();
    let err = run_with(&mut s, 1_000_000, |_, _| true).unwrap_err();
    assert!(
        err.contains("RedMulE 12x4x3") && err.contains("job 13x5x1"),
        "{err}"
    );
    assert!(err.contains("always granting"), "{err}");
}

#[test]
fn the_scheduler_is_reset_when_the_controller_finishes() {
    // 48x18x33 on 8 x 8 x 1 with 20 % of the requests refused (independent, the sweep example's
    // seed 72). Verilator (51cd064 with that geometry, a test bench refusing these cycles): the
    // array stalls in 1373 to 1375 (the scheduler in LOAD_W waits for X), the event comes at
    // 1376 without a stall (redmule_ctrl.sv's FINISHED state resets the scheduler), 856 reads
    // and 144 writes granted. The model used to keep stalling in the event cycle and after.
    let refused = [
        76, 77, 86, 88, 89, 90, 92, 105, 107, 108, 109, 110, 117, 129, 140, 141, 143, 146, 148,
        155, 159, 163, 169, 171, 176, 178, 193, 197, 209, 219, 222, 230, 236, 242, 245, 253, 255,
        257, 265, 267, 280, 281, 283, 298, 299, 302, 303, 305, 318, 319, 323, 330, 334, 338, 339,
        342, 343, 355, 366, 369, 371, 372, 376, 377, 378, 381, 385, 386, 387, 388, 397, 399, 402,
        405, 410, 411, 417, 420, 429, 433, 435, 442, 448, 451, 452, 455, 462, 476, 480, 484, 486,
        492, 506, 508, 509, 520, 525, 529, 531, 532, 533, 538, 543, 549, 550, 551, 556, 564, 568,
        571, 581, 592, 600, 602, 607, 610, 612, 616, 620, 622, 627, 630, 633, 634, 635, 636, 638,
        642, 644, 657, 661, 672, 674, 678, 681, 684, 688, 691, 697, 708, 711, 714, 716, 718, 720,
        737, 743, 744, 745, 748, 753, 755, 757, 762, 766, 769, 776, 781, 786, 787, 794, 799, 802,
        807, 809, 814, 820, 829, 841, 844, 851, 852, 855, 860, 865, 868, 877, 882, 888, 893, 915,
        926, 928, 933, 936, 937, 942, 944, 949, 955, 961, 968, 969, 971, 972, 977, 979, 981, 988,
        989, 991, 992, 994, 996, 1001, 1005, 1008, 1009, 1011, 1012, 1013, 1015, 1023, 1024, 1027,
        1029, 1031, 1039, 1040, 1043, 1045, 1048, 1049, 1052, 1055, 1058, 1063, 1078, 1081, 1085,
        1093, 1097, 1098, 1099, 1115, 1120, 1122, 1123, 1127, 1142, 1149, 1157, 1167, 1168, 1170,
        1173, 1175, 1177, 1178, 1189, 1194, 1199, 1204, 1212, 1219, 1223, 1227, 1230, 1232, 1233,
        1235, 1236, 1244, 1245, 1246, 1248, 1249, 1250, 1251, 1252, 1254, 1267, 1269, 1276, 1280,
        1288, 1290, 1292, 1296, 1301, 1303, 1318, 1320, 1323, 1329, 1330, 1331, 1332, 1339, 1349,
        1351, 1356, 1358, 1359, 1361, 1369,
    ];
    for rtl in [false, true] {
        let (evt, reads, writes, _, _, causes) = replay_8x8x1((48, 18, 33), &refused, rtl);
        assert_eq!((evt, reads, writes), (Some(1376), 856, 144), "rtl={rtl}");
        assert!(
            causes.is_empty(),
            "rtl={rtl}: stalls in the event cycle: {causes:?}"
        );
    }
    // After the event the scheduler stays idle: no stall until the last store has landed.
    let mut s = Schedule::new(G8X8X1, job(48, 18, 33), StartInfo::default()).unwrap();
    let (mut granted, mut after_evt) = (true, false);
    while !s.is_drained() {
        let t = s.now() + 36;
        let o = s.cycle(granted);
        after_evt |= o.done;
        assert!(
            !(after_evt && o.stall.is_some()),
            "stall at {t}, after the event"
        );
        granted = o.req.is_none() || !refused.contains(&t);
        assert!(t < 10_000);
    }
}
