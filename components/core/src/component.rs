//! The `core` component kind: a [`Hart`] as a clocked initiator of the cluster.
//!
//! ```text
//!   core<i> (PHASE_INITIATOR)                   cluster
//!   +--------------------+  tcdm (narrow port)  +--------------+
//!   | Hart::run(quantum) |--------------------->| interconnect |  TCDM 0x10000000..0x10100000
//!   |   Stop::Timed(p)   |  b_transport @ cycle +--------------+
//!   |                    |--------------------->  cluster bus: L2, event unit, RedMulE, stdout...
//!   |                    |  boot, sleep_info    (AddressMap)
//!   +--------------------+<--------------------  cluster_ctrl.boot, event_unit.sleep_info
//! ```
//!
//! ## Params
//! `index` (core index, `mhartid[3:0]`), `elf` (path), `load_elf` (load the PT_LOAD segments
//! through the bus's `debug_transport` at elaboration; the platform sets it on the first core
//! only), `cluster` (0), `timing` ([`Timing`] overrides), `trace_instructions` (false: an
//! instant per retired instruction on the core's track, with pc, disassembly and cycle),
//! `quantum` (10000: how many cycles the hart may run ahead of the simulation per tick),
//! `alone_grants` (true: see below; false only to compare, the run is the same),
//! `grant_hooks` (true: see below; false only to compare, the run is the same).
//!
//! ## Memory accesses (the [`DataBus`] of the hart)
//! * Data in the TCDM window (`tcdm_base`..+1 MiB, aliasing is the interconnect's business):
//!   [`Route::Timed`], posted on the bound `tcdm` narrow port at the exact cycle of the
//!   access; the grant's lost arbitrations become stall cycles. When nothing else can act
//!   from the access until the core's turn in the cycle after it
//!   ([`TickCtx::turn_horizon`]: the other cores asleep or further ahead, the interconnect
//!   and RedMulE idle, no event due), the access is
//!   performed at once through the port's alone grant
//!   ([`vp_kernel::port::Port::request_alone`]) and the hart runs on in the same tick:
//!   the same run as posting it, granted at once and collected the cycle after, without
//!   the round trip (counted as `alone_grants` in the stats). Once the tick granted one
//!   alone, the hart's run grants the following ones itself ([`DataBus::timed_now`]), up
//!   to the same horizon, without stopping (except stores into the code, which restart
//!   the run). Not while a timeline is recorded.
//!   While another core is busy, the core takes the grants of its posted accesses through
//!   a grant hook on the port instead: inside the interconnect's pass it collects the
//!   grant and runs on as its tick in the cycle after would, posting its next TCDM access
//!   (any other stop is left to the tick of its cycle), so that cores contending for the
//!   TCDM are not ticked once per access.
//! * Data anywhere else that is mapped on the cluster bus (L2, event unit, cluster control,
//!   RedMulE, stdout, timer, SoC stubs): [`Route::Timed`], performed with `b_transport` at
//!   its exact cycle, so that accesses of different cores to peripherals and L2 are ordered
//!   by time (then core index within a cycle). The annotated delay becomes stall cycles. An
//!   answer of [`Response::Incomplete`] (an event-unit wait) puts the core to sleep
//!   (`Next::Sleep`, the target keeps the core's wake handle) and the same access is issued
//!   again when woken. Errors become a fault of the run.
//! * Unmapped data addresses: the hart's access fault, reported as a fault of the run.
//! * Instruction fetch reads through `debug_transport` (zero time): the timing model assumes
//!   I-cache hits unless port `ifetch` is bound to a model ([`crate::ifetch`]; the platform
//!   binds `icache_ctrl.ifetch`, which is empty unless the scenario selects one), and
//!   decoded instructions are cached per pc by the hart, so a fetch only
//!   happens on the first execution of each pc. Stores of this core into the ELF's
//!   executable segments drop the decode cache; code written by others (DMA, other cores)
//!   is not detected.
//!
//! ## Boot
//! At elaboration the core reads the `boot` port of the cluster control unit: when its
//! fetch-enable bit (0x008) is clear it sleeps (registering its wake handle, so a write of
//! FETCH_EN wakes it); it starts at its boot address (0x040 + 4i) when that address is
//! defined (0x00C), else at the ELF entry.
//!
//! ## Traps
//! `ecall` / `ebreak` enter the trap handler ([`Hart::take_trap`], mcause 11 / 3) after
//! [`TRAP_ENTRY_CYCLES`]. Every other exception (illegal instruction, fetch or data access
//! fault) ends the run with `sim.fault(core name, ...)` naming pc, raw bits and cycle.
//!
//! ## Performance counters
//! The hart implements the PULP performance counters ([`crate::perf`]); the component tells
//! it which accesses go to the TCDM (the others are external) and how long an event-unit
//! wait kept the clock gated (not counted as cycles). When the firmware used them, the
//! stats show them as `perf_counters`.
//!
//! ## End of run
//! A core sleeping on an event-unit wait reports the event unit's description from
//! `blocked_on`, except when its wait mask is empty (a parked core: pulp-runtime and our crt0
//! park finished cores that way), which counts as halted. Cores waiting for fetch enable are
//! idle.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use serde::Deserialize;
use serde_json::json;
use std::cell::Cell;
use std::rc::Weak;
use vp_kernel::clocked::{Clocked, Next, TickCtx, Wake, PHASE_INITIATOR};
use vp_kernel::component::{parse_params, ElabCtx, PortInfo};
use vp_kernel::port::{GrantHook, NarrowPort, NarrowReq, Resp};
use vp_kernel::tlm::{AddressMap, Command, Payload, Response, Settle, TargetRef};
use vp_kernel::{BuildCtx, Clock, Component, ComponentKind, PortRef, SimTime};

use crate::bus::{BusRequest, DataBus, PendingAccess, Route, TimedNow};
use crate::elf::Elf;
use crate::hart::{FaultKind, Hart, Stop, Timing};

/// Cycles from an ecall/ebreak to the first instruction of the trap handler (the
/// controller's FLUSH_EX / FLUSH_WB path and the refetch; an estimate).
pub const TRAP_ENTRY_CYCLES: u64 = 4;

/// Size of the TCDM window (0x10000000..0x10100000; the interconnect aliases by the low bits).
pub const TCDM_WINDOW: u32 = 0x10_0000;

/// Params of the `core` kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    index: u32,
    elf: PathBuf,
    #[serde(default)]
    load_elf: bool,
    #[serde(default)]
    cluster: u32,
    /// Parsed into [`Timing`] separately, so that errors name `timing`.
    #[serde(default)]
    timing: serde_yaml::Value,
    #[serde(default)]
    trace_instructions: bool,
    #[serde(default = "d_quantum")]
    quantum: u64,
    #[serde(default = "d_true")]
    alone_grants: bool,
    #[serde(default = "d_true")]
    grant_hooks: bool,
}
fn d_quantum() -> u64 {
    10_000
}
fn d_true() -> bool {
    true
}

