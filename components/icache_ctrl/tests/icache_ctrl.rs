//! icache_ctrl: the hier-icache timing model as the cores see it (the `ifetch` export), the
//! control registers acting on it, the register map, and the params. Expected stalls are
//! derived in the comments from the crate doc's rules: a private hit costs 0, a private miss
//! that hits the shared cache 2 (SHARED_HIT_STALL), a miss of both 6 + axi_latency_cycles
//! (REFILL_STALL), a bypassed fetch word 3 + axi_latency_cycles. Most tests set the latency
//! to 1 (refill 7, bypass 4) to keep the numbers apart from the shared hit's 2.

use std::rc::Rc;

use vp_icache_ctrl::model::Lfsr8;
use vp_kernel::port::{FetchGrant, FetchRef, FetchTiming};
use vp_kernel::testkit::TestBench;
use vp_kernel::tlm::{AddressMap, Payload, Response};
use vp_kernel::{Component, SimTime};

const BASE: u64 = 0x1020_1400;
/// A code address in L2, at the start of a 16-byte line (line number 0x1C00800: bank 0).
const CODE: u32 = 0x1C00_8000;

fn build(params: &str) -> Result<(Box<dyn Component>, Rc<AddressMap>), String> {
    let tb = TestBench::new(100.0);
    let mut c = tb.build(&vp_icache_ctrl::kinds()[0], "icache_ctrl", params)?;
    let bus = tb.elaborate(&mut [c.as_mut()])?;
    Ok((c, bus))
}

/// The block with model `hier`, `axi_latency_cycles: 1` (plus `extra` params) and its fetch
/// model.
fn hier(extra: &str) -> (Box<dyn Component>, Rc<AddressMap>, Rc<dyn FetchTiming>) {
    hier_with(&format!("{{model: hier, axi_latency_cycles: 1{extra}}}"))
}

fn hier_with(params: &str) -> (Box<dyn Component>, Rc<AddressMap>, Rc<dyn FetchTiming>) {
    let (mut c, bus) = build(params).unwrap();
    let f = c
        .export("ifetch")
        .unwrap()
        .get::<FetchRef>("ifetch")
        .unwrap()
        .0
        .clone()
        .expect("model hier exports a fetch model");
    (c, bus, f)
}

fn write(bus: &AddressMap, off: u64, v: u32) {
    let mut p = Payload::write_u32(BASE + off, v).with_initiator(0);
    let mut d = SimTime::ZERO;
    bus.b_transport(&mut p, &mut d);
    assert_eq!(p.response, Response::Ok);
}

fn read(bus: &AddressMap, off: u64) -> u32 {
    let mut p = Payload::read_u32(BASE + off);
    let mut d = SimTime::ZERO;
    bus.b_transport(&mut p, &mut d);
    assert_eq!(p.response, Response::Ok);
    p.data_u32()
}

/// Stalls of core `core` entering each of `lines` 16-byte lines from `base`, in order.
fn lines(f: &dyn FetchTiming, core: u32, base: u32, lines: u32) -> Vec<u32> {
    (0..lines)
        .map(|k| {
            let g = f.fetch(core, base + 16 * k, 0);
            assert_eq!(g.block_log2, 4, "a 16-byte line");
            g.stall
        })
        .collect()
}

#[test]
fn lfsr_follows_lfsr_8bit() {
    // common_cells lfsr_8bit: q <= {q[6:0], !(q[7]^q[3]^q[2]^q[1])}, seed 0. By hand:
    // 0 -> 1 (all taps 0) -> 3 -> 6 (q[1]=1) -> 13 (q[2]^q[1]=0) -> 27 (q[3]^q[2]=0)
    // -> 55 (q[3]^q[1]=0) -> 111 (q[2]^q[1]=0) -> 222 (q[3]^q[2]^q[1]=1) -> 189 (all four 1).
    let mut l = Lfsr8::default();
    let mut seq = vec![l.0];
    for _ in 0..9 {
        l.step();
        seq.push(l.0);
    }
    assert_eq!(seq, [0, 1, 3, 6, 13, 27, 55, 111, 222, 189]);
    assert_eq!((Lfsr8(222).way(2), Lfsr8(222).way(4)), (0, 2));
}

