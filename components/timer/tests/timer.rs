//! Timer: lazy counting, prescaler, compare events, one-shot, 64-bit cascade.

use std::cell::RefCell;
use std::rc::Rc;

use vp_kernel::port::{EventSink, EventsRef};
use vp_kernel::testkit::TestBench;
use vp_kernel::tlm::{AddressMap, Payload, Response};
use vp_kernel::{Clock, Component, PortRef, Sim, SimTime};

const T: u64 = 0x1020_0400;
const EN: u32 = 1;
const IRQ: u32 = 1 << 2;
const CMP_CLR: u32 = 1 << 4;
const ONE_SHOT: u32 = 1 << 5;
const PEN: u32 = 1 << 6;
const REF_CLK: u32 = 1 << 7;
const CASC: u32 = 1 << 31;

#[derive(Default)]
struct Rec(RefCell<Vec<(u32, u32, u64)>>);
impl EventSink for Rec {
    fn raise(&self, core_mask: u32, line: u32, cycle: u64) {
        self.0.borrow_mut().push((core_mask, line, cycle));
    }
}

struct H {
    sim: Sim,
    clock: Clock,
    t: Box<dyn Component>,
    bus: Rc<AddressMap>,
    rec: Rc<Rec>,
}

fn build(params: &str, bind: bool) -> Result<H, String> {
    let tb = TestBench::new(100.0);
    let mut t = tb.build(&vp_timer::kinds()[0], "timer", params)?;
    let rec = Rc::new(Rec::default());
    if bind {
        let sink: Rc<dyn EventSink> = rec.clone();
        t.bind("events", PortRef::new("events", Rc::new(EventsRef(sink))))?;
    }
    let bus = tb.elaborate(&mut [t.as_mut()])?;
    let (sim, clock) = (tb.sim, tb.clock);
    Ok(H {
        sim,
        clock,
        t,
        bus,
        rec,
    })
}

fn rd(bus: &AddressMap, a: u64) -> u32 {
    let mut p = Payload::read_u32(T + a);
    let mut d = SimTime::ZERO;
    bus.b_transport(&mut p, &mut d);
    assert_eq!(p.response, Response::Ok);
    p.data_u32()
}
fn wr(bus: &AddressMap, a: u64, v: u32) {
    let mut p = Payload::write_u32(T + a, v);
    let mut d = SimTime::ZERO;
    bus.b_transport(&mut p, &mut d);
    assert_eq!(p.response, Response::Ok);
}

/// Run `script` as a process: a list of (cycle, action) where action gets the bus; reads are
/// logged as (cycle, value). Timer processes are daemons: the script keeps the run alive.
fn script(h: &H, steps: Vec<Step>) -> Rc<RefCell<Vec<(u64, u32)>>> {
    let log: Rc<RefCell<Vec<(u64, u32)>>> = Rc::default();
    let (sim, clock, bus, log2) = (h.sim.clone(), h.clock, h.bus.clone(), log.clone());
    h.sim.spawn("cpu", async move {
        for (c, f) in steps {
            sim.wait_until(clock.time_of(c)).await;
            if let Some(v) = f(&bus) {
                log2.borrow_mut().push((c, v));
            }
        }
    });
    log
}

type Step = (u64, Box<dyn Fn(&AddressMap) -> Option<u32>>);
fn w(c: u64, a: u64, v: u32) -> Step {
    (
        c,
        Box::new(move |b| {
            wr(b, a, v);
            None
        }),
    )
}
fn r(c: u64, a: u64) -> Step {
    (c, Box::new(move |b| Some(rd(b, a))))
}

#[test]
fn counts_cycles_lazily_with_and_without_prescaler() {
    let h = build("", false).unwrap();
    let log = script(
        &h,
        vec![
            w(2, 0x18, 1), // START_LO
            r(102, 0x08),
            w(102, 0x04, EN | PEN | (3 << 8)), // hi: tick every 4 cycles
            r(202, 0x0C),
            r(202, 0x00),
            w(300, 0x20, 1), // RESET_LO
            r(300, 0x08),
            r(310, 0x08),
        ],
    );
    let end = h.sim.run(None);
    assert!(!end.end.is_failure());
    assert_eq!(
        *log.borrow(),
        vec![(102, 100), (202, 25), (202, EN), (300, 0), (310, 10)]
    );
    // nothing was scheduled: the kernel did no per-cycle work
    assert!(end.activations < 50, "{}", end.activations);
}

