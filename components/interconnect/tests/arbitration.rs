//! The memory system's rules, each with its expected cycles derived by hand.
//!
//! Conventions: one clock, cycle c at c ns. Scripted initiators present each request at the
//! later of its earliest cycle and the cycle after their previous grant (back-to-back), so
//! a stream that is always granted presents one request per cycle. Addresses use the
//! default TCDM (0x10000000, 128 KiB, 16 banks): `at(bank, row)`.

mod common;

use common::*;
use vp_interconnect::{HciVariant, InterconnectConfig};

fn cfg(f: impl FnOnce(&mut InterconnectConfig)) -> InterconnectConfig {
    let mut c = InterconnectConfig::default();
    f(&mut c);
    c
}

#[test]
fn two_initiators_on_one_bank_alternate_grants() {
    // Both present a read of bank 0 in cycle 0 and re-present in the cycle after each grant.
    // rr_arb_tree: rr_q = 0 after reset. c0: {0,1} request, rr_q = 0 requests -> grant 0,
    // rr_d = next requester after 0 = 1. c1: 0 re-presents, {0,1}, rr_q = 1 -> grant 1,
    // rr_d = 0. So the winners alternate 0,1,0,1,...: initiator 0 at even cycles, 1 at odd.
    let mut b = Bench::default_cfg();
    let a = b.narrow(burst(0, (0..6).map(|r| rd(at(0, r)))));
    let c = b.narrow(burst(0, (0..6).map(|r| rd(at(0, 10 + r)))));
    b.run();
    assert_eq!(granted(&a), vec![0, 2, 4, 6, 8, 10]);
    assert_eq!(granted(&c), vec![1, 3, 5, 7, 9, 11]);
    let s = b.ic.stats_raw().unwrap();
    // initiator 0 waits 0 then 1 cycle per request (5 x 1); initiator 1 waits 1 every time.
    assert_eq!(s.narrow[0].stall_cycles, 5);
    assert_eq!(s.narrow[1].stall_cycles, 6);
    assert_eq!(s.bank_accesses[0], 12);
    // 11 cycles with two requesters on bank 0 (cycle 11 has initiator 1 alone)
    assert_eq!(s.bank_conflicts[0], 11);
}

#[test]
fn eight_initiators_on_one_bank_are_granted_in_index_order() {
    // Reference: "Eight initiators on one bank are granted 0, 1, ..., 7, 0, ... one per
    // cycle". Every cycle all eight request (the winner re-presents at once); rr_q walks
    // 0..7 and wraps, so initiator i is granted at i, i + 8, i + 16.
    let mut b = Bench::default_cfg();
    let logs: Vec<Log> = (0..8)
        .map(|i| b.narrow(burst(0, (0..3).map(|r| rd(at(5, 8 * r + i))))))
        .collect();
    b.run();
    for (i, l) in logs.iter().enumerate() {
        let i = i as u64;
        assert_eq!(granted(l), vec![i, i + 8, i + 16], "initiator {i}");
    }
}

#[test]
fn eight_initiators_on_distinct_banks_never_stall() {
    // Each initiator keeps to its own bank: no bank ever has two requesters, every request
    // is granted in the cycle it is presented: 50 grants at cycles 0..49 each.
    let mut b = Bench::default_cfg();
    let logs: Vec<Log> = (0..8)
        .map(|i| b.narrow(burst(0, (0..50).map(|r| rd(at(i, r))))))
        .collect();
    b.run();
    let s = b.ic.stats_raw().unwrap();
    for (i, l) in logs.iter().enumerate() {
        assert_eq!(granted(l), (0..50).collect::<Vec<u64>>());
        assert_eq!(s.narrow[i].stall_cycles, 0);
        assert_eq!(s.narrow[i].wait_hist[0], 50);
        assert_eq!(s.bank_accesses[i], 50);
    }
    assert!(s.bank_conflicts.iter().all(|c| *c == 0));
    assert_eq!(s.active_cycles, 50);
}