#[test]
fn cold_loop_misses_on_the_first_iteration_only() {
    let (_c, _bus, f) = hier("");
    // A 64-byte loop: 4 lines. First iteration: every line misses both levels, 7 each.
    assert_eq!(lines(&*f, 0, CODE, 4), [7, 7, 7, 7]);
    // Later iterations: private hits.
    assert_eq!(lines(&*f, 0, CODE, 4), [0, 0, 0, 0]);
    assert_eq!(lines(&*f, 0, CODE, 4), [0, 0, 0, 0]);
}

#[test]
fn loop_larger_than_the_private_cache_keeps_missing_it() {
    // Private cache of 64 B, 2 ways: 2 sets (set = line & 1). A 96-byte loop L0..L5 from
    // line 0 (address 0): set 0 holds L0, L2, L4, set 1 L1, L3, L5, three lines for two ways.
    // The shared cache (4 KiB, 2 banks of 32 sets) holds all six without conflicts.
    let (_c, _bus, f) = hier(", private_bytes: 64, private_ways: 2");
    // Iteration 1, all refills (7): fills take the highest free way first:
    //   L0 -> s0.w1, L1 -> s1.w1, L2 -> s0.w0, L3 -> s1.w0; L4: set full, LFSR q=0 -> way 0
    //   (L2 out), q=1; L5: q=1 -> way 1 (L1 out), q=3.   s0 = [L4, L0], s1 = [L3, L5].
    assert_eq!(lines(&*f, 0, 0, 6), [7, 7, 7, 7, 7, 7]);
    // Iteration 2 (misses hit the shared cache: 2):
    //   L0 hit; L1 miss, q=3 -> way 1 (L5 out), q=6; L2 miss, q=6 -> way 0 (L4 out), q=13;
    //   L3 hit; L4 miss, q=13 -> way 1 (L0 out), q=27; L5 miss, q=27 -> way 1 (L1 out), q=55.
    //   s0 = [L2, L4], s1 = [L3, L5].
    assert_eq!(lines(&*f, 0, 0, 6), [0, 2, 2, 0, 2, 2]);
    // Iteration 3:
    //   L0 miss, q=55 -> way 1 (L4 out), q=111; L1 miss, q=111 -> way 1 (L5 out), q=222;
    //   L2 hit; L3 hit; L4 miss, q=222 -> way 0 (L2 out), q=189; L5 miss, q=189 -> way 1.
    assert_eq!(lines(&*f, 0, 0, 6), [2, 2, 0, 0, 2, 2]);
}

#[test]
fn flush_registers_invalidate() {
    let (_c, bus, f) = hier("");
    assert_eq!(lines(&*f, 0, CODE, 4), [7; 4]);
    // FLUSH (0x04): both levels invalidated, every line refilled from L2 again.
    write(&bus, 0x04, 1);
    assert_eq!(lines(&*f, 0, CODE, 4), [7; 4]);
    // FLUSH_L1_ONLY (0x08): the private cache only, the shared one still hits.
    write(&bus, 0x08, 1);
    assert_eq!(lines(&*f, 0, CODE, 4), [2; 4]);
    // FLUSH with bit 0 clear does nothing.
    write(&bus, 0x04, 0);
    assert_eq!(lines(&*f, 0, CODE, 4), [0; 4]);
    // SEL_FLUSH (0x0C) of line 1: its private set (line & 7) loses its ways, and every shared
    // bank loses the index (line >> 1) & 31, which in bank 0 holds L0 and in bank 1 L1. So
    // L1 misses both levels (7); L0 still hits its private set; L2, L3 hit.
    write(&bus, 0x0C, CODE + 16);
    assert_eq!(read(&bus, 0x0C), CODE + 16);
    assert_eq!(lines(&*f, 0, CODE, 4), [0, 7, 0, 0]);
}

