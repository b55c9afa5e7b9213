//! Alone grants (`Port::request_alone`) against the ordinary pass, differentially.
//!
//! An initiator that knows nothing else can compete with it before its horizon may take
//! its grant at once instead of posting and waiting for the interconnect's pass; the
//! interconnect must then answer, and change its state and statistics, exactly as that
//! pass would have. Each case runs the same random scripts twice, once posting every
//! request ahead (dated for its cycle, the ordinary way) and once taking alone grants
//! wherever the horizon allows, and compares every grant, the statistics and the memory.
//! The scripts are sparse enough that initiators are often alone, dense enough that they
//! also meet (then the horizon forbids alone grants), and the guard settings include a
//! saturated pinned counter (the one case where a lone request is refused).

mod common;

use common::*;
use vp_interconnect::{HciVariant, InterconnectConfig};

use vp_kernel::testkit::XorShift as Rng;

type Scripts = (
    Vec<Vec<(u64, NarrowReqT)>>,
    Vec<Vec<(u64, vp_kernel::port::WideReq)>>,
);
type NarrowReqT = vp_kernel::port::NarrowReq;

fn scripts(r: &mut Rng) -> Scripts {
    let narrow = (0..1 + r.below(3))
        .map(|_| {
            let mut t = r.below(20);
            (0..20 + r.below(40))
                .map(|k| {
                    // bursts of back-to-back requests separated by quiet stretches
                    t += if r.below(4) == 0 { 5 + r.below(60) } else { 0 };
                    let a = at(r.below(16) as u32, r.below(8) as u32);
                    let q = if r.below(3) == 0 {
                        wr(
                            a,
                            (k as u32) << 8 | r.below(256) as u32,
                            1 + r.below(15) as u8,
                        )
                    } else {
                        rd(a)
                    };
                    (t, q)
                })
                .collect()
        })
        .collect();
    let wide = (0..r.below(2))
        .map(|_| {
            let mut t = r.below(40);
            (0..10 + r.below(30))
                .map(|k| {
                    t += if r.below(3) == 0 { 5 + r.below(80) } else { 0 };
                    let a = at(r.below(16) as u32, r.below(8) as u32);
                    let q = if r.below(2) == 0 {
                        let d: Vec<u32> = (0..9).map(|i| (k << 16 | i) as u32).collect();
                        wide_wr(a, &d, r.next_u64() & 0xF_FFFF_FFFF)
                    } else {
                        wide_rd(a)
                    };
                    (t, q)
                })
                .collect()
        })
        .collect();
    (narrow, wide)
}

/// Every grant of every initiator, the statistics and the TCDM after a run.
fn run(
    cfg: InterconnectConfig,
    s: &Scripts,
    alone: bool,
) -> (Vec<Vec<Grant>>, String, Vec<u32>, u64) {
    let mut b = Bench::new(cfg);
    let mut logs = Vec::new();
    for reqs in &s.0 {
        logs.push(if alone {
            b.narrow_alone(reqs.clone())
        } else {
            b.narrow_ahead(reqs.clone())
        });
    }
    for reqs in &s.1 {
        logs.push(if alone {
            b.wide_alone(reqs.clone())
        } else {
            b.wide_ahead(reqs.clone())
        });
    }
    b.run();
    let stats = format!("{:?}", b.ic.stats_raw().unwrap());
    let t = b.ic.tcdm();
    let mem = (0..16 * 8).map(|w| t.read_word(B + 4 * w)).collect();
    (
        logs.iter().map(|l| l.borrow().clone()).collect(),
        stats,
        mem,
        b.alone_taken.get(),
    )
}

#[test]
fn alone_grants_change_nothing() {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut taken, mut total) = (0, 0);
    for case in 0..300 {
        let cfg = InterconnectConfig {
            variant: if r.below(3) == 0 {
                HciVariant::V2_4
            } else {
                HciVariant::Pinned
            },
            max_stall: [0, 1, 2, 4][r.below(4) as usize],
            invert_prio: r.below(3) == 0,
            ..InterconnectConfig::default()
        };
        let s = scripts(&mut r);
        let plain = run(cfg, &s, false);
        let alone = run(cfg, &s, true);
        assert_eq!(plain.0, alone.0, "case {case}: grants differ ({cfg:?})");
        assert_eq!(plain.1, alone.1, "case {case}: statistics differ ({cfg:?})");
        assert_eq!(plain.2, alone.2, "case {case}: memory differs ({cfg:?})");
        assert_eq!(plain.3, 0);
        taken += alone.3;
        total += alone.0.iter().map(|l| l.len() as u64).sum::<u64>();
    }
    // The comparison means something only if many grants were alone grants, and not all.
    assert!(
        taken * 4 > total && taken < total,
        "{taken} of {total} grants alone"
    );
    eprintln!("{taken} of {total} grants were alone grants");
}

