//! Event unit: sleeping waits, software events, masks, barriers, event lines, mutex, dispatch.

mod common;
use std::rc::Rc;

use common::{script_core, Log, Op};
use vp_kernel::clocked::DomainId;
use vp_kernel::port::EventsRef;
use vp_kernel::testkit::TestBench;
use vp_kernel::tlm::{AddressMap, Payload, Response, Settle};
use vp_kernel::{Clock, Component, RunEnd, Sim, SimTime, Wake};

const EU: u64 = 0x1020_0800;
const DX: u64 = 0x1020_4000;

struct Harness {
    sim: Sim,
    domain: DomainId,
    clock: Clock,
    eu: Box<dyn Component>,
    bus: Rc<AddressMap>,
}

fn harness(params: &str) -> Harness {
    let tb = TestBench::new(100.0);
    let mut eu = tb
        .build(&vp_event_unit::kinds()[0], "event_unit", params)
        .unwrap();
    let bus = tb.elaborate(&mut [eu.as_mut()]).unwrap();
    let TestBench {
        sim, domain, clock, ..
    } = tb;
    Harness {
        sim,
        domain,
        clock,
        eu,
        bus,
    }
}

impl Harness {
    fn core(&self, id: u32, ops: &[Op]) -> Log {
        script_core(&self.sim, self.domain, self.clock, &self.bus, id, ops)
    }
    fn run(&self, cycles: u64) -> RunEnd {
        self.sim.run(Some(self.clock.time_of(cycles))).end
    }
    fn peek(&self, addr: u64, core: u32) -> u32 {
        let mut p = Payload::read_u32(addr).with_initiator(core);
        self.bus.debug_transport(&mut p);
        p.data_u32()
    }
    fn stats(&self) -> serde_json::Value {
        self.eu.stats()
    }
}

#[test]
fn wait_suspends_and_wakes_on_the_event_cycle() {
    let h = harness("");
    let c0 = h.core(
        0,
        &[Op::W(DX + 0x08, 1 << 3), Op::R(DX + 0x38), Op::R(DX + 0x1C)],
    );
    // core 1 raises software event 3 for core 0 in cycle 10
    let _c1 = h.core(1, &[Op::Until(10), Op::W(DX + 0x10C, 1 << 0)]);
    let end = h.run(100);
    assert_eq!(end, RunEnd::Finished);
    let log = c0.loads().clone();
    // the wait was issued in cycle 1 and completes in the cycle after the trigger
    assert_eq!(log[0], (11, DX + 0x38, 1 << 3));
    // wait (without clear) leaves the buffer as it was
    assert_eq!(log[1], (12, DX + 0x1C, 1 << 3));
    let s = h.stats();
    assert_eq!(s["waits"][0], 1);
    assert_eq!(s["wait_loads"][0], 1);
    assert_eq!(s["events_raised"]["3"], 1);
    assert_eq!(s["sleep_cycles"][0], 10);
}

#[test]
fn a_load_holds_what_cores_run_after_it_did_in_its_grant_cycle() {
    // event_unit_core.sv answers a load in its response cycle from the registers then:
    // software event 2 triggered by core 1 in cycle 5 is in core 0's buffer from cycle 6,
    // so core 0's load granted in cycle 5 returns it, although the model runs core 0
    // first in each cycle (it reads the data at the end of the cycle).
    let h = harness("");
    let c0 = h.core(0, &[Op::Until(5), Op::R(DX + 0x1C), Op::R(DX + 0x1C)]);
    let _c1 = h.core(1, &[Op::Until(5), Op::W(DX + 0x108, 1 << 0)]);
    assert_eq!(h.run(100), RunEnd::Finished);
    assert_eq!(
        c0.loads(),
        vec![(5, DX + 0x1C, 1 << 2), (6, DX + 0x1C, 1 << 2)]
    );
}

