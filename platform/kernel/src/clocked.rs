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
pub struct Wake(Rc<WakeCell>);

#[derive(Debug)]
struct WakeCell {
    at: Cell<u64>,
    /// The domain of a registered participant: a wake also lowers the domain's `lowest`
    /// and sets the participant's bit in its `awake` set, so that the kernel's per-cycle
    /// loop learns of it without scanning every participant.
    domain: Option<Rc<CycleState>>,
    /// The participant's bit in the domain's `awake` set (1 << position in tick order;
    /// 0 while unplaced or beyond 64 participants).
    bit: Cell<u64>,
}

impl Default for Wake {
    fn default() -> Self {
        Wake::new()
    }
}

impl Wake {
    pub fn new() -> Wake {
        Wake(Rc::new(WakeCell {
            at: Cell::new(u64::MAX),
            domain: None,
            bit: Cell::new(0),
        }))
    }
    /// The handle of a participant registered on the domain with cycle state `cyc`.
    pub(crate) fn in_domain(cyc: Rc<CycleState>) -> Wake {
        Wake(Rc::new(WakeCell {
            at: Cell::new(u64::MAX),
            domain: Some(cyc),
            bit: Cell::new(0),
        }))
    }
    /// Tick no later than `cycle`. A cycle that has already ticked means the next one.
    #[inline]
    pub fn at(&self, cycle: u64) {
        let w = &*self.0;
        if cycle < w.at.get() {
            w.at.set(cycle);
            if let Some(d) = &w.domain {
                if cycle < d.lowest.get() {
                    d.lowest.set(cycle);
                }
                d.awake.set(d.awake.get() | w.bit.get());
            }
        }
    }
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.at.get()
    }
    /// Set the cycle (the kernel, around a tick; not a wake: `lowest` is not told).
    #[inline]
    pub(crate) fn set(&self, c: u64) {
        self.0.at.set(c)
    }
    pub fn is_asleep(&self) -> bool {
        self.0.at.get() == u64::MAX
    }
    /// The participant's bit in its domain's `awake` set.
    #[inline]
    pub(crate) fn bit(&self) -> u64 {
        self.0.bit.get()
    }
    /// Same participant (identity, never order).
    pub(crate) fn same(&self, o: &Wake) -> bool {
        Rc::ptr_eq(&self.0, &o.0)
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
    /// What [`TickCtx::horizon`] looks at.
    pub(crate) others: Others<'a>,
}

/// The rest of the simulation as [`TickCtx::horizon`] sees it.
#[derive(Clone, Copy)]
pub(crate) enum Others<'a> {
    /// The general loop (several domains, processes): no lookahead.
    None,
    /// The single-domain fast loop: the participants in tick order, the domain's awake
    /// set, and the first cycle the loop must not run (run limit, timed notification due
    /// when the loop began).
    Fast {
        parts: &'a [Part],
        cyc: &'a CycleState,
        stop: u64,
        period_ps: u64,
    },
}

/// What the horizons look at, when they may look ahead at all.
struct Lookahead<'a> {
    parts: &'a [Part],
    cyc: &'a CycleState,
    stop: u64,
    period_ps: u64,
}

