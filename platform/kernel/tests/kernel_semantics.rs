//! Kernel semantics: ordering, delta cycles, channels, clocked participants, ends of runs.

use std::cell::RefCell;
use std::rc::Rc;

use vp_kernel::clocked::{Clocked, Next, TickCtx, PHASE_INITIATOR, PHASE_INTERCONNECT};
use vp_kernel::{Clock, Event, Fifo, RunEnd, Sim, SimTime};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

#[test]
fn same_time_wakeups_run_in_scheduling_order() {
    let sim = Sim::new();
    let l = log();
    // Scheduled in the order c, a, b, all for t = 10 ns: they must run c, a, b.
    for name in ["c", "a", "b"] {
        let (s, l) = (sim.clone(), l.clone());
        sim.spawn(name, async move {
            s.wait_until(SimTime::from_ns(10)).await;
            l.borrow_mut().push(format!("{name}@{}", s.now().ps()));
        });
    }
    let r = sim.run(None);
    assert_eq!(r.end, RunEnd::Finished);
    assert_eq!(*l.borrow(), vec!["c@10000", "a@10000", "b@10000"]);
}

#[test]
fn delta_notification_runs_after_current_evaluation_at_same_time() {
    let sim = Sim::new();
    let l = log();
    let ev = Event::new(&sim, "ev");
    {
        let (s, l, ev) = (sim.clone(), l.clone(), ev.clone());
        sim.spawn("waiter", async move {
            ev.wait().await;
            l.borrow_mut()
                .push(format!("woken t={} d={}", s.now().ps(), s.delta()));
        });
    }
    {
        let (s, l, ev) = (sim.clone(), l.clone(), ev.clone());
        sim.spawn("notifier", async move {
            s.wait_for(SimTime(5)).await;
            ev.notify_delta();
            l.borrow_mut()
                .push(format!("notified t={} d={}", s.now().ps(), s.delta()));
        });
    }
    sim.run(None);
    assert_eq!(*l.borrow(), vec!["notified t=5 d=0", "woken t=5 d=1"]);
}

#[test]
fn immediate_notification_wakes_in_same_delta_and_timed_later() {
    let sim = Sim::new();
    let l = log();
    let ev = Event::new(&sim, "ev");
    for i in 0..2 {
        let (s, l, ev) = (sim.clone(), l.clone(), ev.clone());
        sim.spawn(format!("w{i}"), async move {
            ev.wait().await;
            l.borrow_mut()
                .push(format!("w{i} t={} d={}", s.now().ps(), s.delta()));
        });
    }
    {
        let (s, ev) = (sim.clone(), ev.clone());
        sim.spawn("n", async move {
            s.wait_for(SimTime(1)).await;
            ev.notify();
            ev.notify_at(SimTime(100));
            ev.wait().await;
        });
    }
    let r = sim.run(None);
    assert_eq!(r.end, RunEnd::Finished);
    assert_eq!(r.time, SimTime(100));
    assert_eq!(*l.borrow(), vec!["w0 t=1 d=0", "w1 t=1 d=0"]);
}

#[test]
fn fifo_preserves_order_and_blocks_when_full() {
    let sim = Sim::new();
    let f: Fifo<u32> = Fifo::new(&sim, "f", 2);
    let got = Rc::new(RefCell::new(Vec::new()));
    {
        let (s, f) = (sim.clone(), f.clone());
        sim.spawn("producer", async move {
            for i in 0..5 {
                f.send(i).await;
                // The third send must wait until the consumer has taken one (t = 10).
                if i == 2 {
                    assert_eq!(s.now(), SimTime(10));
                }
            }
        });
    }
    {
        let (s, f, got) = (sim.clone(), f.clone(), got.clone());
        sim.spawn("consumer", async move {
            s.wait_until(SimTime(10)).await;
            for _ in 0..5 {
                let v = f.recv().await;
                got.borrow_mut().push(v);
            }
        });
    }
    assert_eq!(sim.run(None).end, RunEnd::Finished);
    assert_eq!(*got.borrow(), vec![0, 1, 2, 3, 4]);
}