#[test]
fn a_second_core_hits_in_the_shared_cache() {
    let (_c, _bus, f) = hier("");
    // Core 0 brings the lines into its private cache and the shared one.
    assert_eq!(lines(&*f, 0, CODE, 4), [7; 4]);
    // Core 1: its own private cache is cold, the shared one hits: 2 per line.
    assert_eq!(lines(&*f, 1, CODE, 4), [2; 4]);
    assert_eq!(lines(&*f, 1, CODE, 4), [0; 4]);
    // Core 0 was not disturbed.
    assert_eq!(lines(&*f, 0, CODE, 4), [0; 4]);
}

#[test]
fn disabled_caches_send_every_fetch_word_to_l2() {
    let (_c, bus, f) = hier("");
    assert_eq!(lines(&*f, 0, CODE, 4), [7; 4]);
    assert_eq!(read(&bus, 0x00), 0x3FF, "8 cores and 2 banks enabled");
    write(&bus, 0x00, 0);
    assert_eq!(read(&bus, 0x00), 0);
    // Bypassed: 3 + 1 cycles per 32-bit fetch, and the core asks again at the next word.
    let g = f.fetch(0, CODE, 0);
    assert_eq!(
        g,
        FetchGrant {
            stall: 4,
            block_log2: 2
        }
    );
    assert_eq!(f.fetch(0, CODE + 4, 0).stall, 4);
    // Enabling invalidates both levels (pri FLUSH_ICACHE, share INVALIDATE).
    write(&bus, 0x00, 1);
    assert_eq!(lines(&*f, 0, CODE, 4), [7; 4]);
}

#[test]
fn start_disabled_as_the_rtl_resets() {
    let (_c, bus, f) = hier(", enabled_at_reset: false");
    assert_eq!(read(&bus, 0x00), 0);
    assert_eq!(f.fetch(0, CODE, 0).stall, 4);
    // The default latency, 8 (pulp_cluster's testbench): 6 + 8 per refill, 3 + 8 per
    // bypassed word.
    let (_c, bus, f) = hier_with("{model: hier}");
    assert_eq!(f.fetch(0, CODE, 0).stall, 14);
    write(&bus, 0x00, 0);
    assert_eq!(f.fetch(0, CODE, 0).stall, 11);
}

#[test]
fn counters_count_lookups_while_enabled() {
    let (_c, bus, f) = hier("");
    // Counting is off at reset (r_enable_cnt): nothing counted.
    lines(&*f, 0, CODE + 0x100, 2);
    assert_eq!(
        [read(&bus, 0x50), read(&bus, 0x54), read(&bus, 0x58)],
        [0; 3]
    );
    write(&bus, 0x14, 1);
    assert_eq!(read(&bus, 0x14), 0x3FF);
    // Core 0: 4 refills then 4 private hits: hit 4, transactions 8, miss 4 (words 20..22).
    // Shared: L0, L2 in bank 0 and L1, L3 in bank 1, each missed once (words 52.., 55..).
    lines(&*f, 0, CODE, 4);
    lines(&*f, 0, CODE, 4);
    // Core 1: 4 private misses, 4 shared hits (words 24..26).
    lines(&*f, 1, CODE, 4);
    let r = |w: u64| read(&bus, 4 * w);
    assert_eq!([r(20), r(21), r(22), r(23)], [4, 8, 4, 0]);
    assert_eq!([r(24), r(25), r(26)], [0, 4, 4]);
    assert_eq!([r(52), r(53), r(54)], [2, 4, 2]);
    assert_eq!([r(55), r(56), r(57)], [2, 4, 2]);
    // Totals: private hit 4, trans 12, miss 8; shared hit 4, trans 8, miss 4.
    assert_eq!([r(12), r(13), r(14), r(15)], [4, 12, 8, 0]);
    assert_eq!([r(16), r(17), r(18)], [4, 8, 4]);
    // The fixed and absent words of hier_icache_ctrl_unit's read map.
    assert_eq!([r(8), r(11)], [0xF1CA_B01A; 2]);
    assert_eq!([r(19), r(76), r(127)], [0xDEAD_CA5E; 3]);
    // Banks 2..7 do not exist (words 58..75); with 8 cores every core word (20..51) does.
    assert_eq!([r(58), r(75)], [0xBADA_CCE5; 2], "no bank 2 or 7");
    // CLEAR_CNTS.
    write(&bus, 0x10, 1);
    assert_eq!([r(12), r(13), r(14), r(16), r(17), r(18), r(21)], [0; 7]);
}

