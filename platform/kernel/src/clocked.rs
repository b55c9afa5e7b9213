//! The clocked process style: per-cycle behaviour as plain state and a `tick` function.
//!
//! Arbiters, initiators and pipelines that act every cycle while busy are cheapest as
//! [`Clocked`] participants of a clock domain rather than as async processes: a tick is a
//! direct call, with no queue, no waker and no allocation. A participant is called only on
//! cycles where it is awake; it says when it next wants to run ([`Next`]) and others wake it
//! through its [`Wake`] handle (a request posted on a port, a register write). When every
//! participant sleeps the kernel jumps straight to the next timed event, so idle stretches
//! cost nothing.
//!
//! Within a cycle, participants tick in ascending phase, then registration order. The memory
//! system uses this for the request/grant handshake: initiators (phase
//! [`PHASE_INITIATOR`]) post requests, the interconnect (phase [`PHASE_INTERCONNECT`])
//! grants them in the same cycle, and the initiator sees the grant and the response on its
//! next tick.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::sim::Sim;
use crate::time::{Clock, SimTime};

/// Phase of initiators (cores, traffic generators, accelerators' streamers).
pub const PHASE_INITIATOR: i32 = 0;
/// Phase of interconnects and arbiters: after every initiator of the cycle.
pub const PHASE_INTERCONNECT: i32 = 100;
/// Phase of monitors that observe the settled state of a cycle.
pub const PHASE_MONITOR: i32 = 200;

/// Identifies a clock domain of a [`Sim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainId(pub usize);

/// When a participant wants to tick next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Next cycle.
    Cycle,
    /// In `n` cycles (`n >= 1`; 0 is taken as 1).
    In(u64),
    /// At this absolute cycle (a cycle not after the current one means the next cycle).
    At(u64),
    /// Not until woken through its [`Wake`] handle.
    Sleep,
}

impl Next {
    pub(crate) fn as_cycle(self, now: u64) -> u64 {
        match self {
            Next::Cycle => now + 1,
            Next::In(n) => now + n.max(1),
            Next::At(c) => c.max(now + 1),
            Next::Sleep => u64::MAX,
        }
    }
}

/// The wake-up handle of a clocked participant: the cycle at which it next ticks
/// (`u64::MAX` = asleep). Waking only ever brings the cycle earlier.
#[derive(Clone, Debug)]
pub struct Wake(Rc<Cell<u64>>);

impl Default for Wake {
    fn default() -> Self {
        Wake::new()
    }
}

impl Wake {
    pub fn new() -> Wake {
        Wake(Rc::new(Cell::new(u64::MAX)))
    }
    /// Tick no later than `cycle`. A cycle that has already ticked means the next one.
    #[inline]
    pub fn at(&self, cycle: u64) {
        if cycle < self.0.get() {
            self.0.set(cycle);
        }
    }
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.get()
    }
    #[inline]
    pub(crate) fn set(&self, c: u64) {
        self.0.set(c)
    }
    pub fn is_asleep(&self) -> bool {
        self.0.get() == u64::MAX
    }
}

/// What a participant sees when it ticks.
pub struct TickCtx<'a> {
    /// The cycle being evaluated.
    pub cycle: u64,
    /// The simulation (to notify events, spawn processes, stop or fault).
    pub sim: &'a Sim,
    /// This participant's own wake handle.
    pub wake: &'a Wake,
}

/// A per-cycle process.
pub trait Clocked {
    /// Evaluate one cycle.
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next;

    /// When asleep: what it waits for, if it still has work to do (a core sleeping on an
    /// event). `None` means it is idle and the run may end without it. Used for the
    /// end-of-run and deadlock decisions.
    fn blocked_on(&self) -> Option<String> {
        None
    }
}

pub(crate) struct Part {
    pub(crate) name: String,
    pub(crate) phase: i32,
    pub(crate) daemon: bool,
    pub(crate) wake: Wake,
    pub(crate) obj: Rc<RefCell<dyn Clocked>>,
}