#[test]
fn wide_access_waits_while_a_core_requests_any_of_its_nine_banks() {
    // Default priority (invert_prio = 0): the core side is high and wins every bank it
    // requests. The wide read at bank 0 drives banks 0..8. A core reads bank 8 in cycles
    // 0..4 (5 back-to-back requests), another core reads bank 9 (outside the set) in
    // cycles 0..9. The wide access needs all 9 banks: refused in 0..4, granted in 5.
    let mut b = Bench::default_cfg();
    let w = b.wide(vec![(0, wide_rd(at(0, 0)))]);
    let c8 = b.narrow(burst(0, (0..5).map(|r| rd(at(8, r)))));
    let c9 = b.narrow(burst(0, (0..10).map(|r| rd(at(9, r)))));
    b.run();
    assert_eq!(granted(&w), vec![5]);
    assert_eq!(granted(&c8), vec![0, 1, 2, 3, 4]);
    assert_eq!(granted(&c9), (0..10).collect::<Vec<u64>>());
    let s = b.ic.stats_raw().unwrap();
    assert_eq!(s.wide[0].stall_cycles, 5);
    assert_eq!(s.wide_wait_cycles, 5);
    assert_eq!(
        s.wide[0].wait_hist[4], 1,
        "a wait of 5 falls in the 5-8 bucket"
    );
    assert_eq!(s.guard_firings, 0);
}

#[test]
fn wide_access_outside_the_cores_banks_is_granted_at_once() {
    // Banks 0..8 for the wide port, bank 15 for the core: no common bank, the low side gets
    // every bank the high side does not request: both granted in cycle 0.
    let mut b = Bench::default_cfg();
    let w = b.wide(vec![(0, wide_rd(at(0, 0)))]);
    let c = b.narrow(vec![(0, rd(at(15, 0)))]);
    b.run();
    assert_eq!(granted(&w), vec![0]);
    assert_eq!(granted(&c), vec![0]);
}

/// A core hammering bank 0 (44 reads) against a wide stream of 4 reads on banks 0..8.
fn hammer_vs_wide(c: InterconnectConfig) -> (Vec<u64>, Vec<u64>, u64) {
    let mut b = Bench::new(c);
    let core = b.narrow(burst(0, (0..44).map(|r| rd(at(0, r)))));
    let w = b.wide(burst(0, (0..4).map(|r| wide_rd(at(0, 100 + r)))));
    b.run();
    let s = b.ic.stats_raw().unwrap();
    (granted(&w), granted(&core), s.guard_firings)
}

#[test]
fn pinned_guard_serves_the_wide_port_after_exactly_max_stall_conflict_cycles() {
    // Pinned hci_arbiter, max_stall M = 3. C = 0 at reset; C += 1 in each cycle where both
    // sides request, else 0; when C >= M the high side is suppressed and C restarts.
    // c0..c2: C = 0,1,2 < 3: core wins bank 0, wide refused (C -> 1,2,3).
    // c3: C = 3 >= 3: core suppressed, wide granted; C -> 0 (hs_req_d = 0).
    // c4..c6 refused again, c7 granted; so the wide port is granted at 3, 7, 11, 15: after
    // exactly M refused cycles each time. The core loses exactly those 4 cycles: its 44
    // reads end at cycle 43 + 4 = 47, with grants at every other cycle.
    let (w, core, fired) = hammer_vs_wide(cfg(|c| c.max_stall = 3));
    assert_eq!(w, vec![3, 7, 11, 15]);
    let expect: Vec<u64> = (0..48).filter(|c| ![3, 7, 11, 15].contains(c)).collect();
    assert_eq!(core, expect);
    assert_eq!(fired, 4);
}

#[test]
fn v2_4_guard_serves_the_wide_port_after_exactly_max_stall_conflict_cycles() {
    // v2.4 with max_stall 3 = (num 3, den 4). P advances in conflict cycles only and wraps
    // after den - 1. Here every cycle conflicts (bank 0): P = 0,1,2 < num: core wins;
    // P = 3 (num <= P < den) with a conflict: core suppressed, wide granted; P wraps to 0.
    // Same cycles as the pinned variant when every both-busy cycle is a conflict.
    let (w, _, fired) = hammer_vs_wide(cfg(|c| {
        c.variant = HciVariant::V2_4;
        c.max_stall = 3;
    }));
    assert_eq!(w, vec![3, 7, 11, 15]);
    assert_eq!(fired, 4);
}