#[test]
fn compare_and_clear_raises_periodic_events() {
    let h = build("", true).unwrap();
    let log = script(
        &h,
        vec![
            w(0, 0x10, 50),
            w(10, 0x00, EN | IRQ | CMP_CLR),
            r(60, 0x08),
            r(65, 0x08),
            r(200, 0x08),
        ],
    );
    h.sim.run(None);
    assert_eq!(
        *h.rec.0.borrow(),
        vec![(0xFF, 10, 60), (0xFF, 10, 111), (0xFF, 10, 162)]
    );
    assert_eq!(*log.borrow(), vec![(60, 50), (65, 4), (200, 37)]);
    let s = h.t.stats();
    assert_eq!(s["matches"][0], 3);
    assert_eq!(s["events_raised"][0], 3);
}

#[test]
fn continuous_mode_matches_once_per_wrap() {
    let h = build("{event_cores: 0x3}", true).unwrap();
    let log = script(&h, vec![w(0, 0x10, 20), w(0, 0x00, EN | IRQ), r(500, 0x08)]);
    h.sim.run(None);
    assert_eq!(*h.rec.0.borrow(), vec![(0x3, 10, 20)]);
    assert_eq!(*log.borrow(), vec![(500, 500)]);
}

#[test]
fn one_shot_stops_the_timer() {
    let h = build("", true).unwrap();
    let log = script(
        &h,
        vec![
            w(0, 0x10, 20),
            w(0, 0x00, EN | IRQ | ONE_SHOT),
            r(19, 0x00),
            r(100, 0x00),
            r(100, 0x08),
        ],
    );
    h.sim.run(None);
    assert_eq!(*h.rec.0.borrow(), vec![(0xFF, 10, 20)]);
    let l = log.borrow();
    assert_eq!(l[0].1 & EN, EN);
    assert_eq!(l[1].1 & EN, 0, "enable cleared by the one-shot match");
    assert_eq!(l[2].1, 21);
}

#[test]
fn high_timer_raises_event_11() {
    let h = build("", true).unwrap();
    let _log = script(&h, vec![w(3, 0x14, 5), w(3, 0x04, EN | IRQ), r(100, 0)]);
    h.sim.run(None);
    assert_eq!(*h.rec.0.borrow(), vec![(0xFF, 11, 8)]);
}

#[test]
fn cascade_is_one_64_bit_counter() {
    let h = build("", true).unwrap();
    let log = script(
        &h,
        vec![
            w(0, 0x08, 0xFFFF_FFF0),
            w(0, 0x10, 0x20),
            w(0, 0x14, 1),
            w(0, 0x00, EN | CASC | IRQ),
            r(32, 0x08),
            r(32, 0x0C),
            r(100, 0x0C),
        ],
    );
    h.sim.run(None);
    assert_eq!(*log.borrow(), vec![(32, 0x10), (32, 1), (100, 1)]);
    // 64-bit compare 0x1_00000020 reached after 0x30 cycles
    assert_eq!(*h.rec.0.borrow(), vec![(0xFF, 10, 0x30)]);
}

#[test]
fn reference_clock_counts_32khz() {
    let h = build("", false).unwrap();
    let log = script(&h, vec![w(0, 0x00, EN | REF_CLK), r(10_000, 0x08)]);
    h.sim.run(None);
    // 100 us at 32768 Hz
    assert_eq!(*log.borrow(), vec![(10_000, 3)]);
}

#[test]
fn rearming_cancels_a_stale_match() {
    let h = build("", true).unwrap();
    let _log = script(
        &h,
        vec![
            w(0, 0x10, 100),
            w(0, 0x00, EN | IRQ),
            w(50, 0x10, 60), // moves the match to cycle 60
            r(300, 0),
        ],
    );
    h.sim.run(None);
    assert_eq!(*h.rec.0.borrow(), vec![(0xFF, 10, 60)]);
}

#[test]
fn unknown_offsets_and_params() {
    let h = build("", false).unwrap();
    for a in [0x28u64, 0x3C, 0x40, 0x3FC] {
        wr(&h.bus, a, 0xFFFF_FFFF);
        assert_eq!(rd(&h.bus, a), 0);
    }
    assert_eq!(h.t.stats()["unknown_accesses"], 8);
    let e = build("{bas: 1}", false).err().unwrap();
    assert!(e.contains("bas"), "{e}");
    let e = build("{event_cores: 0x100}", false).err().unwrap();
    assert!(e.starts_with("event_cores:"), "{e}");
    let e = build("{base: 0x1a10b002}", false).err().unwrap();
    assert!(
        e.starts_with("base: 0x1a10b002 must be word aligned"),
        "{e}"
    );
    let e = build("{base: 0xfffffe00}", false).err().unwrap();
    assert!(e.contains("below 4 GiB"), "{e}");
}