/// The component kinds of this crate.
pub fn kinds() -> Vec<ComponentKind> {
    vec![ComponentKind {
        name: "core",
        summary: "CV32E40P core (RV32IMCF ISS, cycle-timed): TCDM through a narrow port, other targets at their exact cycle; ports 'tcdm', 'boot', 'sleep_info'",
        params: "index: core index (mhartid[3:0])\nelf: ELF file (relative to the scenario)\nload_elf: load the ELF's segments at elaboration (false)\ncluster: cluster id (0)\ntiming: {fpu_addmul_lat, fpu_others_lat, fpu_divsqrt_cycles} overrides (fpu_divsqrt_cycles: one latency for every fdiv/fsqrt instead of the divider's operand-dependent 3..19)\ntrace_instructions: instruction trace on the core's track (false)\nquantum: max run-ahead cycles per tick (10000)\nalone_grants: perform a TCDM access at once when nothing else can act before the cycle after it (true; false: always post it and wait for the grant; same run either way)\ngrant_hooks: while other cores are busy, go on from a TCDM grant inside the interconnect's pass instead of waking up the cycle after it (true; false only to compare, the run is the same)",
        build,
    }]
}

fn build(
    ctx: &BuildCtx<'_>,
    name: &str,
    params: &serde_yaml::Value,
) -> Result<Box<dyn Component>, String> {
    let p: Params = parse_params(params)?;
    if p.index >= 16 {
        return Err(format!("index: {} is out of range (0..16)", p.index));
    }
    if p.cluster >= 64 {
        return Err(format!("cluster: {} is out of range (0..64)", p.cluster));
    }
    if p.quantum == 0 {
        return Err("quantum: expected at least 1".into());
    }
    let timing: Timing = parse_params(&p.timing).map_err(|e| format!("timing: {e}"))?;
    let path = if p.elf.is_absolute() {
        p.elf.clone()
    } else {
        ctx.base_dir.join(&p.elf)
    };
    let bytes =
        std::fs::read(&path).map_err(|e| format!("elf: cannot read {}: {e}", path.display()))?;
    let elf = Elf::parse(&bytes).map_err(|e| format!("elf: {}: {e}", path.display()))?;
    Ok(Box::new(Core {
        name: name.to_string(),
        index: p.index,
        cluster: p.cluster,
        load_elf: p.load_elf,
        timing,
        trace: p.trace_instructions,
        quantum: p.quantum,
        alone_grants: p.alone_grants,
        grant_hooks: p.grant_hooks,
        tcdm_base: ctx.tcdm_base,
        tcdm_banks: ctx.tcdm_banks.max(1),
        elf: Rc::new(elf),
        elf_path: path,
        tcdm: None,
        periph: None,
        boot: None,
        sleep_info: None,
        ifetch: None,
        state: None,
        domain: None,
    }))
}

type SleepInfo = Box<dyn Fn(u32) -> Option<String>>;

/// The component (build / bind / elaborate side).
pub struct Core {
    name: String,
    index: u32,
    cluster: u32,
    load_elf: bool,
    timing: Timing,
    trace: bool,
    quantum: u64,
    alone_grants: bool,
    grant_hooks: bool,
    tcdm_base: u32,
    tcdm_banks: u32,
    elf: Rc<Elf>,
    elf_path: PathBuf,
    tcdm: Option<Rc<NarrowPort>>,
    periph: Option<Rc<NarrowPort>>,
    boot: Option<TargetRef>,
    sleep_info: Option<Rc<SleepInfo>>,
    ifetch: Option<Rc<dyn vp_kernel::port::FetchTiming>>,
    state: Option<Rc<RefCell<CoreState>>>,
    domain: Option<vp_kernel::clocked::DomainId>,
}

/// How many cores of the simulation are busy (started, not sleeping on an event, not
/// halted): shared through [`vp_kernel::Sim::shared`].
#[derive(Default)]
struct Busy(Cell<u32>);

/// The core's grant hook on its TCDM port ([`GrantHook`]): the interconnect hands it the
/// grant inside its pass, and the core does there what its tick in the cycle after the
/// grant would do ([`CoreState::granted_in_pass`]).
struct GrantIn {
    st: Weak<RefCell<CoreState>>,
    wake: Wake,
    /// A grant the core could not take at once (its state was borrowed), for its tick.
    mailbox: Cell<Option<Resp<u32>>>,
}

impl GrantHook<NarrowReq, u32> for GrantIn {
    fn granted(&self, port: &NarrowPort, resp: Resp<u32>) {
        if let Some(st) = self.st.upgrade() {
            if let Ok(mut s) = st.try_borrow_mut() {
                s.granted_in_pass(port, resp, &self.wake);
                return;
            }
        }
        self.mailbox.set(Some(resp));
        self.wake.at(resp.granted + 1);
    }
}

/// Counters of one core.
#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    stall_cycles: u64,
    sleep_cycles: u64,
    loads: u64,
    stores: u64,
    faults: u64,
    /// (TCDM accesses are not counted apart: every counted load or store is a TCDM or a
    /// bus access, so they are `loads + stores - bus_accesses`, derived in the stats.)
    bus_accesses: u64,
    /// TCDM accesses performed at once ([`vp_kernel::port::Port::request_alone`]).
    alone_grants: u64,
}

/// What the core is doing between ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Not fetch-enabled yet.
    WaitFetch,
    /// Running (possibly waiting for the cycle of its next access).
    Run,
    /// A TCDM request is posted; the grant wakes the core.
    Tcdm { posted: u64 },
    /// A request is posted on the peripheral branch (see [`periph_path`]); the grant
    /// wakes the core.
    Periph { posted: u64 },
    /// A bus access answered Incomplete at `since`; re-issue it when woken.
    Sleep { since: u64 },
    /// A load granted in cycle `granted` whose data settles at the end of that cycle
    /// ([`vp_kernel::tlm::Settle`], the event unit); issued again in the next to collect
    /// it. `waited`: the cycles it waited for the grant from its issue.
    Settle { granted: u64, waited: u64 },
    /// Stopped by a fault.
    Halted,
}

/// The TCDM access a core posted ahead for a cycle the run never reached (it ended first):
/// the stats leave it out, as if the core had not got there yet.
#[derive(Clone, Copy, Debug, Default)]
struct Unreached {
    write: bool,
    yes: bool,
    /// On the peripheral branch (counted among the bus accesses), not the TCDM.
    periph: bool,
}

/// What [`CoreState::grant_alone`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alone {
    /// Nothing (tracing, no alone grant on the port, or the interconnect's pass would
    /// not grant at once): post the access as usual.
    No,
    /// Performed and retired.
    Done,
    /// Performed with an error response, held for the tick that would have collected it
    /// (`Mode::Tcdm`, woken the cycle after the access).
    Held,
}

/// Timeline state, for slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slice {
    None,
    Running,
    Stalled(u32),
    StalledPeriph,
    Sleeping,
}

/// Does a data access to `addr` (not for the TCDM) take the peripheral branch of the
/// core's demux (pulp_cluster data_periph_demux.sv, `destination = PE`)? Everything but
/// the demux peripherals: `0x102x_xxxx` (or its alias `0x002x_xxxx`) with address bit 14
/// set (the event unit's per-core view), which answer on their own port.
#[inline]
pub fn periph_path(addr: u32) -> bool {
    let top = addr >> 20;
    !((top == 0x102 || top == 0x002) && addr & (1 << 14) != 0)
}