#[test]
fn without_guard_the_wide_port_starves_until_the_cores_stop() {
    // max_stall 0: the core wins bank 0 in cycles 0..43; the wide reads go at 44..47.
    let (w, core, fired) = hammer_vs_wide(InterconnectConfig::default());
    assert_eq!(w, vec![44, 45, 46, 47]);
    assert_eq!(core, (0..44).collect::<Vec<u64>>());
    assert_eq!(fired, 0);
}

/// A core reading bank 12 (12 reads) beside a wide stream on banks 0..8 (20 reads): the
/// two sides never share a bank.
fn disjoint_streams(c: InterconnectConfig) -> (Vec<u64>, Vec<u64>, u64) {
    let mut b = Bench::new(c);
    let core = b.narrow(burst(0, (0..12).map(|r| rd(at(12, r)))));
    let w = b.wide(burst(0, (0..20).map(|r| wide_rd(at(0, 100 + r)))));
    b.run();
    let s = b.ic.stats_raw().unwrap();
    (granted(&w), granted(&core), s.guard_firings)
}

#[test]
fn pinned_guard_suppresses_the_cores_even_on_uncontested_banks() {
    // Pinned, M = 3: C counts cycles in which both sides request anything. c0..c2: both
    // granted (no common bank), C -> 1,2,3. c3: C >= 3: the high side is suppressed on ALL
    // banks: the core's bank 12 request is refused although nobody else wants bank 12; the
    // wide read is granted as always. C -> 0. Hence the core loses cycles 3, 7, 11 and its
    // 12 reads are granted at 0,1,2, 4,5,6, 8,9,10, 12,13,14; the wide port every cycle.
    let (w, core, fired) = disjoint_streams(cfg(|c| c.max_stall = 3));
    assert_eq!(w, (0..20).collect::<Vec<u64>>());
    assert_eq!(core, vec![0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14]);
    assert_eq!(fired, 3);
}

#[test]
fn v2_4_guard_ignores_cycles_without_a_bank_conflict() {
    // v2.4, M = 3: no bank is requested by both sides, so P never advances and nothing is
    // suppressed: both streams run at one access per cycle.
    let (w, core, fired) = disjoint_streams(cfg(|c| {
        c.variant = HciVariant::V2_4;
        c.max_stall = 3;
    }));
    assert_eq!(w, (0..20).collect::<Vec<u64>>());
    assert_eq!(core, (0..12).collect::<Vec<u64>>());
    assert_eq!(fired, 0);
}

#[test]
fn v2_4_numerator_one_denominator_four_gives_the_wide_port_three_of_four() {
    // num 1, den 4; every cycle conflicts on bank 0 while both stream. P = 0 < num: core;
    // P = 1, 2, 3 (in [num, den)): wide; P wraps after den - 1 = 3. Per 4 conflict cycles
    // the core wins 1, the wide port 3: core at 0, 4, 8; wide at 1,2,3, 5,6,7, 9,10,11.
    let mut b = Bench::new(cfg(|c| {
        c.variant = HciVariant::V2_4;
        c.prio = Some((1, 4));
    }));
    let core = b.narrow(burst(0, (0..20).map(|r| rd(at(0, r)))));
    let w = b.wide(burst(0, (0..20).map(|r| wide_rd(at(0, 200 + r)))));
    b.run();
    assert_eq!(granted(&core)[..3], [0, 4, 8]);
    assert_eq!(granted(&w)[..9], [1, 2, 3, 5, 6, 7, 9, 10, 11]);
}

#[test]
fn invert_prio_makes_the_wide_side_win() {
    // invert_prio: the wide side is high. Wide reads of banks 0..8 at 0,1,2 win; the core's
    // bank 0 read waits until the wide stream ends: granted at 3, 4, 5.
    let mut b = Bench::new(cfg(|c| c.invert_prio = true));
    let core = b.narrow(burst(0, (0..3).map(|r| rd(at(0, r)))));
    let w = b.wide(burst(0, (0..3).map(|r| wide_rd(at(0, 100 + r)))));
    b.run();
    assert_eq!(granted(&w), vec![0, 1, 2]);
    assert_eq!(granted(&core), vec![3, 4, 5]);
}

