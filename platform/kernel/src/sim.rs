//! The discrete-event executor.
//!
//! One [`Sim`] is one simulation. It is single-threaded (not `Send`) and deterministic:
//!
//! * Simulated time is a [`SimTime`] in picoseconds. Timed notifications live in a
//!   min-heap ordered by `(time, sequence)`, where the sequence number is assigned when
//!   the notification is scheduled, so equal times run in scheduling order.
//! * At one time point the kernel alternates SystemC-style evaluation and delta phases:
//!   every runnable process runs (in the order it became runnable), then the next-delta
//!   notifications fire, and so on until nothing is runnable. A limit on delta cycles per
//!   time point turns a combinational loop into a clear error instead of a hang.
//! * After the processes settle, the clock domains whose edge falls at this time tick their
//!   [`crate::Clocked`] participants (see [`crate::clocked`]), and whatever the
//!   ticks notify runs in further deltas at the same time.
//! * When nothing is runnable the kernel jumps to the next timed notification or active
//!   clock edge, whichever is earlier: idle stretches cost nothing.
//!
//! A run ends when no live process or participant is left ([`RunEnd::Finished`]), on
//! [`Sim::stop`] (e.g. end of computation), on [`Sim::fault`], at the time limit, or on
//! deadlock: processes still waiting with nothing scheduled, reported with who waits on what.

use std::cell::{Cell, RefCell};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use crate::clocked::{Clocked, Domain, DomainId, Others, Part, TickCtx, Wake};
use crate::sync::EventInner;
use crate::time::{Clock, SimTime};

/// Identifies a process (an async task) within one simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub(crate) usize);

/// Maximum delta cycles at one time point before the run stops with [`RunEnd::DeltaLimit`].
pub const DEFAULT_DELTA_LIMIT: u64 = 100_000;

type BoxFuture = Pin<Box<dyn Future<Output = ()>>>;

struct TaskSlot {
    name: String,
    daemon: bool,
    future: Option<BoxFuture>,
    done: bool,
    queued: bool,
    waiting_on: String,
}

pub(crate) enum Action {
    Wake(TaskId),
    Notify(Rc<EventInner>),
}

struct Timed {
    time: SimTime,
    seq: u64,
    action: Action,
}
impl PartialEq for Timed {
    fn eq(&self, o: &Self) -> bool {
        self.time == o.time && self.seq == o.seq
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timed {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.time, self.seq).cmp(&(o.time, o.seq))
    }
}

/// Why a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// No live process or clocked participant is left.
    Finished,
    /// A component asked to stop (end of computation, a job list done, ...).
    Stopped(String),
    /// A component hit a condition the simulation cannot continue from.
    Fault { source: String, message: String },
    /// The time limit (the scenario's cycle limit) was reached.
    Limit,
    /// Live processes wait, nothing is scheduled: each entry says who waits on what.
    Deadlock(Vec<String>),
    /// Too many delta cycles at one time point (a zero-delay loop).
    DeltaLimit,
}

impl RunEnd {
    /// True for the ends that mean the simulation could not complete.
    pub fn is_failure(&self) -> bool {
        !matches!(self, RunEnd::Finished | RunEnd::Stopped(_))
    }
}

/// The outcome of [`Sim::run`].
#[derive(Clone, Debug)]
pub struct RunReport {
    pub end: RunEnd,
    /// Simulated time when the run ended.
    pub time: SimTime,
    /// Processes polled and clocked ticks executed (a measure of kernel work).
    pub activations: u64,
}