/// The hart's view of the cluster.
struct CoreBus {
    map: Rc<AddressMap>,
    tcdm_base: u32,
    fetch: Payload,
    /// Executable ranges of the ELF (stores there drop the decode cache).
    code: Vec<(u32, u32)>,
    generation: u64,
    /// The core's counters (the bus counts the accesses it performs inside a run).
    n: Counters,
    /// The TCDM port (for the accesses performed inside a run).
    port: Option<Rc<NarrowPort>>,
    /// TCDM accesses of cycles `c` with `now_from <= c` and `c + 1 < now_until` are
    /// granted alone inside the run ([`DataBus::timed_now`]); the tick sets the window
    /// after it granted one alone itself: from its cycle to its turn horizon.
    now_from: u64,
    now_until: u64,
    /// The run-ahead quantum (the run's limit after an access granted in cycle `c` is
    /// `c + 1 + quantum`, as the tick would have set it).
    quantum: u64,
    /// An access granted alone inside the run with an error response, for the tick.
    held: Option<vp_kernel::port::Resp<u32>>,
}

impl CoreBus {
    #[inline]
    fn is_tcdm(&self, addr: u32) -> bool {
        addr.wrapping_sub(self.tcdm_base) < TCDM_WINDOW
    }

    /// Does a store to `addr` hit the ELF's code (and drop the decode cache)?
    #[inline]
    fn in_code(&self, addr: u32) -> bool {
        self.code.iter().any(|&(a, b)| addr >= a && addr < b)
    }

    /// Count a data access (a store into the code bumps the code generation).
    #[inline]
    fn count(&mut self, req: &BusRequest) {
        if req.write {
            self.n.stores += 1;
            if self.in_code(req.addr) {
                self.generation += 1;
            }
        } else {
            self.n.loads += 1;
        }
    }
}

impl DataBus for CoreBus {
    #[inline]
    fn route(&mut self, addr: u32, _write: bool) -> Route {
        if self.is_tcdm(addr) || self.map.find(addr as u64).is_some() {
            Route::Timed
        } else {
            Route::Unmapped
        }
    }
    fn read(&mut self, _addr: u32, _be: u8) -> u32 {
        0 // no Route::Direct targets
    }
    fn write(&mut self, _addr: u32, _be: u8, _data: u32) {}
    fn fetch(&mut self, pc: u32) -> Option<u32> {
        // I-cache hits: zero-time reads (the decode cache makes this a first-execution path).
        for len in [4usize, 2] {
            let p = &mut self.fetch;
            p.command = Command::Read;
            p.address = pc as u64;
            p.data.resize(len, 0);
            p.data[..len].fill(0);
            p.response = Response::Incomplete;
            if self.map.debug_transport(p) == len && p.response.is_ok() {
                return Some(p.data_u32());
            }
        }
        None
    }
    #[inline]
    fn code_generation(&self) -> u64 {
        self.generation
    }
    #[inline]
    fn is_tcdm(&self, addr: u32) -> bool {
        CoreBus::is_tcdm(self, addr)
    }
    /// A TCDM access in the window the tick opened (see `now_until`), granted alone
    /// exactly as [`CoreState::grant_alone`] grants it in the tick: the same counts and
    /// completion, without stopping the run. Stores into the code are left to the tick
    /// (the run must restart to drop the decode cache).
    #[inline(always)]
    fn timed_now(&mut self, cycle: u64, req: &BusRequest) -> TimedNow {
        // (c + 1 < now_until, as the tick asks; now_until is 0 while the window is shut.)
        if cycle < self.now_from
            || cycle >= self.now_until.saturating_sub(1)
            || !self.is_tcdm(req.addr)
            || (req.write && self.in_code(req.addr))
        {
            return TimedNow::No;
        }
        let Some(port) = self.port.as_ref() else {
            return TimedNow::No;
        };
        let Some(r) = port.request_alone(cycle, req.narrow()) else {
            return TimedNow::No;
        };
        // As `count`, the store known to miss the code.
        if req.write {
            self.n.stores += 1;
        } else {
            self.n.loads += 1;
        }
        self.n.alone_grants += 1;
        if r.error {
            self.held = Some(r);
            return TimedNow::Held;
        }
        self.n.stall_cycles += r.waited;
        TimedNow::Done {
            rdata: r.rdata,
            stall_cycles: r.waited,
            limit: (cycle + 1).saturating_add(self.quantum),
        }
    }
}

/// The clocked participant.
struct CoreState {
    name: String,
    track: String,
    index: u32,
    quantum: u64,
    alone_grants: bool,
    trace: bool,
    tcdm_banks: u32,
    clock: Clock,
    hart: Hart,
    bus: CoreBus,
    entry: u32,
    started: bool,
    mode: Mode,
    /// The access the hart waits to present (its cycle may be in the future).
    pending: Option<PendingAccess>,
    payload: Payload,
    port: Option<Rc<NarrowPort>>,
    /// The port to the peripheral crossbar (see [`periph_path`]).
    periph: Option<Rc<NarrowPort>>,
    boot: Option<TargetRef>,
    boot_payload: Payload,
    sleep_info: Option<Rc<SleepInfo>>,
    wake: Option<Wake>,
    slice: Slice,
    slice_since: u64,
    trace_on: Option<bool>,
    elf: Rc<Elf>,
    /// Set at the end of the run (`finish`).
    unreached: Unreached,
    /// The response of an access granted alone, to collect as a posted one's.
    held: Option<vp_kernel::port::Resp<u32>>,
    /// The hook bound on the TCDM port (its mailbox), with param `grant_hooks`.
    grant_in: Option<Rc<GrantIn>>,
    /// The simulation's busy cores, and whether this one counts among them.
    busy: Rc<Busy>,
    counted: bool,
    /// A stop of a run made inside the interconnect's pass, for the tick to handle.
    deferred: Option<Stop>,
    /// [`CoreState::hook_ready`], once asked.
    hook_ready: Option<bool>,
    /// The last grant collected inside the interconnect's pass: (grant cycle, stall).
    hooked: Option<(u64, u64)>,
    /// Set at the end of the run (`finish`): the stall of a grant collected inside the
    /// pass for a turn the run never reached (the stats leave it uncollected).
    uncollected: Option<u64>,
}

impl CoreState {
    fn boot_read(&mut self, off: u64, sleeper: Option<&Wake>) -> Option<u32> {
        let t = self.boot.as_ref()?;
        let p = &mut self.boot_payload;
        p.address = off;
        p.data.resize(4, 0);
        p.response = Response::Incomplete;
        p.sleeper = sleeper.cloned();
        t.borrow_mut().debug_transport(p);
        p.sleeper = None;
        p.response.is_ok().then(|| p.data_u32())
    }

    /// Fetch enable and boot address; starts the hart when enabled. Out of line: building
    /// a hart needs a large stack frame, which would cost every tick a stack probe.
    #[cold]
    #[inline(never)]
    fn try_start(&mut self, cycle: u64, wake: &Wake) -> bool {
        if self.boot.is_none() {
            self.start(self.entry, cycle);
            return true;
        }
        let en = self.boot_read(0x008, Some(wake)).unwrap_or(u32::MAX);
        if en & (1 << self.index) == 0 {
            return false;
        }
        let defined = self.boot_read(0x00C, None).unwrap_or(0);
        let addr = if defined & (1 << self.index) != 0 {
            self.boot_read(0x040 + 4 * self.index as u64, None)
                .unwrap_or(self.entry)
        } else {
            self.entry
        };
        self.start(addr, cycle);
        true
    }