pub(crate) struct Domain {
    #[allow(dead_code)]
    pub(crate) name: String,
    pub(crate) clock: Clock,
    parts: Vec<Part>,
    /// Parts registered while the domain was ticking.
    added: Vec<Part>,
    ticking: bool,
    /// Where the domain is in its cycles; shared so the kernel's per-cycle loop updates it
    /// without borrowing the domain table.
    pub(crate) cyc: Rc<CycleState>,
}

/// The cycle bookkeeping of a domain.
#[derive(Debug, Default)]
pub(crate) struct CycleState {
    /// Last cycle that ticked, +1 (0 = none yet).
    pub(crate) next_unticked: Cell<u64>,
    /// The cycle being ticked right now, if the domain is ticking.
    pub(crate) ticking_cycle: Cell<Option<u64>>,
    /// A participant was registered while the domain was ticking.
    pub(crate) added: Cell<bool>,
}

impl Domain {
    pub(crate) fn new(name: String, clock: Clock) -> Domain {
        Domain {
            name,
            clock,
            parts: Vec::new(),
            added: Vec::new(),
            ticking: false,
            cyc: Rc::new(CycleState::default()),
        }
    }

    pub(crate) fn add(&mut self, p: Part) {
        if self.ticking {
            self.added.push(p);
            self.cyc.added.set(true);
        } else {
            let pos = self.parts.partition_point(|q| q.phase <= p.phase);
            self.parts.insert(pos, p);
        }
    }

    pub(crate) fn first_untick(&self, now: SimTime) -> u64 {
        self.clock
            .cycle_at_or_after(now)
            .max(self.cyc.next_unticked.get())
    }

    /// The cycle to tick at `now`, if an awake participant is due on an edge at `now`.
    pub(crate) fn due_cycle(&self, now: SimTime) -> Option<u64> {
        if !now.0.is_multiple_of(self.clock.period_ps()) {
            return None;
        }
        let c = now.0 / self.clock.period_ps();
        if c < self.cyc.next_unticked.get() {
            return None;
        }
        let min = self.parts.iter().map(|p| p.wake.get()).min()?;
        (min <= c).then_some(c)
    }

    pub(crate) fn next_unticked(&self) -> u64 {
        self.cyc.next_unticked.get()
    }
    pub(crate) fn set_next_unticked(&mut self, c: u64) {
        self.cyc.next_unticked.set(c);
    }

    pub(crate) fn mark_ticked(&mut self, c: u64) {
        self.cyc.next_unticked.set(c + 1);
    }

    pub(crate) fn take_parts(&mut self) -> Vec<Part> {
        self.ticking = true;
        std::mem::take(&mut self.parts)
    }

    pub(crate) fn restore_parts(&mut self, parts: &mut Vec<Part>) {
        self.ticking = false;
        self.cyc.added.set(false);
        self.parts = std::mem::take(parts);
        for p in std::mem::take(&mut self.added) {
            self.add(p);
        }
    }

    /// Next edge time at which an awake participant ticks, and whether an awake
    /// participant is live (not a daemon).
    pub(crate) fn next_edge(&self, now: SimTime) -> (Option<SimTime>, bool) {
        let mut min = u64::MAX;
        let mut live = false;
        for p in &self.parts {
            let w = p.wake.get();
            if w != u64::MAX {
                min = min.min(w);
                live |= !p.daemon;
            }
        }
        if min == u64::MAX {
            return (None, live);
        }
        (
            Some(self.clock.time_of(min.max(self.first_untick(now)))),
            live,
        )
    }

    /// Descriptions of the sleeping, non-daemon participants that still have work.
    pub(crate) fn blocked(&self, out: &mut Vec<String>) {
        for p in &self.parts {
            if p.wake.is_asleep() && !p.daemon {
                if let Some(what) = p.obj.borrow().blocked_on() {
                    out.push(format!("'{}' waits on {}", p.name, what));
                }
            }
        }
    }
}
