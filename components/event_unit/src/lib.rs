//! # Cluster event unit (event_unit_flex)
//!
//! A model of `event_unit_flex` (github.com/pulp-platform/event_unit_flex,
//! `rtl/event_unit_top.sv`, `event_unit_core.sv`, `hw_barrier_unit.sv`, `hw_mutex_unit.sv`,
//! `hw_dispatch.sv`, `interc_sw_evt_trig.sv`) as instantiated by `pulp_cluster`
//! (`cluster_peripherals.sv`: NB_BARR = cores, one mutex, event map of `cluster_event_map.sv`),
//! with the register layout of pulp-runtime `include/archi/eu/eu_v3.h`.
//!
//! Its timing is compared with the RTL's on the per-core ports (tests/rtl_compare.rs, see
//! there for what agrees): the event buffer is a register, so an event raised in a cycle is
//! seen from the next; a barrier fires the cycle after its last arrival; a load's data is
//! the registers' content in its response cycle, so it holds what every core did in its
//! grant cycle (read at that cycle's end, see [`vp_kernel::tlm::Settle`]); after a
//! wait-clear access is granted, the core's next access waits a cycle (the delay is
//! annotated on a write; a load is granted a cycle later, a wait is re-issued). The mutex
//! and the dispatcher are modelled cycle by cycle, as their RTL is built, for the cycles in
//! which something can change.
//!
//! Two memory-mapped views of one state:
//!
//! * **global** at `base` (0x10200800, 0x800 bytes): core units at `0x40 * core`
//!   (MASK 0x00, MASK_AND 0x04, MASK_OR 0x08, MASK_IRQ 0x0C/0x10/0x14, STATUS 0x18,
//!   BUFFER 0x1C, BUFFER_MASKED 0x20, BUFFER_IRQ_MASKED 0x24, BUFFER_CLEAR 0x28,
//!   SW_EVENTS_MASK 0x2C/0x30/0x34; no wait registers), barriers at `0x400 + 0x20 * id`,
//!   software-event triggers at `0x600 + 4 * e` (data = core mask, 0 = all cores),
//!   SoC event FIFO at 0x700 (always empty here), inter-cluster area 0x780 (reads 0).
//! * **per-core alias** ("demux") at `demux_base` (0x10204000, 0x400 bytes): the accessing
//!   core is `payload.initiator`. Core registers 0x00..0x3C including EVENT_WAIT (0x38) and
//!   EVENT_WAIT_CLEAR (0x3C); dispatch 0x80 (FIFO: write pushes, read pops and sleeps),
//!   0x84 (team config); mutexes at 0xC0 + 4 * m (read locks and sleeps, write unlocks);
//!   software events 0x100 + 4 * e (write: trigger for the cores of the data mask, 0 = all),
//!   0x140 + 4 * e (read: trigger for the cores of SW_EVENTS_MASK, then wait), 0x180 + 4 * e
//!   (the same with clear); barriers at 0x200 + 0x20 * id: TRIGGER_MASK 0x00, STATUS 0x04,
//!   TARGET_MASK 0x0C, TRIGGER 0x10 (write: data = arriving cores), TRIGGER_SELF 0x14 (read:
//!   arrive, no sleep), TRIGGER_WAIT 0x18, TRIGGER_WAIT_CLEAR 0x1C (read: arrive and wait).
//!
//! ## Sleeping loads
//!
//! A wait load with `(buffer & mask) == 0` answers [`Response::Incomplete`] and keeps a clone
//! of `payload.sleeper`; when an event makes `buffer & mask` non-zero the sleeper is woken
//! (`Wake::at(cycle)`, the cycle the event arrives) and the core issues the **same** load
//! again, which then returns `buffer & mask` (wait-clear also clears those buffer bits; a
//! mutex lock returns the mutex message, a dispatch pop the dispatched value). As in the RTL
//! (`trigger_release`), the side effect of a trigger-and-wait load (barrier arrival, software
//! event, mutex lock request, dispatch pop request) happens only on its first issue.
//!
//! ### What a core model does
//!
//! 1. Issue every load/store with `.with_initiator(core)` and loads also
//!    `.with_sleeper(wake)` (its own [`vp_kernel::Wake`], e.g. `TickCtx::wake.clone()`).
//! 2. On [`Response::Incomplete`]: the load does not retire; return `Next::Sleep` (no
//!    polling) and, when ticked again, issue the same load at the same address; repeat until
//!    the response is `Ok`. Incomplete is not an error. An access answered with a delay
//!    annotated was granted that much later.
//! 3. For exact read data, issue loads also `.with_settle()` ([`vp_kernel::tlm::Settle`]):
//!    a load the unit grants is then answered Incomplete with `Settle::Granted(time)`; it
//!    counts as granted then, and the core issues it again in the next cycle (it is woken)
//!    to collect its data, read at the end of the grant cycle, after the other cores'
//!    accesses of that cycle. Without, a load is answered at once, with the data as far as
//!    the cycle has gone: it misses what cores the model runs later do in that cycle.
//! 4. Optionally bind the `sleep_info` export (kind "sleep_info", type [`SleepInfo`]) and
//!    return its description from `Clocked::blocked_on` while suspended, so that a deadlock
//!    report says e.g. "core 3 sleeps on event unit wait (EVENT_WAIT), mask 0x00010000, ...".
//!    pulp-runtime and our crt0 park finished cores on a wait with an empty mask
//!    (`mask 0x00000000`): a core may treat that as halted (`None`).
//!
//! ## Event lines
//!
//! The `events` export (kind "events", [`vp_kernel::port::EventsRef`]) takes events from
//! accelerators (12..15), DMA (8, 9) and timers (10, 11) for a set of cores. Internal events:
//! software 0..7, barrier 16, mutex 17, dispatch 18.
//!
//! ## Not modelled
//!
//! Interrupts (the IRQ masks are stored and read back but never interrupt a core), the
//! SoC-event FIFO (always empty), the secure registers, the inter-cluster FIFOs.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use serde::Deserialize;
use serde_json::json;
use tracing::{event, warn, Level};
use vp_kernel::clocked::{DomainId, Next, TickCtx, PHASE_MONITOR};
use vp_kernel::component::{check_window, parse_params, MapEntry};
use vp_kernel::port::{EventSink, EventsRef};
use vp_kernel::tlm::{Command, Payload, Response, Settle, Target};
use vp_kernel::{BuildCtx, Clock, Clocked, Component, ComponentKind, PortRef, Sim, SimTime, Wake};

/// Track of the event unit's timeline events and warnings.
pub const TRACK: &str = "cluster.event_unit";

/// Event line of the hardware barriers.
pub const EVT_BARRIER: u32 = 16;
/// Event line of the hardware mutexes.
pub const EVT_MUTEX: u32 = 17;
/// Event line of the hardware dispatcher.
pub const EVT_DISPATCH: u32 = 18;
/// Number of software events.
pub const NB_SW_EVENTS: u32 = 8;

/// The type carried by the `sleep_info` export (kind "sleep_info"): given a core index, a
/// description of what that core sleeps on in the event unit, or `None` when it does not
/// sleep there. Get it with `peer.get::<vp_event_unit::SleepInfo>("sleep_info")`.
pub type SleepInfo = Box<dyn Fn(u32) -> Option<String>>;