    #[cold]
    #[inline(never)]
    fn start(&mut self, pc: u32, cycle: u64) {
        let mut h = Hart::new(self.hart.csrs.mhartid >> 5, self.index, pc);
        h.timing = self.hart.timing;
        h.set_fetch_hook(self.hart.take_fetch_hook());
        h.cycle = cycle;
        self.hart = h;
        self.started = true;
        self.mode = Mode::Run;
        self.set_busy(true);
    }

    /// Can the grant hook go on from grants ([`CoreState::granted_in_pass`]): no
    /// instruction trace, no instruction-fetch model, no timeline? Asked once per run.
    #[inline]
    fn hook_ready(&mut self) -> bool {
        match self.hook_ready {
            Some(b) => b,
            None => {
                let b = !self.trace && self.hart.fetch_hook().is_none() && !self.tracing();
                self.hook_ready = Some(b);
                b
            }
        }
    }

    /// Count this core among the busy ones or not.
    #[inline]
    fn set_busy(&mut self, b: bool) {
        if b != self.counted {
            self.counted = b;
            let n = &self.busy.0;
            n.set(if b { n.get() + 1 } else { n.get() - 1 });
        }
    }

    /// The grant of the posted TCDM access, handed over inside the interconnect's pass in
    /// cycle `g` ([`GrantIn`]). While another core is busy (the tick could seldom grant
    /// the next access alone), the core does here what its tick in `g + 1` would do:
    /// collect the grant, run up to its next timed access or its quantum, and post a TCDM
    /// access for its cycle (quietly: the pass notes when it is due), without a tick of
    /// its own. Nothing else can touch what the run reads before that tick: the registers
    /// and the core's own state; any other access stops the run, and is performed in the
    /// tick of its cycle. The same run as the tick's, which could only have granted the
    /// next access alone instead of posting it (the same outcome); `finish` takes back the
    /// collection if the run ends before the core's turn in `g + 1`. Otherwise (one core
    /// busy, a timeline, an instruction-fetch model, an error response) the grant waits for
    /// that tick, as without the hook.
    fn granted_in_pass(&mut self, port: &NarrowPort, r: Resp<u32>, wake: &Wake) {
        let now = r.granted + 1;
        let go = self.busy.0.get() >= 2 && !r.error && self.hook_ready();
        let (true, Mode::Tcdm { posted }, Some(p)) = (go, self.mode, self.pending) else {
            self.held = Some(r);
            wake.at(now);
            return;
        };
        self.pending = None;
        let stall = r.waited + posted.saturating_sub(p.cycle);
        self.bus.n.stall_cycles += stall;
        // hook_ready: no instruction trace, the next run is run_inlined.
        let _ = self.hart.complete_access_untraced(r.rdata, stall);
        self.mode = Mode::Run;
        self.hooked = Some((r.granted, stall));
        // No access is granted alone inside this run (the interconnect is in its pass).
        self.bus.now_until = 0;
        match self
            .hart
            .run_inlined(&mut self.bus, now.saturating_add(self.quantum))
        {
            Stop::Limit => wake.at(self.hart.cycle.max(now + 1)),
            Stop::Timed(p) if self.bus.is_tcdm(p.req.addr) => {
                let at = p.cycle.max(now);
                port.request(at, p.req.narrow());
                self.posted(&p, at);
            }
            Stop::Timed(p) => {
                self.pending = Some(p);
                wake.at(p.cycle.max(now));
            }
            s => {
                self.deferred = Some(s);
                wake.at(now);
            }
        }
    }

    /// Is a timeline recorded? Asked once per run (the subscriber does not change while the
    /// simulation runs), so that tracing off costs a branch.
    #[inline]
    fn tracing(&mut self) -> bool {
        match self.trace_on {
            Some(t) => t,
            None => {
                let t = vp_traces::enabled();
                self.trace_on = Some(t);
                t
            }
        }
    }

    #[inline(always)]
    fn set_slice(&mut self, s: Slice, cycle: u64) {
        if s != self.slice && self.trace_on != Some(false) {
            self.change_slice(s, cycle);
        }
    }

    /// Close the current slice (emit it) and open `s`.
    #[inline(never)]
    fn change_slice(&mut self, s: Slice, cycle: u64) {
        if self.slice != Slice::None && cycle > self.slice_since && self.tracing() {
            let start = self.clock.time_of(self.slice_since).ps();
            let dur = self.clock.cycles(cycle - self.slice_since).ps();
            match self.slice {
                Slice::Running => {
                    vp_traces::slice!(self.track.as_str(), "running", dur, start_ps = start)
                }
                Slice::Stalled(b) => vp_traces::slice!(
                    self.track.as_str(),
                    "stalled on memory",
                    dur,
                    start_ps = start,
                    bank = b as u64
                ),
                Slice::StalledPeriph => vp_traces::slice!(
                    self.track.as_str(),
                    "stalled on a peripheral",
                    dur,
                    start_ps = start
                ),
                Slice::Sleeping => vp_traces::slice!(
                    self.track.as_str(),
                    "sleeping on event",
                    dur,
                    start_ps = start
                ),
                Slice::None => {}
            }
        }
        self.slice = s;
        self.slice_since = cycle;
    }

    #[cold]
    #[inline(never)]
    fn fault(&mut self, cx: &TickCtx<'_>, msg: String) -> Next {
        self.bus.n.faults += 1;
        self.mode = Mode::Halted;
        self.set_busy(false);
        self.set_slice(Slice::None, cx.cycle);
        vp_traces::instant!(self.track.as_str(), "fault", message = msg.as_str());
        cx.sim.fault(self.name.clone(), msg);
        Next::Sleep
    }

    #[cold]
    #[inline(never)]
    fn describe_fault(&self, f: &crate::hart::Fault) -> String {
        let sym = self
            .elf
            .symbolize(f.pc)
            .map(|(s, o)| format!(" <{s}+{o:#x}>"))
            .unwrap_or_default();
        match f.kind {
            FaultKind::IllegalInstruction => format!(
                "illegal instruction {:#010x} ({}) at pc {:#010x}{sym} (cycle {})",
                f.raw,
                crate::disasm(&crate::decode(f.raw), f.pc),
                f.pc,
                f.cycle
            ),
            FaultKind::FetchMisaligned => {
                format!("misaligned fetch at pc {:#010x} (cycle {})", f.pc, f.cycle)
            }
            FaultKind::FetchUnmapped => format!(
                "instruction fetch from unmapped pc {:#010x} (cycle {}): {}",
                f.pc,
                f.cycle,
                self.bus.map.describe_unmapped(f.pc as u64)
            ),
            FaultKind::LoadUnmapped { addr } => format!(
                "load access fault at pc {:#010x}{sym}, raw {:#010x} (cycle {}): {}",
                f.pc,
                f.raw,
                f.cycle,
                self.bus.map.describe_unmapped(addr as u64)
            ),
            FaultKind::StoreUnmapped { addr } => format!(
                "store access fault at pc {:#010x}{sym}, raw {:#010x} (cycle {}): {}",
                f.pc,
                f.raw,
                f.cycle,
                self.bus.map.describe_unmapped(addr as u64)
            ),
        }
    }