#[test]
fn deadlock_reports_who_waits_on_what() {
    let sim = Sim::new();
    let ev = Event::new(&sim, "never");
    let f: Fifo<u8> = Fifo::new(&sim, "empty-fifo", 1);
    sim.spawn("a", async move { ev.wait().await });
    sim.spawn("b", async move {
        f.recv().await;
    });
    let r = sim.run(None);
    match r.end {
        RunEnd::Deadlock(w) => {
            assert_eq!(
                w,
                vec![
                    "process 'a' waits on event 'never'",
                    "process 'b' waits on fifo 'empty-fifo' (empty)"
                ]
            );
        }
        e => panic!("expected deadlock, got {e:?}"),
    }
}

#[test]
fn daemons_do_not_keep_the_run_alive() {
    let sim = Sim::new();
    let s = sim.clone();
    sim.spawn_daemon("ticker", async move {
        loop {
            s.wait_for(SimTime(7)).await;
        }
    });
    let s = sim.clone();
    sim.spawn("main", async move { s.wait_for(SimTime(20)).await });
    let r = sim.run(None);
    assert_eq!(r.end, RunEnd::Finished);
    assert_eq!(r.time, SimTime(20));
}

#[test]
fn time_limit_stops_the_run() {
    let sim = Sim::new();
    let s = sim.clone();
    sim.spawn("forever", async move {
        loop {
            s.wait_for(SimTime(3)).await;
        }
    });
    let r = sim.run(Some(SimTime(10)));
    assert_eq!(r.end, RunEnd::Limit);
    assert_eq!(r.time, SimTime(10));
}

#[test]
fn stop_and_fault_end_the_run() {
    let sim = Sim::new();
    let s = sim.clone();
    sim.spawn("p", async move {
        s.wait_for(SimTime(4)).await;
        s.stop("eoc");
        s.wait_for(SimTime(4)).await;
        unreachable!("the run ended");
    });
    let r = sim.run(None);
    assert_eq!(r.end, RunEnd::Stopped("eoc".into()));
    assert_eq!(r.time, SimTime(4));

    let sim = Sim::new();
    let s = sim.clone();
    sim.spawn("p", async move { s.fault("core0", "illegal instruction") });
    assert!(sim.run(None).end.is_failure());
}

#[test]
fn zero_delay_loop_hits_the_delta_limit() {
    let sim = Sim::new();
    sim.set_delta_limit(50);
    let s = sim.clone();
    sim.spawn("spin", async move {
        loop {
            s.wait_delta().await;
        }
    });
    assert_eq!(sim.run(None).end, RunEnd::DeltaLimit);
}

/// Records the cycles it ticks and asks to tick again after `gap` cycles, `n` times.
struct Periodic {
    name: &'static str,
    gap: u64,
    left: u32,
    log: Log,
}

impl Clocked for Periodic {
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        self.log
            .borrow_mut()
            .push(format!("{}@{}", self.name, cx.cycle));
        self.left -= 1;
        if self.left == 0 {
            Next::Sleep
        } else {
            Next::In(self.gap)
        }
    }
}

#[test]
fn clocked_participants_tick_by_phase_and_idle_cycles_are_skipped() {
    let sim = Sim::new();
    let dom = sim.add_clock("clk", Clock::from_period_ps(1000));
    let l = log();
    // Registered in reverse phase order: the initiator must still tick first.
    let ic = Rc::new(RefCell::new(Periodic {
        name: "ic",
        gap: 1_000_000,
        left: 2,
        log: l.clone(),
    }));
    let w_ic = sim.add_clocked(dom, "ic", PHASE_INTERCONNECT, false, ic);
    let ini = Rc::new(RefCell::new(Periodic {
        name: "ini",
        gap: 1_000_000,
        left: 2,
        log: l.clone(),
    }));
    let w_ini = sim.add_clocked(dom, "ini", PHASE_INITIATOR, false, ini);
    w_ic.at(5);
    w_ini.at(5);
    let r = sim.run(None);
    assert_eq!(r.end, RunEnd::Finished);
    assert_eq!(
        *l.borrow(),
        vec!["ini@5", "ic@5", "ini@1000005", "ic@1000005"]
    );
    // 4 ticks in all: the million idle cycles between cost nothing.
    assert_eq!(r.activations, 4);
    assert_eq!(r.time, SimTime(1_000_005 * 1000));
}