#[test]
fn a_lone_request_under_a_saturated_pinned_counter_is_left_to_the_pass() {
    // Pinned guard, max_stall = 1. Cycle 10: the narrow side reads bank 0 and the wide
    // side banks 4..=12, disjoint, so both are granted, but both sides requested: the
    // counter becomes 1 (hci_arbiter.sv @2a5a508 counts cycles with hs_req_d & ls_req_d).
    // Cycle 11: the narrow read of bank 1 is alone, yet the counter (1 >= 1) suppresses
    // the high side: refused, counter back to 0; granted in 12. Its alone grant must see
    // this and decline, or it would be granted in 11. A read alone in 20 instead finds
    // the counter cleared by the cycles without requests in between (the RTL clears it in
    // every cycle in which the two sides do not both request): granted in 20, alone.
    for alone in [false, true] {
        for (at_cycle, want, taken) in [(11, 12, 0), (20, 20, alone as u64)] {
            let cfg = InterconnectConfig {
                max_stall: 1,
                ..InterconnectConfig::default()
            };
            let mut b = Bench::new(cfg);
            // (the wide initiator ticks first, so that in cycle 11, where the narrow one
            // collects its first grant, nothing else is awake and its horizon is open)
            let w = b.wide_ahead(vec![(10, wide_rd(at(4, 0)))]);
            let reqs = vec![(10, rd(at(0, 0))), (at_cycle, rd(at(1, 0)))];
            let n = if alone {
                b.narrow_alone(reqs)
            } else {
                b.narrow_ahead(reqs)
            };
            b.run();
            assert_eq!(granted(&n), vec![10, want], "alone = {alone}");
            assert_eq!(granted(&w), vec![10]);
            // (in 11 the alone grant is offered and declines)
            assert_eq!(b.alone_taken.get(), taken, "alone = {alone}, at {at_cycle}");
        }
    }
}

#[test]
fn a_run_of_alone_grants_is_the_grants_one_by_one() {
    // `Port::request_alone_discard_run` (RedMulE's replayed loads) against the same
    // requests offered one by one with `request_alone_discard`: the same number granted,
    // statistics and memory, under every guard setting, with reads and writes, runs
    // reaching past the TCDM window (declined from there on) and a saturated pinned counter
    // in front (the whole run declined).
    let mut r = Rng(0x5eed_a10e);
    for case in 0..200 {
        let cfg = InterconnectConfig {
            variant: if r.below(3) == 0 {
                HciVariant::V2_4
            } else {
                HciVariant::Pinned
            },
            max_stall: [0, 1, 4][r.below(3) as usize],
            invert_prio: r.below(2) == 0,
            ..InterconnectConfig::default()
        };
        let proto = if r.below(3) == 0 {
            let d: Vec<u32> = (0..9).map(|i| 0xA000 + i).collect();
            wide_wr(at(0, 0), &d, 0xF_FFFF_FFFF)
        } else {
            wide_rd(at(0, 0))
        };
        let mut c = 30;
        let run: Vec<(u64, u32)> = (0..1 + r.below(20))
            .map(|_| {
                c += 1 + r.below(3);
                // mostly inside the TCDM, sometimes past the cluster's TCDM window
                let a = if r.below(15) == 0 {
                    B + 0x10_0000 + 4 * r.below(64) as u32
                } else {
                    at(r.below(16) as u32, r.below(8) as u32)
                };
                (c, a)
            })
            .collect();
        // a saturated pinned counter first: a conflict cycle the pass counts
        let saturate = r.below(4) == 0;
        let mut outcome = Vec::new();
        for as_run in [false, true] {
            let mut b = Bench::new(cfg);
            let w = b.ic.wide_port().unwrap();
            if saturate {
                b.narrow_ahead(vec![(10, rd(at(5, 0)))]);
                b.wide_ahead(vec![(10, wide_rd(at(5, 1)))]);
            }
            b.run();
            let n = if as_run {
                w.request_alone_discard_run(&proto, &run)
            } else {
                let mut n = 0;
                for &(c, a) in &run {
                    let mut q = proto;
                    q.addr = a;
                    if !w.request_alone_discard(c, &q) {
                        break;
                    }
                    n += 1;
                }
                n
            };
            let stats = format!("{:?}", b.ic.stats_raw().unwrap());
            let t = b.ic.tcdm();
            let mem: Vec<u32> = (0..16 * 8).map(|k| t.read_word(B + 4 * k)).collect();
            outcome.push((n, stats, mem));
        }
        assert_eq!(
            outcome[0], outcome[1],
            "case {case} ({cfg:?}, run {run:x?})"
        );
    }
}