    /// A sleeping access is answered in cycle `now`: the sleep's accounting.
    fn woken(&mut self, now: u64) {
        if let Mode::Sleep { since } = self.mode {
            let slept = now.saturating_sub(since);
            self.bus.n.sleep_cycles += slept;
            // The event unit gates the core's clock while it waits.
            self.hart.clock_gated(slept);
            self.set_busy(true);
            self.mode = Mode::Run;
        }
    }

    /// Perform a non-TCDM access through the bus at `cycle`: `Ok(Some((rdata, delay)))`,
    /// `Ok(None)` when Incomplete, `Err(msg)` on an error response. Out of line: inlined,
    /// the constants of its vectorized byte loop were kept in registers reloaded after
    /// every call the tick makes.
    #[inline(never)]
    fn bus_access(&mut self, req: &BusRequest, wake: &Wake) -> Result<Option<(u32, u64)>, String> {
        // The exact bytes of the access: the enabled lanes (contiguous for RV32 accesses).
        let p = &mut self.payload;
        let first = p.set_lanes(req.addr, req.be, req.write, req.wdata);
        p.response = Response::Incomplete;
        p.initiator = Some(self.index);
        // a load takes its data settled at the end of the grant cycle (the event unit)
        p.settle = if req.write {
            Settle::No
        } else {
            Settle::Accepted
        };
        if p.sleeper.is_none() {
            p.sleeper = Some(wake.clone());
        }
        let mut delay = SimTime::ZERO;
        self.bus.map.b_transport(p, &mut delay);
        match p.response {
            Response::Ok => {
                let rdata = p.lanes_u32(first);
                let period = self.clock.period_ps().max(1);
                let dcycles = delay.ps().div_ceil(period);
                Ok(Some((rdata, dcycles)))
            }
            Response::Incomplete => Ok(None),
            r => Err(format!(
                "{} of {} byte(s) at {:#010x}: {:?}{}",
                if req.write { "store" } else { "load" },
                p.data.len(),
                (req.addr & !3).wrapping_add(first),
                r,
                if r == Response::AddressError {
                    format!(" ({})", self.bus.map.describe_unmapped(p.address))
                } else {
                    String::new()
                }
            )),
        }
    }

    #[inline]
    fn count(&mut self, req: &BusRequest) {
        self.bus.count(req);
    }

    /// Post TCDM access `p` on the narrow port for cycle `now` (its own cycle, or the
    /// current one if that has passed; it may lie ahead of the tick); the grant wakes the
    /// core the cycle after.
    #[inline(always)]
    fn post_tcdm(&mut self, cx: &TickCtx<'_>, p: &PendingAccess, now: u64) -> Next {
        let Some(port) = self.port.as_ref() else {
            return self.unbound_tcdm(cx, p);
        };
        port.request(now, p.req.narrow());
        self.posted(p, now);
        // The "stalled" slice starts in cycle `now`, which may lie ahead of the tick: it is
        // opened when the response is collected (`collect_tcdm`), so that a run ending
        // before that cycle never writes a "running" slice reaching past its end.
        Next::Sleep
    }

    /// Post access `p` for cycle `now` on the peripheral branch; the grant wakes the core
    /// the cycle after.
    fn post_periph(&mut self, p: &PendingAccess, now: u64) -> Next {
        let Some(port) = self.periph.as_ref() else {
            return Next::At(now);
        };
        port.request(now, p.req.narrow());
        self.pending = Some(*p);
        self.count(&p.req);
        self.bus.n.bus_accesses += 1;
        self.mode = Mode::Periph { posted: now };
        Next::Sleep
    }

    /// Collect the response of the access posted on the peripheral branch and retire it.
    /// `None`: retired (run on); `Some`: what to return (not granted yet, or a fault).
    fn collect_periph(&mut self, cx: &TickCtx<'_>, posted: u64) -> Option<Next> {
        let Some(r) = self.periph.as_ref().and_then(|p| p.take_response()) else {
            return Some(Next::Sleep); // the grant wakes us
        };
        let Some(p) = self.pending else {
            return Some(self.fault(cx, "internal: peripheral response without an access".into()));
        };
        if self.trace_on != Some(false) {
            self.set_slice(Slice::StalledPeriph, posted);
        }
        if r.error {
            self.pending = None;
            let a = p.req.addr as u64;
            let msg = format!(
                "{} at {:#010x} through the peripheral path: {}",
                if p.req.write { "store" } else { "load" },
                p.req.addr,
                match self.bus.map.find(a) {
                    Some(m) => format!("'{}' answered an error", m.name),
                    None => self.bus.map.describe_unmapped(a),
                }
            );
            return Some(self.bus_error(cx, &p, msg));
        }
        self.pending = None;
        let stall = r.waited + posted.saturating_sub(p.cycle);
        self.bus.n.stall_cycles += stall;
        let _ = self.hart.complete_access(r.rdata, stall);
        self.mode = Mode::Run;
        None
    }

    /// The core's side of TCDM access `p`, posted for cycle `at`: it waits for the grant.
    #[inline(always)]
    fn posted(&mut self, p: &PendingAccess, at: u64) {
        self.pending = Some(*p);
        self.count(&p.req);
        self.mode = Mode::Tcdm { posted: at };
    }

    /// Perform TCDM access `p` at once through the port's alone grant, when the caller
    /// knows that nothing else can act before cycle `p.cycle + 1`: the cycle of the access
    /// and the one in which the core would collect the grant. The run is then the same as
    /// with the access posted, granted in its cycle without waiting (the interconnect
    /// accounts it as its pass would) and collected the cycle after, only without the round
    /// trip; so the counters change as [`CoreState::post_tcdm`] and
    /// [`CoreState::collect_tcdm`] would change them, with no stall.
    #[inline(always)]
    fn grant_alone(&mut self, p: &PendingAccess) -> Alone {
        if self.tracing() {
            // The timeline's "stalled" slices come from the posted path.
            return Alone::No;
        }
        let Some(port) = self.port.as_ref() else {
            return Alone::No;
        };
        let Some(r) = port.request_alone(p.cycle, p.req.narrow()) else {
            return Alone::No;
        };
        self.count(&p.req);
        self.bus.n.alone_grants += 1;
        if r.error {
            // Reported by the tick that would have collected it, as for a posted access.
            self.pending = Some(*p);
            self.held = Some(r);
            self.mode = Mode::Tcdm { posted: p.cycle };
            return Alone::Held;
        }
        self.pending = None;
        self.bus.n.stall_cycles += r.waited;
        let _ = self.hart.complete_access(r.rdata, r.waited);
        self.mode = Mode::Run;
        Alone::Done
    }

    /// The run stopped at an access the bus granted alone with an error response
    /// ([`DataBus::timed_now`]): held for the tick that would have collected it, as
    /// [`CoreState::grant_alone`] holds it.
    #[cold]
    #[inline(never)]
    fn hold_from_run(&mut self, p: PendingAccess) -> Next {
        self.held = self.bus.held.take();
        self.pending = Some(p);
        self.mode = Mode::Tcdm { posted: p.cycle };
        Next::At(p.cycle + 1)
    }