#[test]
fn a_load_holds_the_mutex_event_of_an_unlock_in_its_grant_cycle() {
    // Core 1's lock request stays registered after another event (software event 1)
    // ended its wait. Core 0's unlock in cycle 10 hands the mutex to core 1, whose event
    // (17) rises in that cycle (hw_mutex_unit.sv) and is in its buffer from cycle 11: core
    // 1's load of its buffer granted in cycle 10 returns it, the mutex being decided only
    // at the end of the cycle.
    let h = harness("");
    let c0 = h.core(
        0,
        &[
            Op::W(DX + 0x08, 1 << 17),
            Op::R(DX + 0xC0),
            Op::Until(10),
            Op::W(DX + 0xC0, 0x55),
        ],
    );
    let c1 = h.core(
        1,
        &[
            Op::W(DX + 0x08, 1 << 17 | 1 << 1),
            Op::Until(3),
            Op::R(DX + 0xC0),
            Op::Until(10),
            Op::R(DX + 0x1C),
            Op::R(DX + 0x1C),
        ],
    );
    let _c2 = h.core(2, &[Op::Until(5), Op::W(DX + 0x104, 1 << 1)]);
    assert_eq!(h.run(100), RunEnd::Finished);
    assert_eq!(c0.loads(), vec![(2, DX + 0xC0, 0)]);
    let log = c1.loads();
    // the lock load ends with event 1 (raised for cycle 6), not owning the mutex
    assert_eq!(log[0], (6, DX + 0xC0, 0));
    assert_eq!(log[1], (10, DX + 0x1C, 1 << 17));
    assert_eq!(log[2], (11, DX + 0x1C, 1 << 17));
}

#[test]
fn wait_with_pending_event_does_not_sleep() {
    let h = harness("");
    let _c1 = h.core(1, &[Op::W(DX + 0x100, 0x1)]);
    let c0 = h.core(
        0,
        &[
            Op::Until(5),
            Op::W(DX + 0x08, 1),
            Op::R(DX + 0x3C),
            Op::R(DX + 0x1C),
        ],
    );
    h.run(100);
    let log = c0.loads().clone();
    assert_eq!(log[0], (6, DX + 0x3C, 1));
    // wait-clear cleared the bits it returned; the read after it, issued in 7, is
    // granted in 8 (event_unit_core.sv wait_clear_access_SP, as on the RTL)
    assert_eq!(log[1], (8, DX + 0x1C, 0));
    assert_eq!(h.stats()["waits"][0], 0);
}

#[test]
fn wait_clear_clears_only_masked_bits() {
    let h = harness("");
    let c0 = h.core(
        0,
        &[Op::W(DX + 0x08, 1 << 2), Op::R(DX + 0x3C), Op::R(DX + 0x1C)],
    );
    // core 1 raises events 2 and 5 for core 0 (5 is not in core 0's mask)
    let _c1 = h.core(
        1,
        &[Op::Until(4), Op::W(DX + 0x114, 1), Op::W(DX + 0x108, 1)],
    );
    h.run(100);
    let log = c0.loads().clone();
    assert_eq!(log[0].2, 1 << 2);
    assert_eq!(log[0].0, 6); // event 2 raised in cycle 5
    assert_eq!(log[1].2, 1 << 5);
}

#[test]
fn mask_and_or() {
    let h = harness("");
    let c0 = h.core(
        0,
        &[
            Op::W(DX, 0xF0),
            Op::W(DX + 0x08, 0x0F),
            Op::R(DX),
            Op::W(DX + 0x04, 0x3C),
            Op::R(DX),
            Op::R(EU), // core 0's unit through the global view
            Op::R(EU + 0x40),
            Op::W(EU + 0x40 + 0x08, 0x100), // core 1's mask from core 0
        ],
    );
    h.run(100);
    let log: Vec<u32> = c0.loads().iter().map(|e| e.2).collect();
    assert_eq!(log, vec![0xFF, 0xC3, 0xC3, 0]);
    assert_eq!(h.peek(DX, 1), 0x100);
}