#[test]
fn a_choice_refused_because_the_wide_side_owns_the_bank_stays_locked() {
    // invert_prio, the wide port owns banks 0..8 in cycles 0..2. Narrow initiator 1 asks for
    // bank 0 at cycle 0, initiator 0 at cycle 1. rr_q(bank 0) = 0.
    // c0: req_d = {1}: the tree picks 1, the bank refuses (wide) -> lock, req_q = {1}.
    // c1, c2: locked: req_d = req_q = {1} (initiator 0 is not considered) -> 1 again, refused.
    // c3: bank free: 1 is granted; rr_d = next after rr_q = 0 in req_d = {1} -> 1.
    // c4: initiator 0 alone -> granted.
    // Without LockIn, c3 would see {0, 1} with rr_q = 0 and grant initiator 0 first.
    let mut b = Bench::new(cfg(|c| c.invert_prio = true));
    let n0 = b.narrow(vec![(1, rd(at(0, 1)))]);
    let n1 = b.narrow(vec![(0, rd(at(0, 2)))]);
    let w = b.wide(burst(0, (0..3).map(|r| wide_rd(at(0, 100 + r)))));
    b.run();
    assert_eq!(granted(&w), vec![0, 1, 2]);
    assert_eq!(granted(&n1), vec![3]);
    assert_eq!(granted(&n0), vec![4]);
}

#[test]
fn wrapped_banks_of_a_wide_access_use_the_next_row() {
    // A 9-word write at bank 12, row 0 drives banks 12..15 at row 0 and banks 0..4 at row 1
    // (hci_router.sv). Then a 9-word write at bank 12 of the LAST row (2047) wraps its banks
    // 0..4 to row 0 (the row address is truncated).
    let mut b = Bench::default_cfg();
    let data: Vec<u32> = (0..9).map(|i| 0xA000_0000 + i).collect();
    let top: Vec<u32> = (0..9).map(|i| 0xB000_0000 + i).collect();
    let w = b.wide(vec![
        (0, wide_wr(at(12, 0), &data, 0xF_FFFF_FFFF)),
        (0, wide_wr(at(12, 2047), &top, 0xF_FFFF_FFFF)),
        (0, wide_rd(at(12, 0))),
    ]);
    b.run();
    let t = b.ic.tcdm();
    for k in 0..4 {
        assert_eq!(t.read_word(at(12 + k, 0)), data[k as usize]);
        assert_eq!(t.read_word(at(12 + k, 2047)), top[k as usize]);
    }
    for k in 0..5 {
        assert_eq!(
            t.read_word(at(k, 1)),
            data[4 + k as usize],
            "bank {k} row 1"
        );
        assert_eq!(t.read_word(at(k, 0)), top[4 + k as usize], "bank {k} row 0");
    }
    assert_eq!(t.read_word(at(5, 1)), 0);
    assert_eq!(w.borrow()[2].rdata, data);
}

#[test]
fn byte_enables_select_the_bytes_written() {
    let mut b = Bench::default_cfg();
    let t = b.ic.tcdm();
    t.write_word(at(3, 4), 0x1122_3344, 0xF);
    t.write_word(at(4, 4), 0x5566_7788, 0xF);
    t.write_word(at(5, 4), 0x99AA_BBCC, 0xF);
    // narrow: bytes 0 and 2 -> 0x11BB33DD
    b.narrow(vec![(0, wr(at(3, 4), 0xAABB_CCDD, 0b0101))]);
    // wide, 2 words at bank 4: word 0 bytes 3,2 (be 0b1100), word 1 none
    b.wide(vec![(
        0,
        wide_wr(at(4, 4), &[0xFFEE_DDCC, 0x0000_0000], 0b0000_1100),
    )]);
    b.run();
    assert_eq!(t.read_word(at(3, 4)), 0x11BB_33DD);
    assert_eq!(t.read_word(at(4, 4)), 0xFFEE_7788);
    assert_eq!(t.read_word(at(5, 4)), 0x99AA_BBCC);
}