/// Params of the `event_unit` kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "d_base")]
    base: u32,
    #[serde(default = "d_demux_base")]
    demux_base: u32,
    /// Hardware barriers (default: one per core, as pulp_cluster).
    #[serde(default)]
    barriers: Option<u32>,
    #[serde(default = "d_mutexes")]
    mutexes: u32,
    #[serde(default = "d_fifo")]
    dispatch_fifo_depth: u32,
}
fn d_base() -> u32 {
    0x1020_0800
}
fn d_demux_base() -> u32 {
    0x1020_4000
}
fn d_mutexes() -> u32 {
    1
}
fn d_fifo() -> u32 {
    8
}

/// Size of the global view.
pub const GLOBAL_SIZE: u64 = 0x800;
/// Size of the per-core alias.
pub const DEMUX_SIZE: u64 = 0x400;

/// What a sleeping core waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WaitKind {
    /// EVENT_WAIT / EVENT_WAIT_CLEAR / a software-event wait / a barrier wait.
    Event,
    /// A mutex lock.
    Mutex(usize),
    /// A dispatch FIFO pop.
    Dispatch,
}

#[derive(Clone, Debug)]
struct Pending {
    /// Demux offset of the suspended load.
    offset: u32,
    kind: WaitKind,
    since: u64,
}

#[derive(Default)]
struct CoreUnit {
    mask: u32,
    irq_mask: u32,
    buffer: u32,
    sw_events_mask: u32,
    /// The suspended access (its side effect has been done), if any.
    pending: Option<Pending>,
    /// The sleeper to wake when `buffer & mask` becomes non-zero.
    sleeper: Option<Wake>,
    /// Accesses to wait registers (all, completed at once or not).
    wait_loads: u64,
    /// Of which suspended the core.
    suspensions: u64,
    /// Cycles spent suspended (completed suspensions).
    sleep_cycles: u64,
    /// The cycle after a wait-clear access was granted, in which the core's next access
    /// is not (event_unit_core.sv `wait_clear_access_SP`).
    bubble_at: Option<u64>,
    /// The buffer bits that wait-clear returned: still in the RTL's buffer register during
    /// the bubble (it clears them at the end of it).
    stale: u32,
    /// Events raised for a cycle up to `drop_until` on the lines of `drop_mask` are lost:
    /// the clear at the end of the bubble takes the lines of that cycle too.
    drop_mask: u32,
    drop_until: u64,
    /// The pending wait access triggers its unit again when next issued (it was woken by
    /// stale bits in a bubble: `trigger_release` is set again).
    retrigger: bool,
    /// A load granted, whose data settles at the end of its grant cycle.
    settling: Option<Settling>,
}

/// A load granted to a core that takes its data settled ([`Settle`]): event_unit_core.sv
/// gives the data in the response cycle, from the registers then, so it holds what the
/// other cores did in the grant cycle, whichever order the model runs them in. The
/// settler (a participant ticking after the cores) reads it at the end of that cycle.
struct Settling {
    offset: u32,
    granted: u64,
    what: SettleRead,
    /// The data, once settled.
    data: Option<u32>,
    sleeper: Wake,
}

/// What a settling load reads.
#[derive(Clone, Copy)]
enum SettleRead {
    /// A register without side effects on read.
    Plain,
    /// The buffer under the mask (a wait, TRIGGER_SELF).
    Masked,
    /// A wait-clear's: its register still held `first` (under `mask`) when answered, and
    /// it cleared them; events raised since for the response cycle are in it too.
    Cleared { first: u32, mask: u32 },
    /// The mutex's message.
    Mutex(usize),
    /// The dispatcher's entry.
    Dispatch,
}

#[derive(Default)]
struct Barrier {
    trigger_mask: u32,
    target_mask: u32,
    status: u32,
    firings: u64,
    /// The cycle of the last firing's last arrival: hw_barrier_unit.sv registers the
    /// arrivals of that cycle together (the later ones in the model's core order add
    /// nothing) and clears the status in the next, where arrivals are lost.
    fired_at: Option<u64>,
}

/// hw_mutex_unit.sv, cycle by cycle (as [`Dispatch`]): its registers, and the inputs of
/// cycle `at`: the cores' lock requests, and the OR of the messages of its unlocks
/// (event_unit_top.sv reduces the cores' write data). `EuState::mutex_cycle` evaluates a
/// cycle with inputs at the next one's edge.
#[derive(Default)]
struct Mutex {
    locked: bool,
    /// Cores waiting for it (`req_mask_DP`).
    waiting: u32,
    msg: u32,
    locks: u64,
    at: u64,
    lock_req: u32,
    unlock: Option<u32>,
    scheduled: bool,
}

impl Mutex {
    /// The core (its bit) that takes the mutex at the edge after the cycle of the inputs
    /// collected: unlocked, a lock request takes it; locked, an unlock hands it to a
    /// waiting or requesting core, else frees it; the lowest core index first (`ff1`).
    fn taker(&self) -> Option<u32> {
        let candidates = self.waiting | self.lock_req;
        let take = if self.locked {
            self.unlock.is_some() && candidates != 0
        } else {
            self.lock_req != 0
        };
        take.then(|| 1u32 << candidates.trailing_zeros())
    }
}

/// hw_dispatch.sv, cycle by cycle: its registers, and the inputs of cycle `at` that the
/// cores' accesses give while it runs; `EuState::dispatch_cycle` evaluates that cycle at
/// the next one's edge, while anything can change.
#[derive(Default)]
struct Dispatch {
    fifo: Vec<u32>,
    /// Cores that still have to read each entry (`core_set_stat_DP`).
    stat: Vec<u32>,
    conf: u32,
    wptr: usize,
    rptr: Vec<usize>,
    pushes: u64,
    /// Cores whose pop request is in progress (`req_in_progr_SP`).
    in_progr: u32,
    /// Cores whose read pointer moves on this cycle (`incr_rptr_del_SP`).
    incr_del: u32,
    /// The cycle whose inputs are collected, and them: pop requests, the cores' wake-ups
    /// (`pop_ack_i`, event_unit_core.sv `wakeup_event`), the OR of the pushed values,
    /// a team configuration.
    at: u64,
    pop_req: u32,
    pop_ack: u32,
    push: Option<u32>,
    conf_w: Option<u32>,
    /// An evaluation is scheduled at the edge after `at`.
    scheduled: bool,
}

/// What hw_dispatch.sv does for one core in a cycle (see [`Dispatch::step`]).
struct DispatchStep {
    /// Its line is high.
    line: bool,
    /// Its read pointer in the next cycle.
    rptr: usize,
    /// Its pop is in progress in the next cycle.
    in_progr: bool,
    /// Its pop is acknowledged: the entry at its read pointer is cleared for it.
    acked: bool,
}

impl Dispatch {
    /// The pop requests and acknowledges collected for cycle `t` (none for another).
    fn inputs(&self, t: u64) -> (u32, u32) {
        if self.at == t {
            (self.pop_req, self.pop_ack)
        } else {
            (0, 0)
        }
    }