    /// Collect the response of the posted TCDM access and retire it. `None`: nothing to
    /// collect yet (the grant wakes the core).
    #[inline(always)]
    fn collect_tcdm(&mut self, cx: &TickCtx<'_>, posted: u64) -> Option<Next> {
        let r = if self.held.is_some() {
            self.held.take()
        } else {
            self.port
                .as_ref()
                .and_then(|p| p.take_response())
                .or_else(|| self.grant_in.as_ref().and_then(|h| h.mailbox.take()))
        };
        let Some(r) = r else {
            return Some(Next::Sleep); // the grant wakes us
        };
        // Only the access's cycle is needed on the way (the rest for a slice or an error).
        let Some(cycle) = self.pending.as_ref().map(|p| p.cycle) else {
            return Some(self.fault(cx, "internal: TCDM response without an access".into()));
        };
        if r.error || self.trace_on != Some(false) {
            if let Some(next) = self.collect_slow(cx, posted, r.error, r.granted) {
                return Some(next);
            }
        }
        self.pending = None;
        let stall = r.waited + posted.saturating_sub(cycle);
        self.bus.n.stall_cycles += stall;
        let _ = self.hart.complete_access(r.rdata, stall);
        self.mode = Mode::Run;
        None
    }

    /// [`CoreState::collect_tcdm`]'s slice (a timeline is recorded) and error response
    /// (out of line: neither happens on the hot path).
    #[cold]
    #[inline(never)]
    fn collect_slow(
        &mut self,
        cx: &TickCtx<'_>,
        posted: u64,
        error: bool,
        granted: u64,
    ) -> Option<Next> {
        let p = self.pending?;
        if self.trace_on != Some(false) {
            let bank = (p.req.addr >> 2) % self.tcdm_banks;
            self.set_slice(Slice::Stalled(bank), posted);
        }
        if error {
            self.pending = None;
            return Some(self.tcdm_error(cx, &p, granted));
        }
        None
    }

    /// The fault of a TCDM access with the port unbound (out of line, as tcdm_error).
    #[cold]
    #[inline(never)]
    fn unbound_tcdm(&mut self, cx: &TickCtx<'_>, p: &PendingAccess) -> Next {
        self.fault(
            cx,
            format!(
                "TCDM access at {:#010x} (pc {:#010x}) but port 'tcdm' is unbound",
                p.req.addr, p.pc
            ),
        )
    }

    /// The fault of a bus access answered with an error (out of line, as tcdm_error).
    #[cold]
    #[inline(never)]
    fn bus_error(&mut self, cx: &TickCtx<'_>, p: &PendingAccess, msg: String) -> Next {
        self.fault(
            cx,
            format!("{msg} at pc {:#010x} (cycle {})", p.pc, p.cycle),
        )
    }

    /// The fault of a TCDM error response (out of line: kept off the tick's hot path).
    #[cold]
    #[inline(never)]
    fn tcdm_error(&mut self, cx: &TickCtx<'_>, p: &PendingAccess, granted: u64) -> Next {
        self.fault(
            cx,
            format!(
                "TCDM {} error at {:#010x}, pc {:#010x} (cycle {})",
                if p.req.write { "store" } else { "load" },
                p.req.addr,
                p.pc,
                granted
            ),
        )
    }

    fn step(&mut self, cx: &mut TickCtx<'_>) -> Next {
        let now = cx.cycle;
        match self.mode {
            Mode::Halted => return Next::Sleep,
            Mode::WaitFetch => {
                if !self.try_start(now, cx.wake) {
                    return Next::Sleep;
                }
                vp_traces::instant!(self.track.as_str(), "boot", pc = self.hart.pc as u64);
            }
            Mode::Tcdm { posted } => {
                if let Some(next) = self.collect_tcdm(cx, posted) {
                    return next;
                }
            }
            Mode::Periph { posted } => {
                if let Some(next) = self.collect_periph(cx, posted) {
                    return next;
                }
            }
            // (woken before its load's data settled: not yet)
            Mode::Settle { granted, .. } if now <= granted => return Next::At(granted + 1),
            Mode::Run | Mode::Sleep { .. } | Mode::Settle { .. } => {}
        }
        // The cycle the run-ahead quantum counts from: this tick's, or after an access
        // granted alone in cycle g, g + 1 (the tick that would have collected it).
        let mut base = now;
        // The turn horizon, asked when an access first needs it and again after a bus access
        // (which can wake others).
        let mut horizon = None;
        // No access is granted inside the run until the tick granted one itself (and
        // knows the horizon).
        self.bus.now_from = now;
        self.bus.now_until = 0;
        // A stop of a run made inside the interconnect's pass comes first.
        let mut deferred = self.deferred.take();
        loop {
            let stop = if let Some(s) = deferred.take() {
                s
            } else {
                match self.pending {
                    Some(p) => Stop::Timed(p),
                    None => {
                        let limit = base.saturating_add(self.quantum);
                        // set_slice, with the timeline test first: off, the slice stays None.
                        if self.trace_on != Some(false) && self.slice != Slice::Running {
                            self.change_slice(Slice::Running, now);
                        }
                        if self.trace {
                            self.run_traced(limit)
                        } else {
                            self.hart.run(&mut self.bus, limit)
                        }
                    }
                }
            };
            match stop {
                Stop::Limit => return Next::At(self.hart.cycle),
                Stop::Timed(p) => {
                    if self.bus.held.is_some() {
                        return self.hold_from_run(p);
                    }
                    // A TCDM access is posted at once, dated its own cycle: the interconnect
                    // sees it from that cycle on, exactly as if posted in that cycle's tick,
                    // and the core sleeps until the grant (one tick per access). Not when the
                    // run is ending in this tick: the run never reaches that cycle.
                    let tcdm = self.bus.is_tcdm(p.req.addr);
                    let stopping = tcdm && cx.sim.stopping();
                    if tcdm && (p.cycle <= now || !stopping) {
                        if self.alone_grants && p.cycle >= now && !stopping {
                            let h =
                                *horizon.get_or_insert_with(|| cx.turn_horizon_above(p.cycle + 1));
                            if p.cycle + 1 < h {
                                match self.grant_alone(&p) {
                                    Alone::Done => {
                                        base = p.cycle + 1;
                                        // The run may grant the next ones itself, up to
                                        // the horizon (the run stops for anything that
                                        // could lower it).
                                        self.bus.now_until = h;
                                        continue;
                                    }
                                    Alone::Held => return Next::At(p.cycle + 1),
                                    Alone::No => {}
                                }
                            }
                        }
                        return self.post_tcdm(cx, &p, p.cycle.max(now));
                    }
                    // The peripheral branch: posted for its cycle, as a TCDM access.
                    if !tcdm && self.periph.is_some() && periph_path(p.req.addr) {
                        if p.cycle <= now || !cx.sim.stopping() {
                            return self.post_periph(&p, p.cycle.max(now));
                        }
                        self.pending = Some(p);
                        return Next::At(p.cycle);
                    }
                    // Other targets have side effects: performed in their own cycle.
                    if p.cycle > now {
                        self.pending = Some(p);
                        return Next::At(p.cycle);
                    }
                    let late = now - p.cycle;
                    let first_issue = !matches!(self.mode, Mode::Sleep { .. });
                    let done = self.bus_access(&p.req, cx.wake);
                    // The access may have woken others (an event, a register write).
                    horizon = None;
                    self.bus.now_until = 0;
                    match done {
                        Ok(Some((rdata, delay))) => {
                            self.pending = None;
                            self.woken(now);
                            let (delay, stall) = match self.mode {
                                Mode::Settle { granted, waited } => {
                                    (waited, granted.saturating_sub(p.cycle))
                                }
                                _ => (delay, late + delay),
                            };
                            self.count(&p.req);
                            self.bus.n.bus_accesses += 1;
                            self.bus.n.stall_cycles += delay;
                            self.mode = Mode::Run;
                            let _ = self.hart.complete_access(rdata, stall);
                        }
                        Ok(None) => {
                            self.pending = Some(p);
                            if let Settle::Granted(t) = self.payload.settle {
                                // Granted; its data is collected in the cycle after.
                                let granted = self.clock.cycle_at(t).max(now);
                                self.woken(now);
                                self.mode = Mode::Settle {
                                    granted,
                                    waited: granted - now,
                                };
                                return Next::At(granted + 1);
                            }
                            if first_issue {
                                self.mode = Mode::Sleep { since: now };
                                self.set_busy(false);
                            }
                            self.set_slice(Slice::Sleeping, now);
                            return Next::Sleep;
                        }
                        Err(msg) => return self.bus_error(cx, &p, msg),
                    }
                }
                Stop::Ecall { pc } | Stop::Ebreak { pc } => {
                    let cause = if matches!(stop, Stop::Ecall { .. }) {
                        11
                    } else {
                        3
                    };
                    vp_traces::instant!(
                        self.track.as_str(),
                        "trap",
                        pc = pc as u64,
                        cause = cause as u64
                    );
                    self.hart.cycle += TRAP_ENTRY_CYCLES;
                    self.hart.take_trap(cause, 0);
                }
                Stop::Fault(f) => {
                    let msg = self.describe_fault(&f);
                    return self.fault(cx, msg);
                }
            }
        }
    }