#[test]
fn a_read_after_a_write_returns_the_written_data() {
    // c0: initiator 0 writes, initiator 1 reads the same word: bank conflict, rr_q = 0 ->
    // the write goes first (rr_d = 1); c1: initiator 0 presents its read-back, but rr_q = 1
    // and initiator 1 still requests -> initiator 1's read is granted at c1 and sees the new
    // data; c2: initiator 0's read-back is granted and sees it too.
    let mut b = Bench::default_cfg();
    let a = b.narrow(vec![(0, wr(at(7, 9), 0xDEAD_BEEF, 0xF)), (0, rd(at(7, 9)))]);
    let c = b.narrow(vec![(0, rd(at(7, 9)))]);
    b.run();
    assert_eq!(granted(&a), vec![0, 2]);
    assert_eq!(granted(&c), vec![1]);
    assert_eq!(c.borrow()[0].rdata, vec![0xDEAD_BEEF]);
    assert_eq!(a.borrow()[1].rdata, vec![0xDEAD_BEEF]);
}

#[test]
fn the_boot_flag_above_the_tcdm_size_aliases_into_it() {
    // 0x1003FFF0 & (128 KiB - 1) = offset 0x1FFF0.
    use vp_kernel::tlm::Payload;
    use vp_kernel::Component;
    let mut b = Bench::default_cfg();
    let l = b.narrow(vec![
        (0, wr(0x1003_FFF0, 0x600D, 0xF)),
        (0, rd(0x1001_FFF0)),
    ]);
    let target = b.ic.export("tcdm").unwrap().get_target().unwrap();
    b.run();
    assert_eq!(l.borrow()[1].rdata, vec![0x600D]);
    assert!(!l.borrow()[0].error);
    assert_eq!(b.ic.tcdm().read_word(0x1001_FFF0), 0x600D);
    let mut p = Payload::read_u32(0x1003_FFF0);
    target.borrow_mut().debug_transport(&mut p);
    assert!(p.response.is_ok());
    assert_eq!(p.data_u32(), 0x600D);
    // through the bus mapping (relative address, as the address map hands it over)
    let m = &b.ic.mappings()[0];
    assert_eq!((m.base, m.size), (0x1000_0000, 0x10_0000));
    let mut p = Payload::read_u32(0x3FFF0);
    m.target.borrow_mut().debug_transport(&mut p);
    assert_eq!(p.data_u32(), 0x600D);
    // outside the window: an error
    let mut p = Payload::read_u32(0x1010_0000);
    target.borrow_mut().debug_transport(&mut p);
    assert!(!p.response.is_ok());
}

#[test]
fn hci_config_register_writes_change_the_arbitration() {
    // Writing low_prio_max_stall = 3 through the cluster-control register gives the pinned
    // guard of the test above: wide grants at 3, 7, 11, 15.
    use vp_kernel::tlm::Payload;
    use vp_kernel::Component;
    let mut b = Bench::default_cfg();
    let reg = b.ic.export("hci_config").unwrap().get_target().unwrap();
    let mut p = Payload::write_u32(0x1020_0018, 3 | 1 << 11);
    reg.borrow_mut().debug_transport(&mut p);
    assert!(p.response.is_ok());
    let mut p = Payload::read_u32(0);
    reg.borrow_mut().debug_transport(&mut p);
    assert_eq!(p.data_u32(), 3 | 1 << 11);
    let core = b.narrow(burst(0, (0..44).map(|r| rd(at(0, r)))));
    let w = b.wide(burst(0, (0..4).map(|r| wide_rd(at(0, 100 + r)))));
    b.run();
    assert_eq!(granted(&w), vec![3, 7, 11, 15]);
    assert_eq!(granted(&core).len(), 44);
}

#[test]
fn the_interconnect_sleeps_between_requests() {
    // Requests at cycles 0 and 1000 only: two active cycles, and the run still ends.
    let mut b = Bench::default_cfg();
    let l = b.narrow(vec![(0, rd(at(0, 0))), (1000, rd(at(0, 1)))]);
    b.run();
    assert_eq!(granted(&l), vec![0, 1000]);
    assert_eq!(b.ic.stats_raw().unwrap().active_cycles, 2);
}