    /// Core `c` in a cycle with these inputs, from the registers: with its pop requested
    /// or in progress, its line is high if the entry at its read pointer is for it, else
    /// the pointer moves on unless it is at the write pointer; a wake-up while in progress
    /// acknowledges the pop, and the pointer moves a cycle after an acknowledge.
    fn step(&self, c: usize, pop_req: u32, pop_ack: u32) -> DispatchStep {
        let bit = 1u32 << c;
        let r = self.rptr[c];
        let req = (pop_req | self.in_progr) & bit != 0;
        let here = self.stat[r] & bit != 0;
        let acked = self.in_progr & pop_ack & bit != 0;
        let moves = self.incr_del & bit != 0 || (req && !here && r != self.wptr);
        DispatchStep {
            line: req && here,
            rptr: if moves { (r + 1) % self.fifo.len() } else { r },
            in_progr: req && !acked,
            acked,
        }
    }
}

/// The state of the event unit, shared by its two views and its event sink.
pub struct EuState {
    name: String,
    sim: Sim,
    domain: DomainId,
    clock: Clock,
    cores: u32,
    all: u32,
    core: Vec<CoreUnit>,
    barriers: Vec<Barrier>,
    mutexes: Vec<Mutex>,
    dispatch: Dispatch,
    raised: BTreeMap<u32, u64>,
    unknown: u64,
    deferred: u64,
    /// This state, for the processes of events raised for a later cycle.
    me: Weak<RefCell<EuState>>,
    /// The access being performed is in its core's bubble (see `demux_access`).
    in_bubble: bool,
    /// Events raised for a later cycle, not applied yet: (cycle, cores, line).
    later: Vec<(u64, u32, u32)>,
    /// The settler's wake (see [`Settling`]).
    settler: Wake,
}

fn hex(v: u32) -> String {
    format!("{v:#010x}")
}

impl EuState {
    fn warn_unknown(&mut self, view: &str, p: &Payload, what: &str) {
        self.unknown += 1;
        warn!(target: "vp", track = TRACK,
            "{}: {} {:?} at {:#010x} ({} offset {:#x}): {}; reads return 0, writes are ignored",
            self.name, p.initiator.map_or("access".to_string(), |c| format!("core {c}")),
            p.command, p.global_address, view, p.address, what);
    }

    /// Set event `line` in the buffers of the cores of `mask`, waking sleepers.
    fn raise_now(&mut self, mask: u32, line: u32, cycle: u64) {
        if line >= 32 {
            warn!(target: "vp", track = TRACK, "{}: event line {line} does not exist (0..31)", self.name);
            return;
        }
        let mask = mask & self.all;
        *self.raised.entry(line).or_insert(0) += 1;
        event!(target: "vp", Level::TRACE, track = TRACK, ev = "instant", name = "event",
            line = line as u64, cores = mask as u64);
        for c in 0..self.cores {
            if mask & (1 << c) != 0 {
                let u = &mut self.core[c as usize];
                if cycle <= u.drop_until && u.drop_mask & (1 << line) != 0 {
                    continue;
                }
                u.buffer |= 1 << line;
                self.check_wake(c, cycle);
            }
        }
    }

    /// Run `f` on this state at `cycle`'s edge, where the registers take their values for
    /// that cycle (a process; not a daemon: pending work must happen before the run may
    /// end). With `during`, after that: `f` is an access acting in the cycle, on the
    /// registers as the edge left them (the events raised for the cycle included).
    fn at_cycle(
        &self,
        cycle: u64,
        during: bool,
        name: &str,
        f: impl FnOnce(&mut EuState) + 'static,
    ) {
        let (sim, clock, me) = (self.sim.clone(), self.clock, self.me.clone());
        self.sim.spawn(name, async move {
            sim.wait_until(clock.time_of(cycle)).await;
            if during {
                sim.wait_delta().await;
            }
            if let Some(st) = me.upgrade() {
                f(&mut st.borrow_mut());
            }
        });
    }

    /// Raise `line` for the cores of `mask` in `cycle` (in their buffers from that cycle):
    /// at once if that cycle is not ahead of the current one, else by a process at that
    /// cycle's edge, so that no core ticking later in the current cycle sees it early.
    fn raise_at(&mut self, mask: u32, line: u32, cycle: u64) {
        if cycle <= self.sim.cycle_now(self.domain) {
            self.raise_now(mask, line, cycle);
            return;
        }
        self.deferred += 1;
        self.later.push((cycle, mask, line));
        self.at_cycle(cycle, false, "event_unit.deferred_event", move |st| {
            if let Some(k) = st.later.iter().position(|&e| e == (cycle, mask, line)) {
                st.later.swap_remove(k);
            }
            st.raise_now(mask, line, cycle);
        });
    }

    /// Core `c`'s buffer as a load granted now reads it: event_unit_core.sv gives the data
    /// in the response cycle, from the registers then, so events raised for the next
    /// cycle are in it.
    fn seen(&self, c: u32) -> u32 {
        let u = &self.core[c as usize];
        // (a load in its bubble is granted, and answered, a cycle later)
        let next = self.sim.cycle_now(self.domain) + 1 + self.in_bubble as u64;
        let mut b = u.buffer;
        for &(cycle, mask, line) in &self.later {
            let dropped = cycle <= u.drop_until && u.drop_mask & (1 << line) != 0;
            if cycle <= next && mask & (1 << c) != 0 && !dropped {
                b |= 1 << line;
            }
        }
        // the mutex events of the next edge (see mutex_cycle)
        let now = self.sim.cycle_now(self.domain);
        let dropped = now < u.drop_until && u.drop_mask & (1 << EVT_MUTEX) != 0;
        if !dropped && self.mutex_event_next(c) {
            b |= 1 << EVT_MUTEX;
        }
        // the dispatcher's line of the cycle before (raised at the next edge, see
        // dispatch_cycle)
        let dropped = next <= u.drop_until && u.drop_mask & (1 << EVT_DISPATCH) != 0;
        if self.dispatch_line(c, self.in_bubble) && !dropped {
            b |= 1 << EVT_DISPATCH;
        }
        b
    }

    /// Does core `c` take a mutex at the next edge, from this cycle's inputs (its event is
    /// in the buffer then)?
    fn mutex_event_next(&self, c: u32) -> bool {
        let now = self.sim.cycle_now(self.domain);
        let taken = |mx: &Mutex| mx.scheduled && mx.at == now && mx.taker() == Some(1 << c);
        self.mutexes.iter().any(taken)
    }

    /// The lines raised for core `c`'s buffer in the next cycle, not applied yet (whether
    /// or not a wait-clear will drop them).
    fn raised_next(&self, c: u32) -> u32 {
        let next = self.sim.cycle_now(self.domain) + 1;
        let mut b = self
            .later
            .iter()
            .filter(|&&(t, m, _)| t <= next && m & (1 << c) != 0)
            .fold(0, |b, &(_, _, line)| b | 1 << line);
        if self.mutex_event_next(c) {
            b |= 1 << EVT_MUTEX;
        }
        b
    }

    /// Is core `c`'s dispatcher line high in the current cycle (`ahead`: in the next, from
    /// the registers the current cycle's inputs give, without the next one's)?
    fn dispatch_line(&self, c: u32, ahead: bool) -> bool {
        let d = &self.dispatch;
        let now = self.sim.cycle_now(self.domain);
        let (pop_req, pop_ack) = d.inputs(now);
        let st = d.step(c as usize, pop_req, pop_ack);
        if !ahead {
            return st.line;
        }
        let mut stat = d.stat[st.rptr];
        if st.acked && st.rptr == d.rptr[c as usize] {
            stat &= !(1 << c);
        }
        if d.push.is_some() && st.rptr == d.wptr && d.at == now {
            stat = d.conf;
        }
        st.in_progr && stat & (1 << c) != 0
    }