pub(crate) struct Inner {
    now: Cell<SimTime>,
    delta: Cell<u64>,
    seq: Cell<u64>,
    tasks: RefCell<Vec<TaskSlot>>,
    ready: RefCell<VecDeque<TaskId>>,
    timed: RefCell<BinaryHeap<Reverse<Timed>>>,
    delta_q: RefCell<Vec<Action>>,
    domains: RefCell<Vec<Domain>>,
    end: RefCell<Option<RunEnd>>,
    /// `end` holds a request (a flag the per-cycle loops test without a borrow).
    ending: Cell<bool>,
    live_tasks: Cell<usize>,
    current_task: Cell<Option<TaskId>>,
    delta_limit: Cell<u64>,
    activations: Cell<u64>,
    /// Bumped whenever a process is made runnable or a notification is scheduled: while
    /// it holds the value it had when the per-cycle fast loop began, the horizons need not
    /// look at the queues (see [`Sim::queues_unchanged`]).
    events: Cell<u64>,
    /// `events` when the running fast loop began (`u64::MAX` outside it).
    loop_events: Cell<u64>,
    /// State shared by name between components ([`Sim::shared`]), in creation order.
    shared: RefCell<Vec<(&'static str, Rc<dyn std::any::Any>)>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Weak<Inner>>> = const { RefCell::new(None) };
    static NOW_PS: Cell<u64> = const { Cell::new(0) };
}

/// Simulated time of the simulation running on this thread, in picoseconds (0 when none
/// runs). Trace layers use it to stamp events with simulated, never wall, time.
pub fn current_time_ps() -> u64 {
    NOW_PS.with(|c| c.get())
}

/// A handle to one simulation. Cloning it is cheap and gives another handle to the same
/// simulation (components keep one to spawn processes and notify events).
#[derive(Clone)]
pub struct Sim {
    pub(crate) inner: Rc<Inner>,
}

/// A handle to a simulation that does not keep it alive ([`Sim::downgrade`]).
#[derive(Clone)]
pub struct WeakSim(Weak<Inner>);

impl WeakSim {
    /// The simulation, if anything still holds it.
    pub fn upgrade(&self) -> Option<Sim> {
        self.0.upgrade().map(Sim::from_inner)
    }
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}

impl Sim {
    pub fn new() -> Sim {
        Sim {
            inner: Rc::new(Inner {
                now: Cell::new(SimTime::ZERO),
                delta: Cell::new(0),
                seq: Cell::new(0),
                tasks: RefCell::new(Vec::new()),
                ready: RefCell::new(VecDeque::new()),
                timed: RefCell::new(BinaryHeap::new()),
                delta_q: RefCell::new(Vec::new()),
                domains: RefCell::new(Vec::new()),
                end: RefCell::new(None),
                ending: Cell::new(false),
                live_tasks: Cell::new(0),
                current_task: Cell::new(None),
                delta_limit: Cell::new(DEFAULT_DELTA_LIMIT),
                activations: Cell::new(0),
                events: Cell::new(0),
                loop_events: Cell::new(u64::MAX),
                shared: RefCell::new(Vec::new()),
            }),
        }
    }

    pub(crate) fn from_inner(inner: Rc<Inner>) -> Sim {
        Sim { inner }
    }
    pub(crate) fn weak(&self) -> Weak<Inner> {
        Rc::downgrade(&self.inner)
    }

    /// A handle that does not keep the simulation alive (see [`WeakSim`]).
    pub fn downgrade(&self) -> WeakSim {
        WeakSim(Rc::downgrade(&self.inner))
    }

    /// Let go of everything the simulation holds: its processes, pending notifications,
    /// clocked participants and shared state. Components keep handles to their
    /// simulation, so a simulation and its components hold each other: without this, a
    /// finished simulation is never freed (a sweep of thousands of runs in one process
    /// would keep them all). The simulation cannot run afterwards; the components can
    /// still be read (their statistics), and are freed with the last handle to them.
    pub fn release(&self) {
        let i = &self.inner;
        // taken out first: dropping them may reach the simulation again
        let tasks = std::mem::take(&mut *i.tasks.borrow_mut());
        let timed = std::mem::take(&mut *i.timed.borrow_mut());
        let delta = std::mem::take(&mut *i.delta_q.borrow_mut());
        let shared = std::mem::take(&mut *i.shared.borrow_mut());
        let parts: Vec<_> = i
            .domains
            .borrow_mut()
            .iter_mut()
            .map(|d| d.release_parts())
            .collect();
        i.ready.borrow_mut().clear();
        i.live_tasks.set(0);
        drop((tasks, timed, delta, shared, parts));
    }

    /// Current simulated time.
    pub fn now(&self) -> SimTime {
        self.inner.now.get()
    }
    /// Delta cycle count at the current time point.
    pub fn delta(&self) -> u64 {
        self.inner.delta.get()
    }
    pub fn set_delta_limit(&self, limit: u64) {
        self.inner.delta_limit.set(limit.max(1));
    }

    /// Start a process. It runs first in the current (or first) evaluation phase, after the
    /// processes already runnable. The run does not end while it is unfinished.
    pub fn spawn<F: Future<Output = ()> + 'static>(&self, name: impl Into<String>, f: F) -> TaskId {
        self.spawn_inner(name.into(), false, Box::pin(f))
    }