#[test]
fn identical_runs_give_identical_statistics() {
    use vp_kernel::Component;
    fn run() -> String {
        let mut b = Bench::new(cfg(|c| c.max_stall = 2));
        let mut x: u32 = 12345;
        let mut next = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 8) & 0x7FFF
        };
        for _ in 0..8 {
            let reqs: Vec<_> = (0..200).map(|_| (0, rd(B + (next() << 2)))).collect();
            b.narrow(reqs);
        }
        b.wide(burst(0, (0..100).map(|r| wide_rd(at(0, r)))));
        b.run();
        serde_json::to_string(&b.ic.stats()).unwrap()
    }
    let a = run();
    assert_eq!(a, run());
    assert!(a.contains("\"guard_firings\""));
}

#[test]
fn a_request_posted_ahead_is_arbitrated_in_its_own_cycle() {
    // Initiator A (index 0) posts reads of bank 0 ahead, dated 10 and 20; B (index 1) reads
    // bank 0 back-to-back from cycle 0. B alone wins cycles 0..9 and leaves rr_q = 1. c10:
    // {A, B} request, rr_q = 1 requests -> B, rr_d = next after 1 = 0; c11: A. A's second
    // read (posted at its wake in c12, dated 20): rr_q = 1 again after B's lone grants, so B
    // wins c20 and A gets c21. B: 30 reads granted at 0..=10, 12..=20, 22..=31. Posting in
    // the cycle itself instead gives the same grants.
    for ahead in [true, false] {
        let mut b = Bench::default_cfg();
        let reqs = vec![(10, rd(at(0, 100))), (20, rd(at(0, 101)))];
        let a = if ahead {
            b.narrow_ahead(reqs)
        } else {
            b.narrow(reqs)
        };
        let other = b.narrow(burst(0, (0..30).map(|r| rd(at(0, r)))));
        b.run();
        assert_eq!(granted(&a), vec![11, 21], "ahead = {ahead}");
        let expect: Vec<u64> = (0..=10).chain(12..=20).chain(22..=31).collect();
        assert_eq!(granted(&other), expect, "ahead = {ahead}");
        let s = b.ic.stats_raw().unwrap();
        assert_eq!(s.narrow[0].requests, 2);
        assert_eq!(
            s.narrow[0].stall_cycles, 2,
            "waits count from the dated cycle"
        );
    }
}

#[test]
fn the_interconnect_wakes_for_a_request_posted_ahead() {
    // A read posted in cycle 0 for cycle 10 while B's four reads (cycles 0..3) keep the
    // interconnect busy: after B's last grant nothing is due, and the interconnect must still
    // tick in cycle 10 (a lost wake would end the run in a deadlock). A second read, posted
    // at A's wake in cycle 11 for cycle 1000, is the only one pending: 4 + 2 active cycles.
    let mut b = Bench::default_cfg();
    let a = b.narrow_ahead(vec![(10, rd(at(3, 0))), (1000, rd(at(3, 1)))]);
    let other = b.narrow(burst(0, (0..4).map(|r| rd(at(0, r)))));
    b.run();
    assert_eq!(granted(&a), vec![10, 1000]);
    assert_eq!(granted(&other), vec![0, 1, 2, 3]);
    assert_eq!(b.ic.stats_raw().unwrap().active_cycles, 6);
}

#[test]
fn a_wide_request_posted_ahead_waits_for_its_cycle() {
    // A wide read of banks 0..8 posted in cycle 0 for cycle 5; a core reads bank 4 in cycles
    // 0..=5 (back-to-back). Default priority: the core side wins c5, the wide read gets c6.
    let mut b = Bench::default_cfg();
    let w = b.wide_ahead(vec![(5, wide_rd(at(0, 50)))]);
    let core = b.narrow(burst(0, (0..6).map(|r| rd(at(4, r)))));
    b.run();
    assert_eq!(granted(&w), vec![6]);
    assert_eq!(granted(&core), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(b.ic.stats_raw().unwrap().wide[0].stall_cycles, 1);
}