    fn check_wake(&mut self, c: u32, cycle: u64) {
        let u = &mut self.core[c as usize];
        if u.buffer & u.mask != 0 {
            if let Some(w) = u.sleeper.take() {
                w.at(cycle);
            }
        }
    }

    fn sw_trigger(&mut self, e: u32, cores: u32) {
        let mask = if cores & self.all == 0 {
            self.all
        } else {
            cores
        };
        let cycle = self.sim.cycle_now(self.domain) + 1;
        self.raise_at(mask, e & 7, cycle);
    }

    fn barrier_arrive(&mut self, id: usize, cores: u32) {
        let now = self.sim.cycle_now(self.domain);
        let Some(b) = self.barriers.get_mut(id) else {
            return;
        };
        if b.fired_at.is_some_and(|f| now == f || now == f + 1) {
            return;
        }
        b.status |= cores & self.all;
        self.barrier_check(id);
    }

    fn barrier_check(&mut self, id: usize) {
        let now = self.sim.cycle_now(self.domain);
        let b = &mut self.barriers[id];
        if b.trigger_mask != 0 && b.status == b.trigger_mask {
            b.status = 0;
            b.firings += 1;
            b.fired_at = Some(now);
            let target = b.target_mask;
            event!(target: "vp", Level::TRACE, track = TRACK, ev = "instant", name = "barrier",
                id = id as u64, targets = target as u64);
            // hw_barrier_unit.sv registers the arrivals (trigger_status_DP) and fires from
            // them: the event line rises the cycle after the last arrival, and reaches the
            // cores' buffers a cycle later (see `raise_at`).
            if target != 0 {
                self.raise_at(target, EVT_BARRIER, now + 2);
            }
        }
    }

    /// An input to mutex `m` in the current cycle; its evaluation is scheduled.
    fn mutex_input(&mut self, m: usize, f: impl FnOnce(&mut Mutex)) {
        let now = self.sim.cycle_now(self.domain);
        let mx = &mut self.mutexes[m];
        mx.at = now;
        f(mx);
        if !mx.scheduled {
            mx.scheduled = true;
            self.at_cycle(now + 1, false, "event_unit.mutex", move |st| {
                st.mutex_cycle(m, now)
            });
        }
    }

    fn mutex_lock(&mut self, m: usize, c: u32) {
        self.mutex_input(m, |mx| mx.lock_req |= 1 << c);
    }

    fn mutex_unlock(&mut self, m: usize, msg: u32) {
        self.mutex_input(m, |mx| mx.unlock = Some(mx.unlock.unwrap_or(0) | msg));
    }

    /// hw_mutex_unit.sv in cycle `t`, at the edge of `t + 1` (the taker: [`Mutex::taker`]).
    /// The taker's event is in its buffer from `t + 1`.
    fn mutex_cycle(&mut self, m: usize, t: u64) {
        let taker = self.mutexes[m].taker();
        let mx = &mut self.mutexes[m];
        mx.scheduled = false;
        let lock_req = std::mem::take(&mut mx.lock_req);
        let unlock = mx.unlock.take();
        if let Some(v) = unlock {
            mx.msg = v;
        }
        mx.waiting |= lock_req;
        if unlock.is_some() {
            mx.locked = false;
        }
        if let Some(bit) = taker {
            mx.waiting &= !bit;
            mx.locked = true;
            mx.locks += 1;
            self.raise_now(bit, EVT_MUTEX, t + 1);
        }
    }

    /// Mutex `m`'s message as a lock granted now reads it: the register in the response
    /// cycle, with this cycle's unlocks.
    fn mutex_msg(&self, m: usize) -> u32 {
        let mx = &self.mutexes[m];
        match mx.unlock {
            Some(v) if mx.at == self.sim.cycle_now(self.domain) => v,
            _ => mx.msg,
        }
    }

    /// An input to the dispatcher in the current cycle (see [`Dispatch`]).
    fn dispatch_input(&mut self, f: impl FnOnce(&mut Dispatch)) {
        let now = self.sim.cycle_now(self.domain);
        let d = &mut self.dispatch;
        if d.at != now {
            debug_assert!(
                !d.scheduled || d.at > now,
                "dispatcher cycle {} missed",
                d.at
            );
            d.at = now;
        }
        f(d);
        self.dispatch_schedule();
    }

    /// Evaluate the dispatcher's current cycle at the next edge, if not yet scheduled.
    fn dispatch_schedule(&mut self) {
        if self.dispatch.scheduled {
            return;
        }
        self.dispatch.scheduled = true;
        let at = self.dispatch.at;
        self.at_cycle(at + 1, false, "event_unit.dispatch", move |st| {
            st.dispatch_cycle(at)
        });
    }

    /// hw_dispatch.sv in cycle `t`, at the edge of `t + 1`: each core whose pop is
    /// requested or in progress raises its line if the entry at its read pointer is for it
    /// (the buffers have it from `t + 1`), else moves the pointer on unless it is at the
    /// write pointer; a wake-up of a core in progress acknowledges its pop (the entry is
    /// cleared for it now, the pointer moves a cycle later); pushes and the team
    /// configuration are written.
    fn dispatch_cycle(&mut self, t: u64) {
        let d = &mut self.dispatch;
        d.scheduled = false;
        let (pop_req, pop_ack) = d.inputs(t);
        d.pop_req = 0;
        d.pop_ack = 0;
        let (push, conf_w) = if d.at == t {
            (d.push.take(), d.conf_w.take())
        } else {
            (None, None)
        };
        let depth = d.fifo.len();
        let steps: Vec<DispatchStep> = (0..d.rptr.len())
            .map(|c| d.step(c, pop_req, pop_ack))
            .collect();
        let mut lines = 0u32;
        let mut in_progr = 0u32;
        for (c, st) in steps.iter().enumerate() {
            let bit = 1u32 << c;
            if st.line {
                lines |= bit;
            }
            if st.in_progr {
                in_progr |= bit;
            }
            if st.acked {
                d.stat[d.rptr[c]] &= !bit;
            }
        }
        for (r, st) in d.rptr.iter_mut().zip(&steps) {
            *r = st.rptr;
        }
        d.incr_del = d.in_progr & pop_ack;
        d.in_progr = in_progr;
        if let Some(v) = push {
            let w = d.wptr;
            d.fifo[w] = v;
            d.stat[w] = d.conf;
            d.wptr = (w + 1) % depth;
        }
        if let Some(conf) = conf_w {
            d.conf = conf;
        }
        d.at = t + 1;
        if lines != 0 {
            self.raise_now(lines, EVT_DISPATCH, t + 1);
        }
        // Run on while a pointer can move, a line is high, or a pop is acknowledged.
        let d = &self.dispatch;
        let busy = d.incr_del != 0
            || (0..self.cores as usize).any(|c| {
                let bit = 1u32 << c;
                d.in_progr & bit != 0 && (d.stat[d.rptr[c]] & bit != 0 || d.rptr[c] != d.wptr)
            });
        if busy {
            self.dispatch_schedule();
        }
    }

    fn dispatch_push(&mut self, v: u32) {
        self.dispatch.pushes += 1;
        self.dispatch_input(|d| d.push = Some(d.push.unwrap_or(0) | v));
    }