#[test]
fn barrier_fires_when_all_trigger_cores_arrived_only_to_targets() {
    let h = harness("");
    let bar = DX + 0x200 + 0x20 * 2; // barrier 2
    let setup = [
        Op::W(bar, 0b111),
        Op::W(bar + 0x0C, 0b011),
        Op::W(DX + 0x08, 1 << 16),
    ];
    let mut ops0 = setup.to_vec();
    ops0.extend([Op::R(bar + 0x1C), Op::R(DX + 0x1C)]);
    let c0 = h.core(0, &ops0);
    let c1 = h.core(
        1,
        &[
            Op::W(DX + 0x08, 1 << 16),
            Op::Until(8),
            Op::R(bar + 0x1C),
            Op::R(DX + 0x1C),
        ],
    );
    let c2 = h.core(
        2,
        &[
            Op::W(DX + 0x08, 1 << 16),
            Op::Until(19),
            Op::R(bar + 0x04), // status: cores 0 and 1 arrived
            Op::R(bar + 0x14), // arrive, no sleep
            Op::R(DX + 0x1C),
            Op::R(bar + 0x04),
        ],
    );
    let c3 = h.core(3, &[Op::W(DX + 0x08, 1 << 16), Op::R(DX + 0x38)]);
    h.run(200);
    let l0 = c0.loads().clone();
    let l1 = c1.loads().clone();
    let l2 = c2.loads().clone();
    assert_eq!(l2[0], (19, bar + 0x04, 0b011));
    // core 2 arrives in cycle 20: the barrier fires in 21 (hw_barrier_unit.sv registers
    // the arrivals), cores 0 and 1 are granted in 22 (the event buffer is a register too)
    assert_eq!(l0[0], (22, bar + 0x1C, 1 << 16));
    assert_eq!(l1[0], (22, bar + 0x1C, 1 << 16));
    // wait-clear cleared event 16
    assert_eq!(l0[1].2, 0);
    // core 2 is not a target: no event 16
    assert_eq!(l2[2].2, 0);
    assert_eq!(l2[3].2, 0, "status cleared after the firing");
    // core 3 (not a target) still sleeps
    assert!(c3.loads().is_empty());
    let s = h.stats();
    assert_eq!(s["barrier_firings"][2], 1);
    assert_eq!(s["sleeping"][0]["core"], 3);
}

#[test]
fn barrier_never_fires_with_trigger_mask_zero() {
    let h = harness("");
    let bar = DX + 0x200;
    let mut logs = Vec::new();
    for c in 0..8 {
        logs.push(h.core(
            c,
            &[
                Op::W(DX + 0x08, 1 << 16),
                Op::W(bar + 0x0C, 0xFF),
                Op::R(bar + 0x1C),
            ],
        ));
    }
    h.run(100);
    assert!(logs.iter().all(|l| l.loads().is_empty()));
    assert_eq!(h.stats()["barrier_firings"][0], 0);
    assert_eq!(h.peek(bar + 0x04, 0), 0xFF);
}

#[test]
fn barrier_of_pulp_runtime_style_all_cores() {
    let h = harness("");
    let bar = DX + 0x200;
    let mut logs = Vec::new();
    for c in 0..8u32 {
        let mut ops = vec![];
        if c == 0 {
            ops.extend([Op::W(bar, 0xFF), Op::W(bar + 0x0C, 0xFF)]);
        }
        ops.extend([
            Op::W(DX + 0x08, 1 << 16),
            Op::Until(10 + 3 * c as u64),
            Op::R(bar + 0x1C),
            Op::Until(100),
            Op::R(bar + 0x1C),
        ]);
        logs.push(h.core(c, &ops));
    }
    h.run(300);
    // last arrival (core 7) in cycle 31: everybody is granted in cycle 33, then again at
    // 102 (arrivals at 100: fired in 101, in the buffers in 102), as on the RTL
    for l in &logs {
        let l = l.loads();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].0, 33);
        assert_eq!(l[1].0, 102);
    }
    assert_eq!(h.stats()["barrier_firings"][0], 2);
}