struct Sleeper;
impl Clocked for Sleeper {
    fn tick(&mut self, _cx: &mut TickCtx<'_>) -> Next {
        Next::Sleep
    }
    fn blocked_on(&self) -> Option<String> {
        Some("event unit mask 0x1000".into())
    }
}

#[test]
fn a_blocked_participant_with_nothing_scheduled_is_a_deadlock() {
    let sim = Sim::new();
    let dom = sim.add_clock("clk", Clock::from_period_ps(10));
    sim.add_clocked(dom, "core3", 0, false, Rc::new(RefCell::new(Sleeper)));
    match sim.run(None).end {
        RunEnd::Deadlock(w) => assert_eq!(w, vec!["'core3' waits on event unit mask 0x1000"]),
        e => panic!("expected deadlock, got {e:?}"),
    }
}

#[test]
fn a_process_can_wake_a_clocked_participant_at_the_next_edge() {
    let sim = Sim::new();
    let clk = Clock::from_period_ps(1000);
    let dom = sim.add_clock("clk", clk);
    let l = log();
    let p = Rc::new(RefCell::new(Periodic {
        name: "p",
        gap: 1,
        left: 1,
        log: l.clone(),
    }));
    let w = sim.add_clocked(dom, "p", 0, false, p);
    let s = sim.clone();
    sim.spawn("waker", async move {
        s.wait_until(SimTime(2500)).await;
        w.at(s.next_tick_cycle(dom));
    });
    sim.run(None);
    // Woken at 2.5 ns: the next edge is cycle 3 (3 ns).
    assert_eq!(*l.borrow(), vec!["p@3"]);
}

#[test]
fn wait_cycles_lands_on_clock_edges() {
    let sim = Sim::new();
    let clk = Clock::from_mhz(613.0).unwrap();
    assert_eq!(clk.period_ps(), 1631);
    let s = sim.clone();
    sim.spawn("p", async move {
        s.wait_for(SimTime(100)).await;
        s.wait_cycles(clk, 2).await;
        assert_eq!(s.now(), SimTime(3 * 1631));
    });
    assert_eq!(sim.run(None).end, RunEnd::Finished);
}

/// Asks, during its tick, for the cycle at which a participant woken now would run.
struct AsksNextTick {
    domain: vp_kernel::clocked::DomainId,
    seen: Rc<RefCell<Vec<(u64, u64)>>>,
    left: u32,
}

impl Clocked for AsksNextTick {
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        let n = cx.sim.next_tick_cycle(self.domain);
        self.seen.borrow_mut().push((cx.cycle, n));
        self.left -= 1;
        if self.left == 0 {
            Next::Sleep
        } else {
            Next::Cycle
        }
    }
}

#[test]
fn during_a_tick_the_next_tick_cycle_is_the_following_one() {
    // Whether the kernel ticks cycle by cycle or in its fast loop, a wake-up requested
    // during the tick of cycle c lands on c + 1.
    let sim = Sim::new();
    let dom = sim.add_clock("clk", Clock::from_period_ps(10));
    let seen = Rc::new(RefCell::new(Vec::new()));
    let p = Rc::new(RefCell::new(AsksNextTick {
        domain: dom,
        seen: seen.clone(),
        left: 4,
    }));
    sim.add_clocked(dom, "p", 0, false, p).at(2);
    sim.run(None);
    assert_eq!(*seen.borrow(), vec![(2, 3), (3, 4), (4, 5), (5, 6)]);
}