    /// The value a pop granted now reads: the entry at the core's read pointer in the
    /// response cycle (`dispatch_value_o` then), which this cycle may move on (see
    /// [`EuState::dispatch_cycle`]).
    fn dispatch_pop_value(&self, c: u32) -> u32 {
        let d = &self.dispatch;
        let now = self.sim.cycle_now(self.domain);
        let (pop_req, pop_ack) = d.inputs(now);
        let r = d.step(c as usize, pop_req, pop_ack).rptr;
        match d.push {
            // (an entry pushed this cycle is written by then)
            Some(v) if d.at == now && r == d.wptr => v,
            _ => d.fifo[r],
        }
    }

    /// A read of a core unit register (shared by both views; the wait registers are handled
    /// by the demux).
    fn core_read(&self, c: u32, reg: u32) -> Option<u32> {
        let u = &self.core[c as usize];
        Some(match reg {
            0x00 => u.mask,
            0x04 | 0x08 | 0x10 | 0x14 | 0x28 | 0x30 | 0x34 => 0,
            0x0C => u.irq_mask,
            0x18 => u32::from(u.pending.is_none()),
            0x1C => self.seen(c),
            0x20 => self.seen(c) & u.mask,
            0x24 => self.seen(c) & u.irq_mask,
            0x2C => u.sw_events_mask,
            _ => return None,
        })
    }

    /// A write of a core unit register. Returns false for an unknown register.
    fn core_write(&mut self, c: u32, reg: u32, d: u32) -> bool {
        let all = self.all;
        let u = &mut self.core[c as usize];
        match reg {
            0x00 => u.mask = d,
            0x04 => u.mask &= !d,
            0x08 => u.mask |= d,
            0x0C => u.irq_mask = d,
            0x10 => u.irq_mask &= !d,
            0x14 => u.irq_mask |= d,
            0x28 => u.buffer &= !d,
            0x2C => u.sw_events_mask = d & all,
            0x30 => u.sw_events_mask &= !d,
            0x34 => u.sw_events_mask |= d & all,
            // read-only registers: writes are ignored by the RTL too
            0x18 | 0x1C | 0x20 | 0x24 | 0x38 | 0x3C => {}
            _ => return false,
        }
        let cycle = self.sim.cycle_now(self.domain) + 1;
        self.check_wake(c, cycle);
        true
    }

    fn barrier_read(&self, id: usize, reg: u32) -> u32 {
        let b = &self.barriers[id];
        match reg {
            0x00 => b.trigger_mask,
            0x04 => b.status,
            0x0C => b.target_mask,
            _ => 0,
        }
    }

    fn barrier_write(&mut self, id: usize, reg: u32, d: u32) {
        let all = self.all;
        let b = &mut self.barriers[id];
        match reg {
            0x00 => {
                b.trigger_mask = d & all;
                self.barrier_check(id);
            }
            0x0C => b.target_mask = d & all,
            0x10 => self.barrier_arrive(id, d),
            _ => {}
        }
    }

    // ---------------------------------------------------------------- global view

    fn global_access(&mut self, p: &mut Payload, debug: bool) {
        let off = (p.address as u32) & !3;
        let write = p.command == Command::Write;
        let d = p.data_u32();
        let mut rdata = 0u32;
        match off {
            0x000..=0x3FF => {
                let c = off >> 6;
                let reg = off & 0x3F;
                if c >= self.cores {
                    self.warn_unknown("global", p, &format!("no core unit {c}"));
                } else if write {
                    if !self.core_write(c, reg, d) {
                        self.warn_unknown("global", p, "no such core-unit register");
                    }
                } else {
                    match self.core_read(c, reg) {
                        Some(v) => rdata = v,
                        None => self.warn_unknown(
                            "global",
                            p,
                            "wait registers exist only in the per-core alias",
                        ),
                    }
                }
            }
            0x400..=0x5FF => {
                let id = ((off >> 5) & 0xF) as usize;
                let reg = off & 0x1F;
                if id >= self.barriers.len() {
                    self.warn_unknown("global", p, &format!("no barrier {id}"));
                } else if write {
                    if !debug {
                        self.barrier_write(id, reg, d);
                    }
                } else {
                    rdata = self.barrier_read(id, reg);
                }
            }
            0x600..=0x6FF => {
                if write && !debug {
                    self.sw_trigger((off >> 2) & 7, d);
                }
            }
            0x700..=0x77F => {} // SoC event FIFO: always empty (valid bit 31 clear)
            _ => self.warn_unknown("global", p, "inter-cluster event area is not modelled"),
        }
        if !write {
            p.set_data_u32(rdata);
        }
        p.response = Response::Ok;
    }

    // ---------------------------------------------------------------- per-core alias

    /// Returns the cycles the access waits for its grant beyond the first.
    fn demux_access(&mut self, p: &mut Payload, debug: bool) -> u64 {
        let c = match p.initiator {
            Some(c) if c < self.cores => c,
            other => {
                self.unknown += 1;
                warn!(target: "vp", track = TRACK,
                    "{}: per-core event-unit alias accessed at {:#010x} by {}: needs the initiator's core index (0..{})",
                    self.name, p.global_address,
                    other.map_or("an unknown initiator".to_string(), |i| format!("initiator {i}")),
                    self.cores);
                p.response = Response::GenericError;
                return 0;
            }
        };
        let off = (p.address as u32) & 0x3FC;
        let now = self.sim.cycle_now(self.domain);
        if !debug && p.command == Command::Read {
            // the same load again, to collect its settled data (no access: before the
            // bubble's turn, which is the next access's)
            let u = &mut self.core[c as usize];
            match u.settling {
                Some(Settling {
                    offset,
                    data: Some(v),
                    ..
                }) if offset == off => {
                    u.settling = None;
                    p.set_data_u32(v);
                    p.response = Response::Ok;
                    return 0;
                }
                // issued again before its data settled: still the same load
                Some(Settling {
                    offset,
                    granted,
                    data: None,
                    ..
                }) if offset == off => {
                    p.settle = Settle::Granted(self.clock.time_of(granted));
                    p.response = Response::Incomplete;
                    return 0;
                }
                _ => {}
            }
        }
        let bubble = !debug && self.core[c as usize].bubble_at.take() == Some(now);
        if bubble && p.command == Command::Write {
            // event_unit_core.sv: the cycle after a wait-clear access (core EVENT_WAIT_CLEAR,
            // a software-event or barrier wait-clear, a mutex lock, a dispatch pop) was
            // granted, `wait_clear_access_SP` withholds the core's grant. A write acts on
            // its request, not on its grant: it takes effect in that cycle and again in the
            // next, when it is granted (a dispatch push is pushed twice, as on the RTL).
            self.demux_write(c, off, p.data_u32(), p, false);
            let q = p.clone();
            self.at_cycle(now + 1, true, "event_unit.withheld_write", move |st| {
                st.demux_write(c, off, q.data_u32(), &q, false)
            });
            p.response = Response::Ok;
            return 1;
        }
        self.in_bubble = bubble;
        let mask = self.core[c as usize].mask;
        self.demux_perform(c, off, p, debug);
        self.in_bubble = false;
        if bubble && off >= 0x200 && off & 0x1F == 0x14 {
            // A barrier's TRIGGER_SELF is no sleeping load: its request, still there in
            // the next cycle, arrives at the barrier again then (`trigger_release` stays
            // set), as on the RTL.
            let id = ((off >> 5) & 0xF) as usize;
            self.at_cycle(now + 1, true, "event_unit.withheld_arrival", move |st| {
                st.barrier_arrive(id, 1 << c)
            });
        }
        let settles = !debug && p.command == Command::Read && p.settle == Settle::Accepted;
        if settles && p.response.is_ok() {
            if let Some(w) = p.sleeper.clone() {
                // Granted now (in a bubble: a cycle later); the data is read at the end of
                // that cycle, when every core has had its turn.
                let granted = now + bubble as u64;
                let what = self.settle_read_of(off, p.data_u32(), mask);
                self.core[c as usize].settling = Some(Settling {
                    offset: off,
                    granted,
                    what,
                    data: None,
                    sleeper: w,
                });
                self.settler.at(granted);
                p.settle = Settle::Granted(self.clock.time_of(granted));
                p.response = Response::Incomplete;
                return 0;
            }
        }
        // a load answered at once in the bubble: granted a cycle later
        (bubble && p.response.is_ok()) as u64
    }