    /// [`Hart::run`] with an instruction instant per retired instruction (out of line).
    #[inline(never)]
    fn run_traced(&mut self, limit: u64) -> Stop {
        let track = &self.track;
        let clock = self.clock;
        self.hart
            .run_traced(&mut self.bus, limit, &mut |r: &crate::Retired| {
                vp_traces::instant!(
                    track.as_str(),
                    "instr",
                    start_ps = clock.time_of(r.cycle).ps(),
                    pc = r.pc as u64,
                    cycle = r.cycle,
                    cycles = r.cycles,
                    asm = crate::disasm(&r.instr, r.pc).as_str()
                );
            })
    }
}

impl Clocked for CoreState {
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        self.step(cx)
    }

    fn blocked_on(&self) -> Option<String> {
        match self.mode {
            Mode::Sleep { since } => {
                let d = self
                    .sleep_info
                    .as_ref()
                    .and_then(|f| f(self.index))
                    .unwrap_or_else(|| {
                        format!(
                            "core {} sleeps on an access at {:#010x} since cycle {since}",
                            self.index,
                            self.pending.map_or(0, |p| p.req.addr)
                        )
                    });
                // A wait with an empty mask is how runtimes park a finished core.
                if d.contains("mask 0x00000000,") {
                    None
                } else {
                    Some(d)
                }
            }
            // Posted ahead of the clock and waiting for its cycle and grant: the
            // interconnect is awake for it, but the run must not end without the core.
            Mode::Tcdm { posted } => Some(format!(
                "core {} waits for the TCDM grant of an access at {:#010x} posted for cycle {posted}",
                self.index,
                self.pending.map_or(0, |p| p.req.addr)
            )),
            Mode::Periph { posted } => Some(format!(
                "core {} waits for the grant of a peripheral access at {:#010x} posted for cycle {posted}",
                self.index,
                self.pending.map_or(0, |p| p.req.addr)
            )),
            _ => None,
        }
    }
}