/// Records the horizon it sees in each tick, then asks for the next cycle `n` times.
struct HorizonProbe {
    seen: Rc<RefCell<Vec<(u64, u64)>>>,
    left: u32,
}

impl Clocked for HorizonProbe {
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        self.seen.borrow_mut().push((cx.cycle, cx.horizon()));
        self.left -= 1;
        if self.left == 0 {
            Next::Sleep
        } else {
            Next::Cycle
        }
    }
}

#[test]
fn the_horizon_is_the_earliest_cycle_anything_else_can_act() {
    // probe ticks in cycles 5 and 6; another participant wakes in 12, ticks, and sleeps.
    let run = |timed_at_ps: Option<u64>, limit_cycle: Option<u64>, second_domain: bool| {
        let sim = Sim::new();
        let clk = Clock::from_period_ps(1000);
        let dom = sim.add_clock("clk", clk);
        if second_domain {
            sim.add_clock("other", Clock::from_period_ps(700));
        }
        let seen = Rc::new(RefCell::new(Vec::new()));
        let probe = Rc::new(RefCell::new(HorizonProbe {
            seen: seen.clone(),
            left: 2,
        }));
        let other = Rc::new(RefCell::new(Periodic {
            name: "other",
            gap: 1,
            left: 1,
            log: log(),
        }));
        sim.add_clocked(dom, "probe", 0, false, probe).at(5);
        sim.add_clocked(dom, "other", 0, false, other).at(12);
        if let Some(t) = timed_at_ps {
            let s = sim.clone();
            sim.spawn("timer", async move { s.wait_until(SimTime(t)).await });
        }
        sim.run(limit_cycle.map(|c| clk.time_of(c)));
        let v = seen.borrow().clone();
        v
    };
    // The other participant's wake bounds it; the probe's own next tick does not.
    assert_eq!(run(None, None, false), vec![(5, 12), (6, 12)]);
    // A timed notification at 9.5 ns: cycle 10 is the first edge not before it.
    assert_eq!(run(Some(9_500), None, false), vec![(5, 10), (6, 10)]);
    // ... at exactly 9 ns: cycle 9.
    assert_eq!(run(Some(9_000), None, false), vec![(5, 9), (6, 9)]);
    // A run limit at cycle 7 (inclusive): cycle 8 is never run.
    assert_eq!(run(None, Some(7), false), vec![(5, 8), (6, 8)]);
    // Two clock domains (the general loop): no lookahead.
    assert_eq!(run(None, None, true), vec![(5, 5), (6, 6)]);
}

/// Registers a participant woken for cycle 9 during its first tick, then records the
/// horizon it sees.
struct Registrar {
    sim: Sim,
    dom: vp_kernel::clocked::DomainId,
    seen: Rc<RefCell<Vec<(u64, u64)>>>,
}

impl Clocked for Registrar {
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        if self.seen.borrow().is_empty() {
            let late = Rc::new(RefCell::new(Periodic {
                name: "late",
                gap: 1,
                left: 1,
                log: log(),
            }));
            self.sim.add_clocked(self.dom, "late", 0, false, late).at(9);
        }
        self.seen.borrow_mut().push((cx.cycle, cx.horizon()));
        if self.seen.borrow().len() < 2 {
            Next::Cycle
        } else {
            Next::Sleep
        }
    }
}

#[test]
fn a_participant_registered_during_a_tick_bounds_the_horizon() {
    // In the tick that registers it, the newcomer is not in the tick order yet: no
    // lookahead at all. From the next cycle on it is, and its wake (9) bounds the horizon.
    let sim = Sim::new();
    let dom = sim.add_clock("clk", Clock::from_period_ps(1000));
    let seen = Rc::new(RefCell::new(Vec::new()));
    let r = Rc::new(RefCell::new(Registrar {
        sim: sim.clone(),
        dom,
        seen: seen.clone(),
    }));
    sim.add_clocked(dom, "registrar", 0, false, r).at(5);
    sim.run(None);
    assert_eq!(*seen.borrow(), vec![(5, 5), (6, 9)]);
}