    /// What the load at `off` reads, for its data to settle (`first`: its data now; `mask`:
    /// the core's event mask when it was performed).
    fn settle_read_of(&self, off: u32, first: u32, mask: u32) -> SettleRead {
        let barrier = |reg: u32| {
            let id = ((off >> 5) & 0xF) as usize;
            match reg {
                _ if id >= self.barriers.len() => SettleRead::Plain,
                0x14 | 0x18 => SettleRead::Masked,
                0x1C => SettleRead::Cleared { first, mask },
                _ => SettleRead::Plain,
            }
        };
        match off {
            0x038 | 0x140..=0x17F => SettleRead::Masked,
            0x03C | 0x180..=0x1BF => SettleRead::Cleared { first, mask },
            0x080 => SettleRead::Dispatch,
            0x0C0..=0x0FF if (((off >> 2) & 0xF) as usize) < self.mutexes.len() => {
                SettleRead::Mutex(((off >> 2) & 0xF) as usize)
            }
            0x200..=0x3FF => barrier(off & 0x1F),
            _ => SettleRead::Plain,
        }
    }

    /// A per-core alias register without side effects on read, as a load performed now
    /// reads it, and as a settling load's data is read (the other loads are
    /// [`EuState::demux_perform`]'s).
    fn plain_read(&self, c: u32, off: u32) -> u32 {
        match off {
            0x000..=0x03F => self.core_read(c, off).unwrap_or(0),
            0x100..=0x1FF => self.seen(c) & self.core[c as usize].mask,
            0x200..=0x3FF => {
                let id = ((off >> 5) & 0xF) as usize;
                if id < self.barriers.len() {
                    self.barrier_read(id, off & 0x1F)
                } else {
                    0
                }
            }
            _ => 0,
        }
    }

    /// The settler's turn in `cycle`, after the cores': the data of the loads granted in
    /// it, from the registers of the next (see [`Settling`]). Returns when it is next due.
    fn settle_cycle(&mut self, cycle: u64) -> Next {
        let mut next = u64::MAX;
        for c in 0..self.cores {
            let Some(st) = &self.core[c as usize].settling else {
                continue;
            };
            if st.data.is_some() {
                continue;
            }
            if st.granted > cycle {
                next = next.min(st.granted);
                continue;
            }
            let (off, what) = (st.offset, st.what);
            let v = match what {
                SettleRead::Plain => self.plain_read(c, off),
                SettleRead::Masked => self.seen(c) & self.core[c as usize].mask,
                SettleRead::Cleared { first, mask } => {
                    // (the clear took these off the buffer; the RTL clears at the end of
                    // the response cycle)
                    first | self.raised_next(c) & mask
                }
                SettleRead::Mutex(m) => self.mutex_msg(m),
                SettleRead::Dispatch => self.dispatch_pop_value(c),
            };
            let st = self.core[c as usize].settling.as_mut().unwrap();
            st.data = Some(v);
            st.sleeper.at(cycle + 1);
        }
        if next == u64::MAX {
            Next::Sleep
        } else {
            Next::At(next)
        }
    }

    /// The access of [`EuState::demux_access`] out of a bubble, or a load in one.
    fn demux_perform(&mut self, c: u32, off: u32, p: &mut Payload, debug: bool) {
        if p.command == Command::Write {
            self.demux_write(c, off, p.data_u32(), p, debug);
            p.response = Response::Ok;
            return;
        }
        if debug {
            // Peek: no trigger, no sleep, no clear.
            let v = match off {
                0x000..=0x03F => self.core_read(c, off).unwrap_or_else(|| {
                    let u = &self.core[c as usize];
                    u.buffer & u.mask
                }),
                0x080 => self.dispatch.fifo[self.dispatch.rptr[c as usize]],
                0x0C0..=0x0FF => self
                    .mutexes
                    .get(((off >> 2) & 0xF) as usize)
                    .map_or(0, |m| m.msg),
                0x200..=0x3FF => {
                    let id = ((off >> 5) & 0xF) as usize;
                    if id < self.barriers.len() && (off & 0x1F) < 0x14 {
                        self.barrier_read(id, off & 0x1F)
                    } else {
                        let u = &self.core[c as usize];
                        u.buffer & u.mask
                    }
                }
                _ => {
                    let u = &self.core[c as usize];
                    u.buffer & u.mask
                }
            };
            p.set_data_u32(v);
            p.response = Response::Ok;
            return;
        }
        match off {
            0x038 => self.wait(c, off, WaitKind::Event, false, p, |_| {}),
            0x03C => self.wait(c, off, WaitKind::Event, true, p, |_| {}),
            0x080 => self.wait(c, off, WaitKind::Dispatch, true, p, move |s| {
                s.dispatch_input(|d| d.pop_req |= 1 << c);
            }),
            0x0C0..=0x0FF => {
                let m = ((off >> 2) & 0xF) as usize;
                if m >= self.mutexes.len() {
                    self.warn_unknown("per-core alias", p, &format!("no mutex {m}"));
                    p.set_data_u32(0);
                    p.response = Response::Ok;
                } else {
                    self.wait(c, off, WaitKind::Mutex(m), true, p, move |s| {
                        s.mutex_lock(m, c)
                    });
                }
            }
            0x140..=0x1BF => {
                let e = (off >> 2) & 7;
                let clear = off >= 0x180;
                self.wait(c, off, WaitKind::Event, clear, p, move |s| {
                    let m = s.core[c as usize].sw_events_mask;
                    s.sw_trigger(e, m);
                });
            }
            0x000..=0x03F | 0x084..=0x0BF | 0x100..=0x1FF => {
                p.set_data_u32(self.plain_read(c, off));
                p.response = Response::Ok;
            }
            0x200..=0x3FF => {
                let id = ((off >> 5) & 0xF) as usize;
                let reg = off & 0x1F;
                if id >= self.barriers.len() {
                    self.warn_unknown("per-core alias", p, &format!("no barrier {id}"));
                    p.set_data_u32(0);
                    p.response = Response::Ok;
                    return;
                }
                match reg {
                    0x14 => {
                        self.barrier_arrive(id, 1 << c);
                        p.set_data_u32(self.seen(c) & self.core[c as usize].mask);
                        p.response = Response::Ok;
                    }
                    0x18 | 0x1C => {
                        self.wait(c, off, WaitKind::Event, reg == 0x1C, p, move |s| {
                            s.barrier_arrive(id, 1 << c)
                        });
                    }
                    _ => {
                        p.set_data_u32(self.plain_read(c, off));
                        p.response = Response::Ok;
                    }
                }
            }
            _ => {
                self.warn_unknown("per-core alias", p, "no register here");
                p.set_data_u32(0);
                p.response = Response::Ok;
            }
        }
    }