#[test]
fn same_fetches_same_answers() {
    // Three cores fetching pseudo-random lines of 2 KiB of code (xorshift32, fixed seed) on
    // two fresh instances: identical stalls, and every kind of answer occurs.
    let run = || {
        let (_c, _bus, f) = hier("");
        let mut x = 0x1234_5678u32;
        (0..3000)
            .map(|k| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                f.fetch(k % 3, CODE + (x % 2048) / 16 * 16, 0).stall
            })
            .collect::<Vec<u32>>()
    };
    let a = run();
    assert_eq!(a, run());
    for s in [0, 2, 7] {
        assert!(a.contains(&s), "stall {s} occurs");
    }
}

#[test]
fn model_hit_exports_no_fetch_model_and_registers_still_answer() {
    let (mut c, bus) = build("").unwrap();
    let f = c
        .export("ifetch")
        .unwrap()
        .get::<FetchRef>("ifetch")
        .unwrap();
    assert!(f.0.is_none());
    write(&bus, 0x00, 0);
    assert_eq!(read(&bus, 0x00), 0);
    write(&bus, 0x00, 1);
    assert_eq!(read(&bus, 0x00), 0x3FF);
    write(&bus, 0x04, 1);
    write(&bus, 0x1C, 0xFFFF_FFFF);
    assert_eq!(read(&bus, 0x1C), 0xFF, "one prefetch bit per core");
    assert_eq!(read(&bus, 0x30), 0, "no fetch counted");
    let s = c.stats();
    assert_eq!(s["model"], "hit");
    assert_eq!(
        (s["writes"].as_u64(), s["reads"].as_u64()),
        (Some(4), Some(4))
    );
}

#[test]
fn params_are_checked() {
    let err = |p: &str| build(p).err().unwrap_or_else(|| panic!("{p} accepted"));
    let e = err("{baes: 0}");
    assert!(e.contains("baes"), "{e}");
    assert!(err("{base: 0x3}").starts_with("base:"));
    let e = err("{model: lru}");
    assert!(e.starts_with("model:") && e.contains("lru"), "{e}");
    assert!(err("{model: hier, private_bytes: 0}").starts_with("private_bytes:"));
    assert!(err("{model: hier, shared_bytes: 3000}").starts_with("shared_bytes:"));
    assert!(err("{model: hier, shared_banks: 3}").starts_with("shared_banks:"));
    assert!(err("{model: hier, private_ways: 3}").starts_with("private_ways:"));
    assert!(err("{model: hier, shared_ways: 16}").starts_with("shared_ways:"));
    assert!(err("{model: hier, shared_ways: 1}").starts_with("shared_ways:"));
    assert!(err("{model: hier, private_bytes: 32}").starts_with("private_bytes:"));
    assert!(err("{model: hier, shared_bytes: 64}").starts_with("shared_bytes:"));
    assert!(err("{model: hier, cores: 0}").starts_with("cores:"));
    assert!(err("{model: hier, cores: 17}").starts_with("cores:"));
}