    /// Start a daemon process: like [`Sim::spawn`], but the run may end while it still
    /// waits (servers, monitors, periodic samplers).
    pub fn spawn_daemon<F: Future<Output = ()> + 'static>(
        &self,
        name: impl Into<String>,
        f: F,
    ) -> TaskId {
        self.spawn_inner(name.into(), true, Box::pin(f))
    }

    fn spawn_inner(&self, name: String, daemon: bool, fut: BoxFuture) -> TaskId {
        let mut tasks = self.inner.tasks.borrow_mut();
        let id = TaskId(tasks.len());
        tasks.push(TaskSlot {
            name,
            daemon,
            future: Some(fut),
            done: false,
            queued: true,
            waiting_on: String::new(),
        });
        if !daemon {
            self.inner.live_tasks.set(self.inner.live_tasks.get() + 1);
        }
        self.bump_events();
        self.inner.ready.borrow_mut().push_back(id);
        id
    }

    /// The name given to a process.
    pub fn task_name(&self, id: TaskId) -> String {
        self.inner.tasks.borrow()[id.0].name.clone()
    }

    /// Is the process finished?
    pub fn task_done(&self, id: TaskId) -> bool {
        self.inner.tasks.borrow()[id.0].done
    }

    pub(crate) fn next_seq(&self) -> u64 {
        let s = self.inner.seq.get();
        self.inner.seq.set(s + 1);
        s
    }

    /// Count a change to the queues (`Inner::events`).
    #[inline]
    fn bump_events(&self) {
        self.inner.events.set(self.inner.events.get() + 1);
    }

    /// Are the queues as the running per-cycle fast loop found them: nothing runnable
    /// (it began with nothing runnable) and no notification scheduled since (the first
    /// one bounds the loop's stop)? False outside the fast loop.
    #[inline]
    pub(crate) fn queues_unchanged(&self) -> bool {
        self.inner.events.get() == self.inner.loop_events.get()
    }

    pub(crate) fn schedule_at(&self, time: SimTime, action: Action) {
        self.bump_events();
        let seq = self.next_seq();
        self.inner
            .timed
            .borrow_mut()
            .push(Reverse(Timed { time, seq, action }));
    }

    pub(crate) fn schedule_delta(&self, action: Action) {
        self.bump_events();
        self.inner.delta_q.borrow_mut().push(action);
    }

    /// Make a process runnable in the current evaluation phase (no-op if already queued or
    /// finished).
    pub(crate) fn wake(&self, id: TaskId) {
        let mut tasks = self.inner.tasks.borrow_mut();
        let slot = &mut tasks[id.0];
        if slot.done || slot.queued {
            return;
        }
        slot.queued = true;
        drop(tasks);
        self.bump_events();
        self.inner.ready.borrow_mut().push_back(id);
    }

    /// The process being polled right now; panics when called outside a process, which is
    /// a programming error in a component (awaiting a kernel future outside the kernel).
    pub(crate) fn current_task(&self) -> TaskId {
        self.inner
            .current_task
            .get()
            .expect("a kernel future was polled outside a simulation process")
    }

    pub(crate) fn set_waiting_on(&self, what: &str) {
        if let Some(id) = self.inner.current_task.get() {
            let mut tasks = self.inner.tasks.borrow_mut();
            let w = &mut tasks[id.0].waiting_on;
            w.clear();
            w.push_str(what);
        }
    }

    /// Suspend the calling process until simulated time `t` (at once if `t` is not in the
    /// future). Use it only from a process of this simulation.
    pub fn wait_until(&self, t: SimTime) -> Sleep {
        Sleep {
            sim: self.clone(),
            until: t,
            registered: false,
        }
    }

    /// Suspend the calling process for `d`.
    pub fn wait_for(&self, d: SimTime) -> Sleep {
        self.wait_until(self.now().saturating_add(d))
    }

    /// Suspend the calling process for `n` cycles of `clock`, to the edge `n` cycles after the
    /// current (or next, when between edges) edge.
    pub fn wait_cycles(&self, clock: Clock, n: u64) -> Sleep {
        let c = clock.cycle_at_or_after(self.now());
        self.wait_until(clock.time_of(c + n))
    }

    /// Suspend the calling process until the next delta cycle.
    pub fn wait_delta(&self) -> Sleep {
        Sleep {
            sim: self.clone(),
            until: SimTime::MAX,
            registered: false,
        }
    }

    /// Ask the run to end after the current process or tick returns (a normal end, such as
    /// end of computation). The first request wins.
    pub fn stop(&self, reason: impl Into<String>) {
        let mut end = self.inner.end.borrow_mut();
        if end.is_none() {
            *end = Some(RunEnd::Stopped(reason.into()));
            self.inner.ending.set(true);
        }
    }

    /// End the run because it cannot continue (illegal instruction, unmapped access, a bad
    /// job). `source` names the component, `message` says what and where.
    pub fn fault(&self, source: impl Into<String>, message: impl Into<String>) {
        let mut end = self.inner.end.borrow_mut();
        if end.is_none() || matches!(*end, Some(RunEnd::Stopped(_))) {
            *end = Some(RunEnd::Fault {
                source: source.into(),
                message: message.into(),
            });
            self.inner.ending.set(true);
        }
    }

    /// Has a stop or fault been requested?
    pub fn stopping(&self) -> bool {
        self.inner.ending.get()
    }

    /// Add a clock domain; its participants tick on its edges.
    pub fn add_clock(&self, name: impl Into<String>, clock: Clock) -> DomainId {
        let mut doms = self.inner.domains.borrow_mut();
        doms.push(Domain::new(name.into(), clock));
        DomainId(doms.len() - 1)
    }

    pub fn clock(&self, d: DomainId) -> Clock {
        self.inner.domains.borrow()[d.0].clock
    }

    /// Register a clocked participant on a domain. Participants tick in ascending `phase`,
    /// then registration order, in every cycle in which they are awake. It starts asleep
    /// unless woken through the returned [`Wake`] (or `start_awake`).
    pub fn add_clocked(
        &self,
        domain: DomainId,
        name: impl Into<String>,
        phase: i32,
        daemon: bool,
        obj: Rc<RefCell<dyn Clocked>>,
    ) -> Wake {
        let mut doms = self.inner.domains.borrow_mut();
        let d = &mut doms[domain.0];
        let wake = Wake::in_domain(d.cyc.clone());
        d.add(Part {
            name: name.into(),
            phase,
            daemon,
            wake: wake.clone(),
            obj,
        });
        wake
    }

    /// The cycle of domain `d` in progress now (edge at or before now).
    pub fn cycle_now(&self, d: DomainId) -> u64 {
        self.clock(d).cycle_at(self.now())
    }

    /// The first cycle of domain `d` that has not ticked yet: where a participant woken
    /// from a process now will run.
    pub fn next_tick_cycle(&self, d: DomainId) -> u64 {
        let doms = self.inner.domains.borrow();
        doms[d.0].first_untick(self.now())
    }

    /// The cycle an access made now belongs to: the cycle being ticked when called from a
    /// clocked participant's tick, otherwise the next cycle to tick (a process runs before
    /// the clock tick of its time point). Register files use it to time-stamp accesses.
    pub fn access_cycle(&self, d: DomainId) -> u64 {
        let doms = self.inner.domains.borrow();
        match doms[d.0].cyc.ticking_cycle.get() {
            Some(c) => c,
            None => doms[d.0].first_untick(self.now()),
        }
    }

    /// Did the clocked participant woken through `wake` (registered on domain `d`) have
    /// its turn in `cycle`: has that cycle been ticked, and not cut short by a stop or fault
    /// before the participant's place in the tick order? A participant that works ahead of
    /// the clock (a core posting an access dated in a later cycle) asks this at the end of
    /// a run to tell what it did in cycles the run never reached.
    pub fn had_turn(&self, d: DomainId, wake: &Wake, cycle: u64) -> bool {
        self.inner.domains.borrow()[d.0].had_turn(wake, cycle)
    }

    /// Did the run reach the turn in `cycle` of the participant woken through `wake`
    /// (registered on domain `d`)? As [`Sim::had_turn`], and also when no participant
    /// ticked in `cycle` but the run went past it: the cycle is not after the current time
    /// (a run ended by its time limit covers every cycle up to the limit, ticked or not).
    /// For a participant that did ahead, in another's tick, what it would have done in its
    /// turn in `cycle`.
    pub fn reached_turn(&self, d: DomainId, wake: &Wake, cycle: u64) -> bool {
        let doms = self.inner.domains.borrow();
        let dom = &doms[d.0];
        if cycle < dom.next_unticked() {
            return dom.had_turn(wake, cycle);
        }
        dom.clock.time_of(cycle) <= self.now()
    }

    /// The value shared under `key` by the components of this simulation: made with
    /// `T::default()` by the first caller, the same `Rc` for every later one. For
    /// components of one kind that need a common view (how many cores are busy). A key
    /// already holding another type is a programming error and panics.
    pub fn shared<T: Default + 'static>(&self, key: &'static str) -> Rc<T> {
        let mut v = self.inner.shared.borrow_mut();
        if let Some((_, x)) = v.iter().find(|(k, _)| *k == key) {
            return x
                .clone()
                .downcast::<T>()
                .unwrap_or_else(|_| panic!("Sim::shared: key '{key}' holds another type"));
        }
        let x = Rc::new(T::default());
        v.push((key, x.clone()));
        x
    }

    /// Time of the earliest timed notification, if any.
    pub(crate) fn next_timed_time(&self) -> Option<SimTime> {
        self.inner.timed.borrow().peek().map(|r| r.0.time)
    }

    /// Is a process runnable or a delta notification pending?
    pub(crate) fn has_runnable(&self) -> bool {
        !self.inner.ready.borrow().is_empty() || !self.inner.delta_q.borrow().is_empty()
    }

    /// Run until the end condition (see [`RunEnd`]) or until `limit` (inclusive: events at
    /// `limit` still run).
    pub fn run(&self, limit: Option<SimTime>) -> RunReport {
        let prev = CURRENT.with(|c| c.replace(Some(self.weak())));
        let end = self.run_loop(limit.unwrap_or(SimTime::MAX));
        CURRENT.with(|c| *c.borrow_mut() = prev);
        RunReport {
            end,
            time: self.now(),
            activations: self.inner.activations.get(),
        }
    }

    fn set_now(&self, t: SimTime) {
        self.inner.now.set(t);
        NOW_PS.with(|c| c.set(t.0));
    }

    fn run_loop(&self, limit: SimTime) -> RunEnd {
        NOW_PS.with(|c| c.set(self.now().0));
        loop {
            // Evaluate and settle the current time point.
            if let Some(e) = self.settle() {
                return e;
            }
            if let Some(e) = self.inner.end.borrow_mut().take() {
                self.inner.ending.set(false);
                return e;
            }
            // Is anything alive?
            let (next_edge, awake_live) = self.domain_summary();
            let live = self.inner.live_tasks.get() > 0 || awake_live || !self.blocked().is_empty();
            if !live {
                return RunEnd::Finished;
            }
            let next_timed = self.inner.timed.borrow().peek().map(|r| r.0.time);
            let next = match (next_timed, next_edge) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => return RunEnd::Deadlock(self.who_waits()),
            };
            if next > limit {
                self.set_now(limit);
                return RunEnd::Limit;
            }
            if next_edge == Some(next)
                && next_timed.is_none_or(|t| t > next)
                && self.fast_ticks(limit, next_timed)
            {
                continue;
            }
            self.set_now(next);
            self.inner.delta.set(0);
            // Fire the timed notifications of this time point in (time, seq) order.
            loop {
                let item = {
                    let mut heap = self.inner.timed.borrow_mut();
                    match heap.peek() {
                        Some(r) if r.0.time == next => heap.pop().map(|r| r.0),
                        _ => None,
                    }
                };
                match item {
                    Some(t) => self.perform(t.action),
                    None => break,
                }
            }
        }
    }

    /// The per-cycle fast path: with one clock domain, no runnable process and no timed
    /// notification before the next edge, tick consecutive cycles in a tight loop until a
    /// process becomes runnable, a notification is due, a stop is requested, the limit is
    /// reached or every participant sleeps. Same order of evaluation as the general loop
    /// (timed notifications and processes at a time point run before its clock tick), only
    /// without re-scanning the queues between cycles. Returns false if it ticked nothing.
    fn fast_ticks(&self, limit: SimTime, next_timed: Option<SimTime>) -> bool {
        let stop_before = next_timed.unwrap_or(SimTime::MAX);
        let mut doms = self.inner.domains.borrow_mut();
        if doms.len() != 1 {
            return false;
        }
        let d = &mut doms[0];
        let period = d.clock.period_ps();
        let cyc = d.cyc.clone();
        let mut next_unticked = d.next_unticked();
        // The first cycle this loop must not run: past the limit or at the timed
        // notification (what participants' horizons are bounded by).
        let stop_cycle = (limit.ps() / period)
            .saturating_add(1)
            .min(stop_before.ps().div_ceil(period));
        let small = d.small();
        let parts = d.take_parts();
        drop(doms);
        // Nothing is runnable now and the first timed notification bounds `stop_cycle`:
        // the horizons look at the queues again only once this changes.
        let inner = &*self.inner;
        inner.loop_events.set(inner.events.get());
        let mut ticked = false;
        let mut activations = 0u64;
        // The earliest wake: a full scan once, then each cycle's pass finds it among the
        // participants it visits, and `lowest` reports the wakes given during the pass to
        // participants it had already visited (a grant waking an initiator).
        let mut min = u64::MAX;
        for p in parts.iter() {
            min = min.min(p.wake.get());
        }
        'cycles: loop {
            if min == u64::MAX {
                break;
            }
            let c = min.max(next_unticked);
            let t = SimTime(c.saturating_mul(period));
            if t >= stop_before || t > limit {
                break;
            }
            self.set_now(t);
            inner.delta.set(0);
            next_unticked = c + 1;
            // Participants and processes asking for the next tick cycle during this tick
            // must see this cycle as ticked.
            cyc.next_unticked.set(next_unticked);
            cyc.ticking_cycle.set(Some(c));
            cyc.lowest.set(u64::MAX);
            ticked = true;
            let mut next_min = u64::MAX;
            let Some(first) = parts.first() else { break };
            // One context for the cycle; each tick gets its own wake handle (and the
            // cycle again, in case a participant wrote it).
            let mut cx = TickCtx {
                cycle: c,
                sim: self,
                wake: &first.wake,
                others: Others::Fast {
                    parts: &parts,
                    cyc: &cyc,
                    stop: stop_cycle,
                    period_ps: period,
                },
            };
            // Visit the awake participants in tick order (all of them in a domain of more
            // than 64); the set is read again after every tick, which may wake later ones.
            let mut from = 0usize;
            loop {
                let i = if small {
                    let bits = cyc.awake.get() & u64::MAX.checked_shl(from as u32).unwrap_or(0);
                    if bits == 0 {
                        break;
                    }
                    bits.trailing_zeros() as usize
                } else if from < parts.len() {
                    from
                } else {
                    break;
                };
                from = i + 1;
                let p = &parts[i];
                let mut w = p.wake.get();
                if w <= c {
                    p.wake.set(u64::MAX);
                    activations += 1;
                    cx.cycle = c;
                    cx.wake = &p.wake;
                    let next = p.obj.borrow_mut().tick(&mut cx).as_cycle(c);
                    // (Woken during its own tick: the earlier cycle stands.)
                    w = p.wake.get().min(next);
                    p.wake.set(w);
                    if inner.ending.get() {
                        cyc.cut.set(Some((c, i)));
                        break 'cycles;
                    }
                }
                if w == u64::MAX {
                    // Asleep: out of the set until woken.
                    cyc.awake.set(cyc.awake.get() & !p.wake.bit());
                }
                next_min = next_min.min(w);
            }
            min = next_min.min(cyc.lowest.get());
            // A process made runnable, a delta or a timed notification scheduled during
            // this cycle (the last may be due before `stop_cycle`, which was read when the
            // loop began): the general loop takes over, and handles them in time order.
            if inner.events.get() != inner.loop_events.get() {
                break;
            }
            if cyc.added.get() {
                break;
            }
        }
        inner.activations.set(inner.activations.get() + activations);
        inner.loop_events.set(u64::MAX);
        let mut doms = inner.domains.borrow_mut();
        let d = &mut doms[0];
        d.set_next_unticked(next_unticked);
        cyc.ticking_cycle.set(None);
        let mut parts = parts;
        d.restore_parts(&mut parts);
        ticked
    }

    /// Run evaluation/delta phases and clock ticks at the current time until quiet.
    fn settle(&self) -> Option<RunEnd> {
        loop {
            loop {
                let next = self.inner.ready.borrow_mut().pop_front();
                let Some(id) = next else { break };
                self.poll_task(id);
                if self.inner.ending.get() {
                    return None;
                }
            }
            let pending: Vec<Action> = std::mem::take(&mut *self.inner.delta_q.borrow_mut());
            if !pending.is_empty() {
                let d = self.inner.delta.get() + 1;
                self.inner.delta.set(d);
                if d > self.inner.delta_limit.get() {
                    return Some(RunEnd::DeltaLimit);
                }
                for a in pending {
                    self.perform(a);
                }
                continue;
            }
            if self.tick_domains() {
                if self.inner.ending.get() {
                    return None;
                }
                continue;
            }
            return None;
        }
    }

    pub(crate) fn perform(&self, a: Action) {
        match a {
            Action::Wake(id) => self.wake(id),
            Action::Notify(ev) => ev.fire(self),
        }
    }

    fn poll_task(&self, id: TaskId) {
        let fut = {
            let mut tasks = self.inner.tasks.borrow_mut();
            let slot = &mut tasks[id.0];
            slot.queued = false;
            if slot.done {
                return;
            }
            slot.future.take()
        };
        let Some(mut fut) = fut else { return };
        self.inner.activations.set(self.inner.activations.get() + 1);
        let prev = self.inner.current_task.replace(Some(id));
        let waker = task_waker(id);
        let mut cx = Context::from_waker(&waker);
        let res = fut.as_mut().poll(&mut cx);
        self.inner.current_task.set(prev);
        let mut tasks = self.inner.tasks.borrow_mut();
        let slot = &mut tasks[id.0];
        match res {
            Poll::Ready(()) => {
                slot.done = true;
                if !slot.daemon {
                    self.inner.live_tasks.set(self.inner.live_tasks.get() - 1);
                }
            }
            Poll::Pending => slot.future = Some(fut),
        }
    }

    /// Tick every domain whose next edge is now. Returns true if any participant ticked.
    fn tick_domains(&self) -> bool {
        let now = self.now();
        let n = self.inner.domains.borrow().len();
        let mut any = false;
        for di in 0..n {
            let (cycle, mut parts) = {
                let mut doms = self.inner.domains.borrow_mut();
                let d = &mut doms[di];
                let Some(c) = d.due_cycle(now) else { continue };
                d.mark_ticked(c);
                d.cyc.ticking_cycle.set(Some(c));
                (c, d.take_parts())
            };
            for (i, p) in parts.iter().enumerate() {
                if p.wake.get() <= cycle {
                    p.wake.set(u64::MAX);
                    self.inner.activations.set(self.inner.activations.get() + 1);
                    let mut cx = TickCtx {
                        cycle,
                        sim: self,
                        wake: &p.wake,
                        others: Others::None,
                    };
                    let next = p.obj.borrow_mut().tick(&mut cx);
                    p.wake.at(next.as_cycle(cycle));
                    any = true;
                    if self.inner.ending.get() {
                        let doms = self.inner.domains.borrow();
                        doms[di].cyc.cut.set(Some((cycle, i)));
                        break;
                    }
                }
            }
            let mut doms = self.inner.domains.borrow_mut();
            doms[di].cyc.ticking_cycle.set(None);
            doms[di].restore_parts(&mut parts);
        }
        any
    }

    /// (earliest next edge over all domains, any awake non-daemon participant)
    fn domain_summary(&self) -> (Option<SimTime>, bool) {
        let now = self.now();
        let doms = self.inner.domains.borrow();
        let mut next: Option<SimTime> = None;
        let mut live = false;
        for d in doms.iter() {
            let (edge, l) = d.next_edge(now);
            live |= l;
            if let Some(e) = edge {
                next = Some(next.map_or(e, |n: SimTime| n.min(e)));
            }
        }
        (next, live)
    }

    fn blocked(&self) -> Vec<String> {
        let mut out = Vec::new();
        for d in self.inner.domains.borrow().iter() {
            d.blocked(&mut out);
        }
        out
    }

    /// Who waits on what: unfinished processes and blocked clocked participants.
    pub fn who_waits(&self) -> Vec<String> {
        let tasks = self.inner.tasks.borrow();
        let mut out: Vec<String> = tasks
            .iter()
            .filter(|t| !t.done && !t.daemon)
            .map(|t| {
                if t.waiting_on.is_empty() {
                    format!("process '{}' waits", t.name)
                } else {
                    format!("process '{}' waits on {}", t.name, t.waiting_on)
                }
            })
            .collect();
        drop(tasks);
        out.extend(self.blocked());
        out
    }
}