impl<'a> TickCtx<'a> {
    /// The fast loop's view for the horizons; `None` in the general loop, and in a tick
    /// that registered a participant (it is not among `parts` until the pass ends).
    #[inline]
    fn lookahead(&self) -> Option<Lookahead<'a>> {
        let Others::Fast {
            parts,
            cyc,
            stop,
            period_ps,
        } = self.others
        else {
            return None;
        };
        (!cyc.added.get()).then_some(Lookahead {
            parts,
            cyc,
            stop,
            period_ps,
        })
    }

    /// The horizon of the ticking participant: no other participant, process or timed
    /// notification can act in a cycle before it, so nothing but this participant itself
    /// can touch shared state before then. A participant may use it to do ahead, at once,
    /// what it would otherwise do over the cycles before the horizon, provided the result
    /// is the same (an initiator alone on the interconnect, see
    /// [`crate::port::Port::request_alone`]).
    ///
    /// It is computed when asked: whatever the participant does that can wake others (a
    /// register write, an event) lowers it, so ask again after such an action. In the
    /// general loop (several clock domains, or with processes runnable) it is `cycle`:
    /// no lookahead at all. Its own wake does not count.
    pub fn horizon(&self) -> u64 {
        self.horizon_above(0)
    }

    /// [`TickCtx::horizon`] when it lies above `floor`; otherwise some cycle not above
    /// `floor` (found with less work: for a participant that only needs to know whether
    /// the horizon lies beyond `floor`).
    #[inline]
    pub fn horizon_above(&self, floor: u64) -> u64 {
        self.bound_above(floor, false)
    }

    /// The horizon of this participant's turns: the first cycle `c` in which something
    /// else may act before this participant's turn in `c`, or in `c - 1` after its turn
    /// there. So for every cycle `d` with `d + 1` before it, nothing else acts between
    /// this participant's turn in `d` and its turn in `d + 1`: an initiator can do at once
    /// an access of cycle `d` and what it would do on collecting the grant in `d + 1`.
    ///
    /// It differs from [`TickCtx::horizon`] (and is at most one more) by the tick order:
    /// a participant ordered after this one that wakes in cycle `w` acts in `w` after this
    /// one's turn, so it bounds this horizon at `w + 1`; every other bound (participants
    /// ordered before, timed notifications, the run limit, runnable processes) as there.
    /// Cycles before it but the last are also before [`TickCtx::horizon`]. Computed when
    /// asked, like [`TickCtx::horizon`]; `cycle` in the general loop.
    pub fn turn_horizon(&self) -> u64 {
        self.turn_horizon_above(0)
    }

    /// [`TickCtx::turn_horizon`] when it lies above `floor`; otherwise some cycle not
    /// above `floor` (found with less work: for a participant that can only use a
    /// horizon above `floor`).
    #[inline]
    pub fn turn_horizon_above(&self, floor: u64) -> u64 {
        self.bound_above(floor, true)
    }

    /// [`TickCtx::horizon_above`], or with `turn` [`TickCtx::turn_horizon_above`] (a
    /// participant ordered after this one bounds it one cycle later).
    #[inline(always)]
    fn bound_above(&self, floor: u64, turn: bool) -> u64 {
        let Some(Lookahead {
            parts,
            cyc,
            stop,
            period_ps,
        }) = self.lookahead()
        else {
            return self.cycle;
        };
        let mut h = stop;
        let own = self.wake.bit();
        if parts.len() <= 64 && own != 0 {
            // Participants first: the bound most often low. Participants with a wake
            // below u64::MAX all have their bit in `awake`; bits below this
            // participant's are ordered before it.
            let mut bits = cyc.awake.get() & !own;
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let w = parts[i].wake.get();
                let w = if turn && (1u64 << i) > own {
                    w.saturating_add(1)
                } else {
                    w
                };
                if w <= floor {
                    return w;
                }
                h = h.min(w);
            }
        } else {
            h = self.bound_of_many(parts, h, turn);
        }
        if h <= floor {
            return h;
        }
        self.kernel_bound(h, period_ps)
    }

    /// The participants' part of [`TickCtx::bound_above`] in a domain of more than 64
    /// participants (no awake set): all of them scanned. Out of line, so that the small
    /// domains' check stays short where it is inlined.
    #[cold]
    #[inline(never)]
    fn bound_of_many(&self, parts: &[Part], mut h: u64, turn: bool) -> u64 {
        let mut after = false;
        for p in parts {
            if p.wake.same(self.wake) {
                after = true;
            } else {
                let w = p.wake.get();
                h = h.min(if turn && after {
                    w.saturating_add(1)
                } else {
                    w
                });
            }
        }
        h
    }

    /// `h` lowered by what is not a participant: the next timed notification (the first
    /// cycle whose edge is not before it) and, with a process runnable, the next cycle.
    /// Neither when the queues are as the fast loop found them (nothing runnable, no
    /// notification due before its stop, which bounds `h`).
    #[inline]
    fn kernel_bound(&self, mut h: u64, period_ps: u64) -> u64 {
        if self.sim.queues_unchanged() {
            return h;
        }
        if let Some(t) = self.sim.next_timed_time() {
            h = h.min(t.ps().div_ceil(period_ps));
        }
        if self.sim.has_runnable() {
            h = h.min(self.cycle + 1);
        }
        h
    }
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
#[derive(Debug)]
pub(crate) struct CycleState {
    /// No participant's wake was brought below this cycle through [`Wake::at`] since the
    /// kernel last reset it (to `u64::MAX`).
    pub(crate) lowest: Cell<u64>,
    /// Bit i set: the participant at position i of the tick order may be awake (every
    /// participant whose wake is not `u64::MAX` has its bit set; domains of at most 64
    /// participants).
    pub(crate) awake: Cell<u64>,
    /// Last cycle that ticked, +1 (0 = none yet).
    pub(crate) next_unticked: Cell<u64>,
    /// The cycle being ticked right now, if the domain is ticking.
    pub(crate) ticking_cycle: Cell<Option<u64>>,
    /// A participant was registered while the domain was ticking.
    pub(crate) added: Cell<bool>,
    /// A stop or fault cut cycle `.0` short after the participant at position `.1` ticked
    /// (the ones after it did not have their turn). Valid while `.0 + 1 == next_unticked`.
    pub(crate) cut: Cell<Option<(u64, usize)>>,
}