    fn demux_write(&mut self, c: u32, off: u32, d: u32, p: &Payload, debug: bool) {
        match off {
            0x000..=0x03F => {
                if !self.core_write(c, off, d) {
                    self.warn_unknown("per-core alias", p, "no such core-unit register");
                }
            }
            0x080..=0x0BF => {
                if debug {
                    return;
                }
                match off & 0xC {
                    0x0 => self.dispatch_push(d),
                    0x4 => {
                        let conf = d & self.all;
                        self.dispatch_input(|x| x.conf_w = Some(conf));
                    }
                    _ => {}
                }
            }
            0x0C0..=0x0FF => {
                let m = ((off >> 2) & 0xF) as usize;
                if m >= self.mutexes.len() {
                    self.warn_unknown("per-core alias", p, &format!("no mutex {m}"));
                } else if !debug {
                    self.mutex_unlock(m, d);
                }
            }
            0x100..=0x13F => {
                if !debug {
                    self.sw_trigger((off >> 2) & 7, d);
                }
            }
            0x140..=0x1FF => {} // trigger-and-wait registers: writes do nothing (RTL)
            0x200..=0x3FF => {
                let id = ((off >> 5) & 0xF) as usize;
                if id >= self.barriers.len() {
                    self.warn_unknown("per-core alias", p, &format!("no barrier {id}"));
                } else if !debug {
                    self.barrier_write(id, off & 0x1F, d);
                }
            }
            _ => self.warn_unknown("per-core alias", p, "no register here"),
        }
    }

    /// A sleeping load: do its side effect once, then complete it if `buffer & mask` is
    /// non-zero, or suspend the core.
    fn wait(
        &mut self,
        c: u32,
        off: u32,
        kind: WaitKind,
        clear: bool,
        p: &mut Payload,
        trigger: impl FnOnce(&mut EuState),
    ) {
        let ci = c as usize;
        let first = !matches!(&self.core[ci].pending, Some(q) if q.offset == off);
        let now = self.sim.cycle_now(self.domain);
        if first {
            self.core[ci].wait_loads += 1;
            self.core[ci].pending = Some(Pending {
                offset: off,
                kind,
                since: now,
            });
            trigger(self);
        } else if std::mem::take(&mut self.core[ci].retrigger) {
            trigger(self);
        }
        if self.in_bubble {
            // In the bubble the RTL's buffer still holds the bits the wait-clear returned.
            // With any of them (or a new event) in the mask, the core unit takes the access
            // as woken but cannot grant it: a wait-clear access then clears again at the
            // end of the next cycle, which is a bubble too, and the unit is triggered again
            // then (`trigger_release`). Without, the core sleeps as usual.
            let u = &mut self.core[ci];
            let seen = (u.buffer | std::mem::take(&mut u.stale)) & u.mask;
            if seen != 0 {
                self.dispatch_input(|d| d.pop_ack |= 1 << c);
                let u = &mut self.core[ci];
                if clear {
                    u.bubble_at = Some(now + 1);
                    u.drop_until = now + 2;
                    u.buffer &= !u.mask;
                }
                u.retrigger = true;
                if let Some(w) = p.sleeper.clone() {
                    w.at(now + 1);
                    p.response = Response::Incomplete;
                    return;
                }
            }
        }
        let masked = self.core[ci].buffer & self.core[ci].mask;
        if masked != 0 {
            // (event_unit_core.sv `wakeup_event`: the dispatcher's acknowledge)
            self.dispatch_input(|d| d.pop_ack |= 1 << c);
            let v = match kind {
                WaitKind::Event => self.seen(c) & self.core[ci].mask,
                WaitKind::Mutex(m) => self.mutex_msg(m),
                WaitKind::Dispatch => self.dispatch_pop_value(c),
            };
            let v_seen = self.seen(c) & self.core[ci].mask;
            let u = &mut self.core[ci];
            if let Some(q) = u.pending.take() {
                if !first {
                    let now = self.sim.cycle_now(self.domain);
                    u.sleep_cycles += now.saturating_sub(q.since);
                }
            }
            u.sleeper = None;
            if clear {
                u.stale = v_seen;
                u.buffer &= !u.mask;
                u.drop_mask = u.mask;
                u.drop_until = now + 2;
                u.bubble_at = Some(now + 1);
            }
            p.set_data_u32(v);
            p.response = Response::Ok;
        } else {
            let u = &mut self.core[ci];
            if first {
                u.suspensions += 1;
            }
            u.sleeper = p.sleeper.clone();
            p.response = Response::Incomplete;
        }
    }

    /// What core `c` sleeps on, if it sleeps in the event unit.
    pub fn sleep_description(&self, c: u32) -> Option<String> {
        let u = self.core.get(c as usize)?;
        let q = u.pending.as_ref()?;
        let what = match (q.kind, q.offset) {
            (WaitKind::Mutex(m), _) => format!("mutex {m} lock"),
            (WaitKind::Dispatch, _) => "dispatch FIFO pop".to_string(),
            (_, 0x38) => "wait (EVENT_WAIT)".to_string(),
            (_, 0x3C) => "wait (EVENT_WAIT_CLEAR)".to_string(),
            (_, o) if o >= 0x200 => format!(
                "barrier {} wait (arrived; barrier status {}, trigger mask {})",
                (o >> 5) & 0xF,
                hex(self
                    .barriers
                    .get(((o >> 5) & 0xF) as usize)
                    .map_or(0, |b| b.status)),
                hex(self
                    .barriers
                    .get(((o >> 5) & 0xF) as usize)
                    .map_or(0, |b| b.trigger_mask))
            ),
            (_, o) => format!("software event {} wait", (o >> 2) & 7),
        };
        Some(format!(
            "core {c} sleeps on event unit {what}, mask {}, buffer {}, since cycle {}",
            hex(u.mask),
            hex(u.buffer),
            q.since
        ))
    }

    fn stats(&self) -> serde_json::Value {
        let raised: serde_json::Map<String, serde_json::Value> = self
            .raised
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let sleeping: Vec<serde_json::Value> = (0..self.cores)
            .filter_map(|c| {
                let u = &self.core[c as usize];
                u.pending.as_ref().map(|q| {
                    json!({
                        "core": c,
                        "mask": hex(u.mask),
                        "buffer": hex(u.buffer),
                        "offset": format!("{:#x}", q.offset),
                        "since_cycle": q.since,
                        "description": self.sleep_description(c),
                    })
                })
            })
            .collect();
        json!({
            "events_raised": raised,
            "barrier_firings": self.barriers.iter().map(|b| b.firings).collect::<Vec<_>>(),
            "wait_loads": self.core.iter().map(|u| u.wait_loads).collect::<Vec<_>>(),
            "waits": self.core.iter().map(|u| u.suspensions).collect::<Vec<_>>(),
            "sleep_cycles": self.core.iter().map(|u| u.sleep_cycles).collect::<Vec<_>>(),
            "sleeping": sleeping,
            "mutex_locks": self.mutexes.iter().map(|m| m.locks).collect::<Vec<_>>(),
            "dispatch_pushes": self.dispatch.pushes,
            "deferred_raises": self.deferred,
            "unknown_accesses": self.unknown,
        })
    }
}