impl Core {
    fn load(&self, map: &AddressMap) -> Result<(), String> {
        for s in &self.elf.segments {
            if s.memsz == 0 {
                continue;
            }
            let end = s.paddr as u64 + s.memsz as u64;
            match map.find(s.paddr as u64) {
                Some(m) if end <= m.base + m.size => {}
                _ => {
                    let why = match map.find(s.paddr as u64) {
                        Some(m) => format!("'{}' ends at {:#x}", m.name, m.base + m.size),
                        None => map.describe_unmapped(s.paddr as u64),
                    };
                    return Err(format!(
                        "elf: {}: segment at {:#010x} ({} bytes) is outside mapped memory: {why}",
                        self.elf_path.display(),
                        s.paddr,
                        s.memsz
                    ));
                }
            }
            let mut bytes = s.data.clone();
            bytes.resize(s.memsz as usize, 0);
            for (k, chunk) in bytes.chunks(4096).enumerate() {
                let a = s.paddr as u64 + 4096 * k as u64;
                let mut p = Payload::write(a, chunk);
                if map.debug_transport(&mut p) != chunk.len() || !p.response.is_ok() {
                    return Err(format!(
                        "elf: {}: writing {} bytes at {a:#010x} failed ({:?})",
                        self.elf_path.display(),
                        chunk.len(),
                        p.response
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Component for Core {
    fn kind(&self) -> &'static str {
        "core"
    }

    fn ports(&self) -> Vec<PortInfo> {
        vec![
            PortInfo {
                name: "tcdm",
                kind: "narrow",
                required: false,
                doc: "narrow initiator port of the TCDM interconnect",
            },
            PortInfo {
                name: "periph",
                kind: "narrow",
                required: false,
                doc: "port to the peripheral crossbar: accesses to the cluster peripherals, L2 \
                      and the SoC wait there for their grant as in the RTL; unbound: performed \
                      at once",
            },
            PortInfo {
                name: "boot",
                kind: "target",
                required: false,
                doc: "cluster control's boot view (fetch enable, boot addresses)",
            },
            PortInfo {
                name: "sleep_info",
                kind: "sleep_info",
                required: false,
                doc: "event unit's description of a sleeping core",
            },
            PortInfo {
                name: "ifetch",
                kind: "ifetch",
                required: false,
                doc: "instruction-cache timing model (crate::ifetch); unbound: fetches hit",
            },
        ]
    }

    fn bind(&mut self, port: &str, peer: PortRef) -> Result<(), String> {
        match port {
            "tcdm" => self.tcdm = Some(peer.get::<NarrowPort>("narrow")?),
            "periph" => self.periph = Some(peer.get::<NarrowPort>("narrow")?),
            "boot" => self.boot = Some(peer.get_target()?),
            "sleep_info" => self.sleep_info = Some(peer.get::<SleepInfo>("sleep_info")?),
            "ifetch" => self.ifetch = peer.get::<vp_kernel::port::FetchRef>("ifetch")?.0.clone(),
            _ => {
                return Err(format!(
                "core has ports 'tcdm', 'periph', 'boot', 'sleep_info' and 'ifetch', not '{port}'"
            ))
            }
        }
        Ok(())
    }

    fn elaborate(&mut self, cx: &mut ElabCtx<'_>) -> Result<(), String> {
        if self.load_elf {
            self.load(cx.bus)?;
        }
        let code: Vec<(u32, u32)> = self
            .elf
            .segments
            .iter()
            .filter(|s| s.flags & 1 != 0)
            .map(|s| (s.paddr & !3, s.paddr.saturating_add(s.memsz)))
            .collect();
        let mut hart = Hart::new(self.cluster, self.index, self.elf.entry);
        hart.timing = self.timing;
        hart.set_fetch_hook(self.ifetch.clone().map(|model| {
            crate::ifetch::FetchHook::new(Box::new(crate::ifetch::PortFetch {
                core: self.index,
                model,
            }))
        }));
        let st = Rc::new(RefCell::new(CoreState {
            name: self.name.clone(),
            track: format!("cluster.core{}", self.index),
            index: self.index,
            quantum: self.quantum,
            alone_grants: self.alone_grants,
            trace: self.trace,
            tcdm_banks: self.tcdm_banks,
            clock: cx.clock,
            hart,
            bus: CoreBus {
                map: cx.bus.clone(),
                tcdm_base: self.tcdm_base,
                fetch: Payload::read(0, 4),
                code,
                generation: 0,
                n: Counters::default(),
                port: self.tcdm.clone(),
                now_from: 0,
                now_until: 0,
                quantum: self.quantum,
                held: None,
            },
            entry: self.elf.entry,
            started: false,
            mode: Mode::WaitFetch,
            pending: None,
            payload: Payload::read(0, 4),
            port: self.tcdm.clone(),
            periph: self.periph.clone(),
            boot: self.boot.clone(),
            boot_payload: Payload::read(0, 4),
            sleep_info: self.sleep_info.clone(),
            wake: None,
            slice: Slice::None,
            slice_since: 0,
            trace_on: None,
            elf: self.elf.clone(),
            unreached: Unreached::default(),
            held: None,
            grant_in: None,
            busy: cx.sim.shared::<Busy>("vp_core.busy"),
            counted: false,
            deferred: None,
            hook_ready: None,
            hooked: None,
            uncollected: None,
        }));
        let wake = cx.sim.add_clocked(
            cx.domain,
            self.name.clone(),
            PHASE_INITIATOR,
            false,
            st.clone(),
        );
        if let Some(p) = &self.periph {
            p.set_initiator_wake(wake.clone());
            p.set_initiator_id(self.index);
        }
        if let Some(p) = &self.tcdm {
            p.set_initiator_wake(wake.clone());
            if self.grant_hooks {
                let h = Rc::new(GrantIn {
                    st: Rc::downgrade(&st),
                    wake: wake.clone(),
                    mailbox: Cell::new(None),
                });
                p.set_grant_hook(h.clone());
                st.borrow_mut().grant_in = Some(h);
            }
        }
        wake.at(0);
        st.borrow_mut().wake = Some(wake);
        self.state = Some(st);
        self.domain = Some(cx.domain);
        Ok(())
    }

    fn finish(&mut self, sim: &vp_kernel::Sim) -> Result<(), String> {
        // A TCDM access is posted as soon as the hart reaches it, dated its cycle. If the
        // run ended (a stop by another component, the cycle limit) before the core's turn
        // in that cycle, it did not happen yet: the stats say what a core ticking in that
        // cycle would have shown (running, the access not counted).
        let (Some(st), Some(d)) = (&self.state, self.domain) else {
            return Ok(());
        };
        let mut s = st.borrow_mut();
        s.unreached = Unreached::default();
        s.uncollected = None;
        // A grant collected inside the interconnect's pass for a turn the run never
        // reached: not collected yet.
        if let (Some((g, stall)), Some(w)) = (s.hooked, s.wake.as_ref()) {
            if !sim.reached_turn(d, w, g + 1) {
                s.uncollected = Some(stall);
            }
        }
        if let (Mode::Tcdm { posted } | Mode::Periph { posted }, Some(p), Some(w)) =
            (s.mode, s.pending, s.wake.as_ref())
        {
            if !sim.reached_turn(d, w, posted) {
                s.unreached = Unreached {
                    write: p.req.write,
                    yes: true,
                    periph: matches!(s.mode, Mode::Periph { .. }),
                };
            }
        }
        Ok(())
    }

    fn stats(&self) -> serde_json::Value {
        let Some(st) = &self.state else {
            return serde_json::Value::Null;
        };
        let s = st.borrow();
        let u = s.unreached;
        let state = match s.mode {
            _ if s.uncollected.is_some() => "waiting for TCDM",
            Mode::WaitFetch => "not fetch-enabled",
            Mode::Run | Mode::Settle { .. } => "running",
            Mode::Tcdm { .. } | Mode::Periph { .. } if u.yes => "running",
            Mode::Tcdm { .. } => "waiting for TCDM",
            Mode::Periph { .. } => "waiting for a peripheral",
            Mode::Sleep { .. } => {
                if s.blocked_on().is_none() {
                    "parked"
                } else {
                    "sleeping"
                }
            }
            Mode::Halted => "halted (fault)",
        };
        let mut v = json!({
            "instructions": s.hart.instret,
            "cycles": if s.started { s.hart.cycle } else { 0 },
            "stall_cycles": s.bus.n.stall_cycles - s.uncollected.unwrap_or(0),
            "sleep_cycles": s.bus.n.sleep_cycles,
            "loads": s.bus.n.loads - (u.yes && !u.write) as u64,
            "stores": s.bus.n.stores - (u.yes && u.write) as u64,
            "tcdm_accesses": s.bus.n.loads + s.bus.n.stores
                - s.bus.n.bus_accesses
                - (u.yes && !u.periph) as u64,
            "bus_accesses": s.bus.n.bus_accesses - (u.yes && u.periph) as u64,
            "alone_grants": s.bus.n.alone_grants,
            "faults": s.bus.n.faults,
            "state": state,
            "pc": format!("{:#010x}", s.hart.pc),
        });
        if let Some(h) = s.hart.fetch_hook() {
            v["fetch_stall_cycles"] = h.stall_cycles.into();
        }
        // The PULP performance counters, when the firmware used them (crate::perf).
        let p = &s.hart.perf;
        if p.pcer != 0 || p.pccr.iter().any(|&c| c != 0) {
            let names = [
                "cycles",
                "instr",
                "ld_stall",
                "jmp_stall",
                "imiss",
                "ld",
                "st",
                "jump",
                "branch",
                "taken_branch",
                "rvc",
                "elw",
                "ld_ext",
                "st_ext",
                "ld_ext_cyc",
                "st_ext_cyc",
                "tcdm_cont",
            ];
            let vals = p.snapshot(s.hart.cycle);
            let mut m = serde_json::Map::new();
            m.insert("pcer".into(), format!("{:#07x}", p.pcer).into());
            m.insert("pcmr".into(), p.pcmr.into());
            for (n, c) in names.iter().zip(vals) {
                m.insert((*n).into(), c.into());
            }
            v["perf_counters"] = serde_json::Value::Object(m);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::periph_path;

    #[test]
    fn the_demux_peripherals_answer_apart_and_everything_else_takes_the_periph_path() {
        // data_periph_demux.sv (no DEM_PER_BEFORE_TCDM_TS): in DEM_PER (0x102) and its alias
        // (0x002), address bit 14 selects EXT (the event unit's per-core view); every other
        // non-TCDM address is PE.
        for a in [
            0x1020_4000,
            0x1020_4038,
            0x1020_7FFC,
            0x102F_C000,
            0x0020_4000,
        ] {
            assert!(!periph_path(a), "{a:#x}");
        }
        for a in [
            0x1020_0000, // cluster control
            0x1020_0400, // timer
            0x1020_0800, // the event unit's global view
            0x1020_1000, // RedMulE's registers
            0x1020_8000,
            0x1C00_8080, // L2
            0x4000_0000, // stdout
            0x1A10_0000,
        ] {
            assert!(periph_path(a), "{a:#x}");
        }
    }
}