#[test]
fn accelerator_event_through_the_events_port() {
    let mut h = harness("");
    let port = h.eu.export("events").unwrap();
    let ev = port.get::<EventsRef>("events").unwrap();
    let c0 = h.core(
        0,
        &[
            Op::W(DX + 0x08, 1 << 12),
            Op::R(DX + 0x1C),
            Op::R(DX + 0x3C),
        ],
    );
    // RedMulE raises event 12 for core 0, from a process, for cycle 40 (ahead of time)
    let sim = h.sim.clone();
    let clock = h.clock;
    let ev2 = ev.clone();
    h.sim.spawn("redmule", async move {
        sim.wait_cycles(clock, 5).await;
        ev2.0.raise(1 << 0, 12, 40);
    });
    h.run(100);
    let log = c0.loads().clone();
    assert_eq!(log[0].2, 0, "not raised before cycle 40");
    // the line is high in cycle 40; the buffer has it from 41
    assert_eq!(log[1], (41, DX + 0x3C, 1 << 12));
    let s = h.stats();
    assert_eq!(s["events_raised"]["12"], 1);
    assert_eq!(s["deferred_raises"], 1);
    // a raise for the current cycle applies at once
    ev.0.raise(0b10, 11, 0);
    assert_eq!(h.peek(DX + 0x1C, 1), 1 << 11);
}

#[test]
fn mutex_lock_unlock_passes_the_message() {
    let h = harness("");
    let c0 = h.core(
        0,
        &[
            Op::W(DX + 0x08, 1 << 17),
            Op::R(DX + 0xC0),
            Op::Until(20),
            Op::W(DX + 0xC0, 0x55),
        ],
    );
    let c1 = h.core(
        1,
        &[
            Op::W(DX + 0x08, 1 << 17),
            Op::Until(5),
            Op::R(DX + 0xC0),
            Op::W(DX + 0xC0, 0x66),
        ],
    );
    h.run(100);
    assert_eq!(c0.loads()[0], (2, DX + 0xC0, 0), "a free mutex: one cycle");
    assert_eq!(c1.loads()[0], (21, DX + 0xC0, 0x55));
    assert_eq!(h.stats()["mutex_locks"][0], 2);
}

#[test]
fn dispatch_delivers_values_to_the_team() {
    let h = harness("");
    let c0 = h.core(
        0,
        &[
            Op::W(DX + 0x84, 0b110),
            Op::Until(10),
            Op::W(DX + 0x80, 0xAA),
            Op::W(DX + 0x80, 0xBB),
        ],
    );
    let mut ls = vec![c0];
    for c in 1..3 {
        ls.push(h.core(
            c,
            &[
                Op::W(DX + 0x08, 1 << 18),
                Op::R(DX + 0x80),
                Op::R(DX + 0x80),
            ],
        ));
    }
    h.run(100);
    for l in &ls[1..] {
        let l = l.loads();
        // pushed in 10: hw_dispatch.sv's entry is set in 11, its event line with it, the
        // buffers have it in 12 (as on the RTL)
        assert_eq!(l[0], (12, DX + 0x80, 0xAA));
        assert_eq!(l[1].2, 0xBB);
    }
}