impl Default for CycleState {
    fn default() -> Self {
        CycleState {
            lowest: Cell::new(u64::MAX),
            awake: Cell::new(0),
            next_unticked: Cell::new(0),
            ticking_cycle: Cell::new(None),
            added: Cell::new(false),
            cut: Cell::new(None),
        }
    }
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
            // Positions moved: renumber the bits of the awake set.
            let mut awake = 0;
            for (i, q) in self.parts.iter().enumerate() {
                let bit = if i < 64 { 1u64 << i } else { 0 };
                q.wake.0.bit.set(bit);
                if !q.wake.is_asleep() {
                    awake |= bit;
                }
            }
            self.cyc.awake.set(awake);
        }
    }

    /// Can the kernel's per-cycle loop use the awake set (at most 64 participants)?
    pub(crate) fn small(&self) -> bool {
        self.parts.len() <= 64
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

    /// Every participant, removed (see [`Sim::release`]).
    pub(crate) fn release_parts(&mut self) -> Vec<Part> {
        self.cyc.awake.set(0);
        let mut p = std::mem::take(&mut self.parts);
        p.append(&mut self.added);
        p
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

    /// Did the participant woken through `wake` have its turn in `cycle` (see
    /// [`Sim::had_turn`](crate::Sim::had_turn))?
    pub(crate) fn had_turn(&self, wake: &Wake, cycle: u64) -> bool {
        let next = self.cyc.next_unticked.get();
        if cycle >= next {
            return false;
        }
        match self.cyc.cut.get() {
            Some((c, pos)) if c == cycle && c + 1 == next => {
                // Identity, not order: which registered participant this wake belongs to.
                match self.parts.iter().position(|p| p.wake.same(wake)) {
                    Some(i) => i <= pos,
                    None => true,
                }
            }
            _ => true,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RunEnd;

    type Log = Rc<RefCell<Vec<(u64, usize)>>>;

    /// Ticks at the cycles of `plan`; on its tick at cycle `c` of an entry `(c, who, at)` of
    /// `wakes` it wakes participant `who` for cycle `at`; stops the run at `stop_at`.
    #[derive(Default)]
    struct Scripted {
        id: usize,
        plan: Vec<u64>,
        log: Log,
        others: Rc<RefCell<Vec<Wake>>>,
        wakes: Vec<(u64, usize, u64)>,
        stop_at: Option<u64>,
    }

    impl Clocked for Scripted {
        fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
            self.log.borrow_mut().push((cx.cycle, self.id));
            for &(c, who, at) in &self.wakes {
                if c == cx.cycle {
                    self.others.borrow()[who].at(at);
                }
            }
            if self.stop_at == Some(cx.cycle) {
                cx.sim.stop("scripted");
            }
            match self.plan.iter().find(|&&c| c > cx.cycle) {
                Some(&c) => Next::At(c),
                None => Next::Sleep,
            }
        }
    }

    fn build(n: usize, script: impl Fn(usize) -> Scripted) -> (Sim, DomainId, Vec<Wake>, Log) {
        let sim = Sim::new();
        let d = sim.add_clock("clk", Clock::from_period_ps(1000));
        let others = Rc::new(RefCell::new(Vec::new()));
        let log: Log = Rc::new(RefCell::new(Vec::new()));
        let mut wakes = Vec::new();
        for i in 0..n {
            let mut s = script(i);
            s.id = i;
            s.log = log.clone();
            s.others = others.clone();
            let first = s.plan.first().copied();
            let w = sim.add_clocked(d, format!("p{i}"), 0, false, Rc::new(RefCell::new(s)));
            if let Some(c) = first {
                w.at(c);
            }
            wakes.push(w);
        }
        *others.borrow_mut() = wakes.clone();
        (sim, d, wakes, log)
    }

    #[test]
    fn wakes_during_a_pass_keep_the_tick_order_with_few_and_many_participants() {
        // 3 participants use the awake set, 70 the full scan: same ticks.
        for n in [3usize, 70] {
            let last = n - 1;
            // p1, ticking at 4, wakes p0 (already visited) and the last one (not yet
            // visited) for cycle 4: the last ticks in cycle 4, p0 in cycle 5. The last
            // one, ticking at 4, wakes p1 for 9 and p0 for 5 (no earlier than its wake).
            let (sim, _, _, log) = build(n, |i| match i {
                0 => Scripted {
                    plan: vec![2],
                    ..Default::default()
                },
                1 => Scripted {
                    plan: vec![4],
                    wakes: vec![(4, 0, 4), (4, last, 4)],
                    ..Default::default()
                },
                i if i == last => Scripted {
                    wakes: vec![(4, 1, 9), (4, 0, 7)],
                    ..Default::default()
                },
                _ => Scripted::default(),
            });
            assert_eq!(sim.run(None).end, RunEnd::Finished);
            assert_eq!(
                *log.borrow(),
                vec![(2, 0), (4, 1), (4, last), (5, 0), (9, 1)],
                "n = {n}"
            );
        }
    }

    /// (cycle, horizon, turn horizon, turn horizon above the floor) of each tick.
    type Turns = Rc<RefCell<Vec<(u64, u64, u64, u64)>>>;

    /// Records what it sees on each tick.
    struct TurnProbe {
        floor: u64,
        seen: Turns,
    }

    impl Clocked for TurnProbe {
        fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
            self.seen.borrow_mut().push((
                cx.cycle,
                cx.horizon(),
                cx.turn_horizon(),
                cx.turn_horizon_above(self.floor),
            ));
            Next::Sleep
        }
    }

    #[test]
    fn the_turn_horizon_counts_participants_ordered_after_one_cycle_later() {
        // p0, the probe (ticking in cycle 5) and p2 in this order; p0 wakes in `before`,
        // p2 in `after`.
        let run = |before: u64, after: u64, floor: u64| {
            let sim = Sim::new();
            let d = sim.add_clock("clk", Clock::from_period_ps(1000));
            let seen = Rc::new(RefCell::new(Vec::new()));
            let p0 = Rc::new(RefCell::new(Scripted::default()));
            let probe = Rc::new(RefCell::new(TurnProbe {
                floor,
                seen: seen.clone(),
            }));
            let p2 = Rc::new(RefCell::new(Scripted::default()));
            sim.add_clocked(d, "p0", 0, false, p0).at(before);
            sim.add_clocked(d, "probe", 0, false, probe).at(5);
            sim.add_clocked(d, "p2", 0, false, p2).at(after);
            sim.run(None);
            let v = seen.borrow()[0];
            v
        };
        // p2 in 10 acts after the probe's turn in 10: the turn horizon is 11.
        assert_eq!(run(20, 10, 0), (5, 10, 11, 11));
        // p0 in 9 acts before the probe's turn in 9.
        assert_eq!(run(9, 30, 0), (5, 9, 9, 9));
        // p0 in 11 and p2 in 10: both bound it at 11.
        assert_eq!(run(11, 10, 0), (5, 10, 11, 11));
        // Above a floor it is exact; at or below, some cycle not above the floor.
        assert_eq!(run(20, 10, 10).3, 11);
        assert!(run(20, 10, 11).3 <= 11);
        assert!(run(9, 30, 12).3 <= 12);
    }

    /// In cycle 2 schedules a timed notification at cycle 7's edge (period 1000 ps).
    struct Notifier(crate::sync::Event);

    impl Clocked for Notifier {
        fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
            if cx.cycle == 2 {
                self.0.notify_at(SimTime(7_000));
            }
            Next::Sleep
        }
    }

    #[test]
    fn a_notification_scheduled_during_the_fast_loop_bounds_the_horizons() {
        // The notifier (ticking in 2) and the probe (ticking in 4), nothing else awake: the
        // probe's horizons stop at the notification's cycle, not at the end of time.
        let sim = Sim::new();
        let d = sim.add_clock("clk", Clock::from_period_ps(1000));
        let seen = Rc::new(RefCell::new(Vec::new()));
        let ev = crate::sync::Event::new(&sim, "ev");
        sim.add_clocked(d, "n", 0, false, Rc::new(RefCell::new(Notifier(ev))))
            .at(2);
        let probe = Rc::new(RefCell::new(TurnProbe {
            floor: 0,
            seen: seen.clone(),
        }));
        sim.add_clocked(d, "probe", 0, false, probe).at(4);
        sim.run(None);
        assert_eq!(seen.borrow()[0], (4, 7, 7, 7));
    }

    /// Ticks every cycle up to 20 (keeping the fast loop going), noting the last.
    struct Ticker(Rc<Cell<u64>>);

    impl Clocked for Ticker {
        fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
            self.0.set(cx.cycle);
            if cx.cycle < 20 {
                Next::At(cx.cycle + 1)
            } else {
                Next::Sleep
            }
        }
    }

    #[test]
    fn a_notification_scheduled_during_the_fast_loop_fires_at_its_time() {
        // The notifier schedules a notification at cycle 7's edge in its tick of cycle 2,
        // while the ticker keeps the per-cycle loop running: the process waiting for it
        // wakes at 7000 ps, before the clock ticks cycle 7 (timed notifications come
        // first at a time point), not when the loop happens to end.
        let sim = Sim::new();
        let d = sim.add_clock("clk", Clock::from_period_ps(1000));
        let ev = crate::sync::Event::new(&sim, "ev");
        let woke = Rc::new(Cell::new(None));
        let last = Rc::new(Cell::new(0));
        {
            let (ev, woke, last, s) = (ev.clone(), woke.clone(), last.clone(), sim.clone());
            sim.spawn("waiter", async move {
                ev.wait().await;
                woke.set(Some((s.now(), last.get())));
            });
        }
        sim.add_clocked(d, "n", 0, false, Rc::new(RefCell::new(Notifier(ev))))
            .at(2);
        sim.add_clocked(d, "t", 0, false, Rc::new(RefCell::new(Ticker(last))))
            .at(0);
        sim.run(None);
        assert_eq!(woke.get(), Some((SimTime(7_000), 6)));
    }

    #[test]
    fn a_stop_cuts_its_cycle_after_the_stopper() {
        let (sim, d, wakes, log) = build(3, |i| Scripted {
            plan: vec![3, 5],
            stop_at: (i == 1).then_some(5),
            ..Default::default()
        });
        assert_eq!(sim.run(None).end, RunEnd::Stopped("scripted".into()));
        assert_eq!(log.borrow().last(), Some(&(5, 1)));
        assert!(sim.had_turn(d, &wakes[0], 5));
        assert!(sim.had_turn(d, &wakes[1], 5));
        assert!(!sim.had_turn(d, &wakes[2], 5));
        assert!(sim.had_turn(d, &wakes[2], 4));
        assert!(!sim.had_turn(d, &wakes[0], 6));
    }
}