/// Future returned by [`Sim::wait_until`], [`Sim::wait_for`], [`Sim::wait_cycles`] and
/// [`Sim::wait_delta`].
pub struct Sleep {
    sim: Sim,
    until: SimTime,
    registered: bool,
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.until == SimTime::MAX {
            // wait_delta
            if self.registered {
                return Poll::Ready(());
            }
            self.registered = true;
            let id = self.sim.current_task();
            self.sim.set_waiting_on("the next delta cycle");
            self.sim.schedule_delta(Action::Wake(id));
            return Poll::Pending;
        }
        if self.sim.now() >= self.until {
            return Poll::Ready(());
        }
        if !self.registered {
            self.registered = true;
            let id = self.sim.current_task();
            let until = self.until;
            self.sim.set_waiting_on(&format!("time {}", until));
            self.sim.schedule_at(until, Action::Wake(id));
        }
        Poll::Pending
    }
}

// --- wakers for foreign futures: the data is the task id, the simulation is the one
// running on this thread.

fn task_waker(id: TaskId) -> Waker {
    unsafe fn clone(p: *const ()) -> RawWaker {
        RawWaker::new(p, &VTABLE)
    }
    unsafe fn wake(p: *const ()) {
        wake_by_ref(p)
    }
    unsafe fn wake_by_ref(p: *const ()) {
        let id = TaskId(p as usize);
        CURRENT.with(|c| {
            if let Some(inner) = c.borrow().as_ref().and_then(|w| w.upgrade()) {
                Sim::from_inner(inner).wake(id);
            }
        });
    }
    unsafe fn drop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop);
    // SAFETY: the vtable functions never dereference the pointer; it only carries the id.
    unsafe { Waker::from_raw(RawWaker::new(id.0 as *const (), &VTABLE)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clocked::{Next, TickCtx};

    #[test]
    fn shared_values_are_one_per_key() {
        let sim = Sim::new();
        let a = sim.shared::<Cell<u32>>("a");
        a.set(7);
        assert_eq!(sim.shared::<Cell<u32>>("a").get(), 7);
        assert_eq!(sim.shared::<Cell<u32>>("b").get(), 0);
        // Another simulation has its own.
        assert_eq!(Sim::new().shared::<Cell<u32>>("a").get(), 0);
    }

    /// A component's state: it keeps a handle to its simulation, as components do.
    struct Holder {
        _sim: Sim,
    }

    impl Clocked for Holder {
        fn tick(&mut self, _: &mut TickCtx<'_>) -> Next {
            Next::Sleep
        }
    }

    #[test]
    fn a_released_simulation_and_its_components_are_freed() {
        // A participant, a process waiting for a time never reached (its timed
        // notification pending) and shared state, each holding the simulation: cycles of
        // handles that only `release` breaks.
        let sim = Sim::new();
        let d = sim.add_clock("clk", Clock::from_period_ps(1000));
        let part = Rc::new(RefCell::new(Holder { _sim: sim.clone() }));
        let probe = Rc::downgrade(&part);
        sim.add_clocked(d, "holder", 0, false, part).at(3);
        let (s2, held) = (sim.clone(), Rc::new(Holder { _sim: sim.clone() }));
        let probe2 = Rc::downgrade(&held);
        sim.spawn("waiter", async move {
            s2.wait_until(SimTime(1_000_000)).await;
            drop(held);
        });
        *sim.shared::<RefCell<Option<Sim>>>("loop").borrow_mut() = Some(sim.clone());
        sim.run(Some(SimTime(10_000)));
        let w = sim.downgrade();
        sim.release();
        drop(sim);
        assert!(w.upgrade().is_none(), "the simulation is still held");
        assert!(probe.upgrade().is_none() && probe2.upgrade().is_none());
    }

    /// Ticks in cycle 2, then in `stop_at` where it stops the run (if given).
    struct Once {
        stop_at: Option<u64>,
    }

    impl Clocked for Once {
        fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
            if Some(cx.cycle) == self.stop_at {
                cx.sim.stop("done");
                return Next::Sleep;
            }
            match self.stop_at {
                Some(c) if cx.cycle < c => Next::At(c),
                _ => Next::Sleep,
            }
        }
    }

    /// Add a [`Once`] named `name` on `d`, stopping the run in `stop_at`.
    fn once(sim: &Sim, d: DomainId, name: &str, stop_at: Option<u64>) -> Wake {
        sim.add_clocked(d, name, 0, false, Rc::new(RefCell::new(Once { stop_at })))
    }

    #[test]
    fn a_turn_is_reached_up_to_the_time_limit_ticked_or_not() {
        // Nothing ticks after cycle 2, the limit is cycle 10: cycles up to 10 are reached,
        // though only cycle 2 ticked; 11 is not.
        let sim = Sim::new();
        let d = sim.add_clock("clk", Clock::from_period_ps(1000));
        let w = once(&sim, d, "p", None);
        w.at(2);
        let w2 = once(&sim, d, "q", None);
        w2.at(u64::MAX - 1);
        assert_eq!(sim.run(Some(SimTime(10_000))).end, RunEnd::Limit);
        assert!(sim.reached_turn(d, &w, 2));
        assert!(!sim.had_turn(d, &w, 7));
        assert!(sim.reached_turn(d, &w, 7));
        assert!(sim.reached_turn(d, &w, 10));
        assert!(!sim.reached_turn(d, &w, 11));
    }

    #[test]
    fn a_turn_after_a_stop_is_not_reached() {
        // p0 stops the run in cycle 5: p1 (ordered after it) did not have its turn there.
        let sim = Sim::new();
        let d = sim.add_clock("clk", Clock::from_period_ps(1000));
        let p0 = once(&sim, d, "p0", Some(5));
        p0.at(2);
        let p1 = once(&sim, d, "p1", None);
        p1.at(3);
        assert_eq!(sim.run(None).end, RunEnd::Stopped("done".into()));
        assert!(sim.reached_turn(d, &p0, 5));
        assert!(sim.reached_turn(d, &p1, 4));
        assert!(!sim.reached_turn(d, &p1, 5));
        assert!(!sim.reached_turn(d, &p1, 6));
    }
}