#[test]
fn a_settling_load_issued_again_early_is_not_performed_again() {
    // A trigger-and-wait load (software event 4, for core 1) whose event is already in
    // core 0's buffer is granted at once: answered Incomplete with its grant time. Issued
    // again before its data settled, it is the same load, not a second trigger; in the
    // next cycle it is collected, with what core 1 did after it in the grant cycle.
    let h = harness("");
    let access = |mut p: Payload, core: u32| {
        p = p
            .with_initiator(core)
            .with_sleeper(Wake::new())
            .with_settle();
        h.bus.b_transport(&mut p, &mut SimTime::ZERO.clone());
        p
    };
    access(Payload::write_u32(DX + 0x08, 1 << 4 | 1 << 5), 0); // mask
    access(Payload::write_u32(DX + 0x2C, 1 << 1), 0); // SW_EVENTS_MASK: core 1
    access(Payload::write_u32(DX + 0x110, 1), 1); // event 4 for core 0
    h.run(3);
    let g = h.sim.cycle_now(h.domain);
    for _ in 0..2 {
        let p = access(Payload::read_u32(DX + 0x150), 0);
        assert_eq!(p.response, Response::Incomplete);
        assert_eq!(p.settle, Settle::Granted(h.clock.time_of(g)));
    }
    // core 1 raises event 5 for core 0 in that cycle, after core 0's load
    access(Payload::write_u32(DX + 0x114, 1), 1);
    h.run(g + 2);
    let p = access(Payload::read_u32(DX + 0x150), 0);
    assert_eq!((p.response, p.data_u32()), (Response::Ok, 1 << 4 | 1 << 5));
    // raised by core 1's write and by the load, once
    assert_eq!(h.stats()["events_raised"]["4"], 2);
}

#[test]
fn unknown_offsets_read_zero_and_never_fail() {
    let h = harness("");
    for (a, core) in [
        (DX + 0x40, 0u32),
        (DX + 0x60, 0),
        (DX + 0x3FC, 0),
        (DX + 0x200 + 0x20 * 12, 1),
        (EU + 0x780, 0),
        (EU + 0x40 * 9, 0),
        (EU + 0x3C, 0),
        (EU + 0x400 + 0x20 * 15, 0),
    ] {
        for write in [false, true] {
            let mut p = if write {
                Payload::write_u32(a, 0xFFFF_FFFF)
            } else {
                Payload::read_u32(a)
            }
            .with_initiator(core)
            .with_sleeper(Wake::new());
            let mut d = SimTime::ZERO;
            h.bus.b_transport(&mut p, &mut d);
            assert_eq!(p.response, Response::Ok, "{a:#x}");
            if !write {
                assert_eq!(p.data_u32(), 0, "{a:#x}");
            }
        }
    }
    assert!(h.stats()["unknown_accesses"].as_u64().unwrap() >= 10);
    // per-core alias without an initiator, or with a bad one: an error, no panic
    for init in [None, Some(8)] {
        let mut p = Payload::read_u32(DX + 0x38);
        p.initiator = init;
        let mut d = SimTime::ZERO;
        h.bus.b_transport(&mut p, &mut d);
        assert_eq!(p.response, Response::GenericError);
    }
    // a byte access
    let mut p = Payload::read(DX + 0x1D, 1).with_initiator(0);
    let mut d = SimTime::ZERO;
    h.bus.b_transport(&mut p, &mut d);
    assert!(p.response.is_ok());
}

#[test]
fn sleep_info_names_the_mask() {
    let mut h = harness("");
    let _c3 = h.core(3, &[Op::W(DX + 0x08, 1 << 16), Op::R(DX + 0x38)]);
    h.run(50);
    let port = h.eu.export("sleep_info").unwrap();
    let info = port.get::<vp_event_unit::SleepInfo>("sleep_info").unwrap();
    let d = info(3).unwrap();
    assert!(
        d.starts_with("core 3 sleeps on event unit wait (EVENT_WAIT), mask 0x00010000"),
        "{d}"
    );
    assert_eq!(info(2), None);
    assert_eq!(h.stats()["sleeping"][0]["mask"], "0x00010000");
}

#[test]
fn params_are_checked() {
    let tb = TestBench::new(100.0);
    let kind = &vp_event_unit::kinds()[0];
    let e = tb.build(kind, "event_unit", "{basee: 1}").err().unwrap();
    assert!(e.contains("basee"), "{e}");
    let e = tb
        .build(kind, "event_unit", "{base: 0x10200802}")
        .err()
        .unwrap();
    assert!(e.starts_with("base:"), "{e}");
    let e = tb
        .build(kind, "event_unit", "{barriers: 17}")
        .err()
        .unwrap();
    assert!(e.starts_with("barriers:"), "{e}");
    assert!(tb.build(kind, "event_unit", "").is_ok());
}