/// A handle to the shared state (the global view, the per-core view, the event sink).
#[derive(Clone)]
pub struct EuHandle(pub Rc<RefCell<EuState>>);

struct GlobalView(Rc<RefCell<EuState>>);
struct DemuxView(Rc<RefCell<EuState>>);

impl Target for GlobalView {
    fn b_transport(&mut self, p: &mut Payload, _delay: &mut SimTime) {
        self.0.borrow_mut().global_access(p, false);
    }
    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        self.0.borrow_mut().global_access(p, true);
        p.data.len()
    }
}

impl Target for DemuxView {
    fn b_transport(&mut self, p: &mut Payload, delay: &mut SimTime) {
        let mut s = self.0.borrow_mut();
        let wait = s.demux_access(p, false);
        if wait > 0 {
            *delay += s.clock.cycles(wait);
        }
    }
    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        self.0.borrow_mut().demux_access(p, true);
        if p.response.is_ok() {
            p.data.len()
        } else {
            0
        }
    }
}

impl EventSink for EuHandle {
    /// Raise `line` for the cores of `core_mask` in `cycle`: the line is high in that
    /// cycle, and the event reaches the cores' buffers in the next (event_unit_core.sv
    /// registers them: `event_buffer_DP`), when a waiting core is granted (measured on the
    /// RTL, tests/rtl_compare.rs). A cycle ahead is applied by a process at its edge.
    fn raise(&self, core_mask: u32, line: u32, cycle: u64) {
        self.0.borrow_mut().raise_at(core_mask, line, cycle + 1);
    }
}

impl EuHandle {
    /// See [`EuState::sleep_description`].
    pub fn sleep_description(&self, core: u32) -> Option<String> {
        self.0.borrow().sleep_description(core)
    }
}

/// The event unit component.
pub struct EventUnit {
    base: u32,
    demux_base: u32,
    state: Rc<RefCell<EuState>>,
    global: Rc<RefCell<GlobalView>>,
    demux: Rc<RefCell<DemuxView>>,
}

impl EventUnit {
    /// A handle to the state (tests, platform glue).
    pub fn handle(&self) -> EuHandle {
        EuHandle(self.state.clone())
    }
}

impl Component for EventUnit {
    fn kind(&self) -> &'static str {
        "event_unit"
    }
    fn export(&mut self, port: &str) -> Result<PortRef, String> {
        match port {
            "events" => Ok(PortRef::new(
                "events",
                Rc::new(EventsRef(Rc::new(self.handle()))),
            )),
            "sleep_info" => {
                let h = self.handle();
                let f: SleepInfo = Box::new(move |c| h.sleep_description(c));
                Ok(PortRef::new("sleep_info", Rc::new(f)))
            }
            "global" => Ok(PortRef::target(self.global.clone())),
            "demux" => Ok(PortRef::target(self.demux.clone())),
            _ => Err(format!(
                "event_unit exports 'events', 'sleep_info', 'global' and 'demux', not '{port}'"
            )),
        }
    }
    fn mappings(&self) -> Vec<MapEntry> {
        vec![
            MapEntry {
                name: "global".into(),
                base: self.base as u64,
                size: GLOBAL_SIZE,
                target: self.global.clone(),
            },
            MapEntry {
                name: "demux".into(),
                base: self.demux_base as u64,
                size: DEMUX_SIZE,
                target: self.demux.clone(),
            },
        ]
    }
    fn stats(&self) -> serde_json::Value {
        self.state.borrow().stats()
    }
}

fn build(
    ctx: &BuildCtx<'_>,
    name: &str,
    v: &serde_yaml::Value,
) -> Result<Box<dyn Component>, String> {
    let p: Params = parse_params(v)?;
    if ctx.cores == 0 || ctx.cores > 16 {
        return Err(format!(
            "the event unit supports 1 to 16 cores, the platform has {}",
            ctx.cores
        ));
    }
    let barriers = p.barriers.unwrap_or(ctx.cores);
    if barriers > 16 {
        return Err(format!("barriers: expected 0 to 16, got {barriers}"));
    }
    if p.mutexes > 16 {
        return Err(format!("mutexes: expected 0 to 16, got {}", p.mutexes));
    }
    if p.dispatch_fifo_depth == 0 || p.dispatch_fifo_depth > 256 {
        return Err(format!(
            "dispatch_fifo_depth: expected 1 to 256, got {}",
            p.dispatch_fifo_depth
        ));
    }
    for (field, base, size) in [
        ("base", p.base, GLOBAL_SIZE),
        ("demux_base", p.demux_base, DEMUX_SIZE),
    ] {
        check_window(field, base, size)?;
    }
    let depth = p.dispatch_fifo_depth as usize;
    let state = Rc::new_cyclic(|me| {
        RefCell::new(EuState {
            name: name.to_string(),
            sim: ctx.sim.clone(),
            domain: ctx.domain,
            clock: ctx.clock,
            cores: ctx.cores,
            all: if ctx.cores >= 32 {
                u32::MAX
            } else {
                (1u32 << ctx.cores) - 1
            },
            core: (0..ctx.cores).map(|_| CoreUnit::default()).collect(),
            barriers: (0..barriers).map(|_| Barrier::default()).collect(),
            mutexes: (0..p.mutexes).map(|_| Mutex::default()).collect(),
            dispatch: Dispatch {
                fifo: vec![0; depth],
                stat: vec![0; depth],
                conf: 0,
                wptr: 0,
                rptr: vec![0; ctx.cores as usize],
                ..Dispatch::default()
            },
            raised: BTreeMap::new(),
            unknown: 0,
            deferred: 0,
            me: me.clone(),
            in_bubble: false,
            later: Vec::new(),
            settler: Wake::new(),
        })
    });
    let settler = Rc::new(RefCell::new(Settler(Rc::downgrade(&state))));
    state.borrow_mut().settler = ctx.sim.add_clocked(
        ctx.domain,
        format!("{name}.settler"),
        PHASE_MONITOR,
        false,
        settler,
    );
    Ok(Box::new(EventUnit {
        base: p.base,
        demux_base: p.demux_base,
        global: Rc::new(RefCell::new(GlobalView(state.clone()))),
        demux: Rc::new(RefCell::new(DemuxView(state.clone()))),
        state,
    }))
}

/// Reads the data of settling loads after the cores' turns in a cycle (see [`Settling`]).
struct Settler(Weak<RefCell<EuState>>);

impl Clocked for Settler {
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        match self.0.upgrade() {
            Some(st) => st.borrow_mut().settle_cycle(cx.cycle),
            None => Next::Sleep,
        }
    }
}

/// The kinds this crate provides.
pub fn kinds() -> Vec<ComponentKind> {
    vec![ComponentKind {
        name: "event_unit",
        summary: "cluster event unit (event_unit_flex): masks, buffers, sleeping waits, sw events, barriers, mutex, dispatch; exports 'events', 'sleep_info'",
        params: "base: global view (0x10200800, 0x800 bytes)\ndemux_base: per-core alias (0x10204000, 0x400 bytes)\nbarriers: hardware barriers (one per core)\nmutexes: hardware mutexes (1)\ndispatch_fifo_depth: dispatcher FIFO entries (8)",
        build,
    }]
}
