//! The cores' path to the cluster peripherals and to everything outside the cluster: the
//! peripheral branch of each core's demux, its FIFO, and the peripheral crossbar.
//!
//! RTL modelled (pulp-platform/pulp_cluster caaa973, the current one; common_cells for the
//! FIFO and the arbiters):
//!
//! * `data_periph_demux.sv`: a core's data request that is neither for the TCDM nor for the
//!   demux peripherals (the event unit's per-core view: `0x102x_xxxx` with address bit 14)
//!   goes to the peripheral branch ("PE": the cluster peripherals, L2, the SoC). There a
//!   state machine pushes it into the FIFO (TRANS_IDLE), waits for the response
//!   (TRANS_PENDING) and only then grants the core (TRANS_GRANTED); the response reaches the
//!   core one cycle after that grant, through two registers. So the core sees the whole
//!   round trip as a late grant, and the response one cycle after the grant, as from the
//!   TCDM.
//! * `periph_FIFO.sv` / common_cells `deprecated/generic_fifo.sv`: the request leaves the
//!   FIFO the cycle after it entered (no bypass: an empty FIFO's output is not valid).
//! * `xbar_pe_wrap.sv`: per target, an `rr_arb_tree` (`LockIn = 0`, fair) over the cores and
//!   `NB_MPERIPHS` = 1 more master, granting in the cycle; the response is routed back by
//!   initiator id without a register. Targets: `addr_to_pe_idx` (see [`pe_target`]).
//! * The targets grant at once and answer one cycle later (`cluster_control_unit.sv`:
//!   `gnt = 1`, `r_valid` registered); a target's annotated TLM delay (L2's
//!   `latency_cycles`, standing for the cluster bus and the SoC behind `per2axi`) delays
//!   its response by as many cycles.
//!
//! So a core request presented in cycle `c` reaches its target in `t >= c + 1` (`c + 1`
//! unless another core won that target's arbiter), is performed there, and the core is
//! granted in `t + 2 + delay`, with the response in the cycle after. The core waits for the
//! grant as for a TCDM grant: a load or a store costs 3 more cycles than one to the TCDM,
//! uncontended.
//!
//! Protocol: each core posts such requests on its own narrow port (export `periph` of the
//! interconnect; the arbiters' input is the core's index, which the core gives its port
//! with `Port::set_initiator_id`); the crossbar, a participant of
//! its own, performs them through the cluster bus (the same targets the cores' other
//! accesses reach) and grants the port with the response. A target that cannot grant yet
//! answers `Incomplete` and keeps the crossbar's wake handle (`Payload::sleeper`), as it
//! would a core's: the crossbar asks again when woken (or when another request comes), the
//! arbiter unchanged meanwhile (none of the platform's targets on this path does so).

use std::rc::Rc;

use vp_kernel::clocked::{Clocked, Next, TickCtx};
use vp_kernel::port::NarrowPort;
use vp_kernel::tlm::{AddressMap, Payload, Response, Settle};
use vp_kernel::{Clock, SimTime};

use crate::hci::{arbitrate_tree, PortStats, Waits};

/// `NB_MPERIPHS` (pulp_soc_defines.sv): the masters on the crossbar besides the cores
/// (their inputs follow the cores'; none of ours).
pub const NB_MPERIPHS: usize = 1;
/// `NB_SPERIPHS` (pulp_soc_defines.sv): the crossbar's targets.
pub const NB_SPERIPHS: u32 = 12;
/// pulp_cluster_package.sv's target indices (`SPER_*`) and `NB_SPERIPH_PLUGS_EU`.
const SPER_EOC_ID: u32 = 0;
const SPER_TIMER_ID: u32 = 1;
const SPER_EVENT_U_ID: u32 = 2;
const NB_SPERIPH_PLUGS_EU: u32 = 2;
const SPER_HWPE_ID: u32 = 4;
const SPER_ICACHE_CTRL: u32 = 5;
const SPER_EXT_ID: u32 = 11;
const SPER_ERROR_ID: u32 = 12;
/// Targets an arbiter is kept for (every `pe_target` value).
const TARGETS: usize = SPER_ERROR_ID as usize + 1;

/// The cluster peripherals' window (xbar_pe_wrap.sv: cluster base + 0x0020_0000 up to
/// + 0x0040_0000, cluster 0 and its alias at 0).
const PERIPH_BASE: u32 = 0x1020_0000;
const PERIPH_END: u32 = 0x1040_0000;
const ALIAS_PERIPH_BASE: u32 = 0x0020_0000;
const ALIAS_PERIPH_END: u32 = 0x0040_0000;

/// The crossbar target of `addr` (xbar_pe_wrap.sv `addr_to_pe_idx`): in the cluster
/// peripherals' window, address bits 13:10 (the event unit's plugs one target); anything
/// else in the window an error; outside it the external port (`SPER_EXT_ID`: per2axi, L2
/// and the SoC).
pub fn pe_target(addr: u32) -> u32 {
    let in_window = (PERIPH_BASE..=PERIPH_END).contains(&addr)
        || (ALIAS_PERIPH_BASE..=ALIAS_PERIPH_END).contains(&addr);
    if !in_window {
        return SPER_EXT_ID;
    }
    let idx = (addr >> 10) & 0xF;
    // (the alias passes the window's test but not this one)
    if addr >> 20 != PERIPH_BASE >> 20 || (addr >> 14) & 0x3F != 0 || idx >= NB_SPERIPHS {
        return SPER_ERROR_ID;
    }
    if (SPER_EVENT_U_ID..SPER_EVENT_U_ID + NB_SPERIPH_PLUGS_EU).contains(&idx) {
        SPER_EVENT_U_ID
    } else if idx == SPER_EXT_ID {
        SPER_ERROR_ID
    } else {
        idx
    }
}

/// The crossbar participant.
pub(crate) struct PeriphXbar {
    ports: Vec<Rc<NarrowPort>>,
    bus: Rc<AddressMap>,
    clock: Clock,
    /// The cluster's cores (`NB_CORES`: the arbiters have an input for each, whether it
    /// runs or not); 0 when unknown (then the ports count).
    cores: usize,
    /// Levels of the arbiters (over the cores and `NB_MPERIPHS`), and each port's input:
    /// its core's index (`Port::initiator_id`, known once the cores are elaborated), or
    /// its position when a port has none or two share one. Set at the first tick.
    levels: u32,
    input: Vec<u32>,
    port_of: [u8; 64],
    /// `rr_q` of each target's arbiter.
    rr: [u32; TARGETS],
    payload: Payload,
    /// Its own wake handle, for targets that answer `Incomplete`.
    pub(crate) wake: Option<vp_kernel::clocked::Wake>,
    /// Per port: grants by cycles waited from the request to the grant (each request is
    /// counted when granted: a core has one at a time).
    waits: Vec<Waits>,
    /// Accesses per target.
    accesses: [u64; TARGETS],
}

impl PeriphXbar {
    pub(crate) fn new(
        ports: Vec<Rc<NarrowPort>>,
        bus: Rc<AddressMap>,
        clock: Clock,
        cores: usize,
    ) -> Self {
        let n = ports.len();
        PeriphXbar {
            ports,
            bus,
            clock,
            cores,
            levels: 0,
            input: vec![],
            port_of: [0; 64],
            rr: [0; TARGETS],
            payload: Payload::read(0, 4),
            wake: None,
            waits: vec![Waits::default(); n],
            accesses: [0; TARGETS],
        }
    }

    /// The arbiters' inputs (see `input`), once.
    fn map_inputs(&mut self) {
        let n = self.ports.len();
        let ids: Vec<Option<u32>> = self.ports.iter().map(|p| p.initiator_id()).collect();
        let mut seen = 0u64;
        let by_id = ids.iter().all(|id| {
            let ok = id.is_some_and(|i| (i as usize) < 64 - NB_MPERIPHS && seen >> i & 1 == 0);
            if let Some(i) = id.filter(|_| ok) {
                seen |= 1 << i;
            }
            ok
        });
        self.input = (0..n)
            .map(|i| if by_id { ids[i].unwrap_or(0) } else { i as u32 })
            .collect();
        for (i, &k) in self.input.iter().enumerate() {
            self.port_of[k as usize % 64] = i as u8;
        }
        let top = self
            .input
            .iter()
            .map(|&k| k as usize + 1)
            .max()
            .unwrap_or(0);
        let inputs = top.max(self.cores).max(n) + NB_MPERIPHS;
        self.levels = usize::BITS - (inputs - 1).leading_zeros();
    }

    /// Perform port `i`'s posted request on its target in `cycle`: the read data, whether
    /// the target answered an error, and its response delay in cycles; `None` when the
    /// target answered `Incomplete` (it does not grant).
    fn perform(&mut self, i: usize) -> Option<(u32, bool, u64)> {
        let r = self.ports[i].pending()?;
        let p = &mut self.payload;
        let first = p.set_lanes(r.addr, r.be, r.write, r.wdata);
        p.byte_enable.clear();
        p.response = Response::Incomplete;
        p.initiator = self.ports[i].initiator_id();
        p.settle = Settle::No;
        p.sleeper = self.wake.clone();
        let mut delay = SimTime::ZERO;
        self.bus.b_transport(p, &mut delay);
        match p.response {
            Response::Incomplete => None,
            Response::Ok => {
                let period = self.clock.period_ps().max(1);
                Some((p.lanes_u32(first), false, delay.ps().div_ceil(period)))
            }
            _ => Some((0, true, 0)),
        }
    }

    /// Statistics per port (named by the caller) and per target.
    pub(crate) fn stats(&self) -> (Vec<PortStats>, [u64; TARGETS]) {
        let ports = self
            .waits
            .iter()
            .map(|w| {
                let mut s = w.port_stats(0);
                s.requests = s.grants;
                s
            })
            .collect();
        (ports, self.accesses)
    }
}

/// The name of target `t` in the statistics.
pub fn target_name(t: usize) -> String {
    match t as u32 {
        SPER_EOC_ID => "cluster_ctrl".into(),
        SPER_TIMER_ID => "timer".into(),
        SPER_EVENT_U_ID => "event_unit".into(),
        SPER_HWPE_ID => "hwpe".into(),
        SPER_ICACHE_CTRL => "icache_ctrl".into(),
        SPER_EXT_ID => "ext".into(),
        SPER_ERROR_ID => "error".into(),
        t => format!("periph{t}"),
    }
}

impl Clocked for PeriphXbar {
    /// The arbitration of cycle `t`: the requests that entered the FIFOs before `t`
    /// (posted for a cycle below `t`), one per target, each performed now and granted to
    /// its core 2 cycles (plus the target's delay) later.
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        let t = cx.cycle;
        if self.input.len() != self.ports.len() {
            self.map_inputs();
        }
        let mut reqs = [0u64; TARGETS];
        let mut targets = 0u32;
        let mut next = u64::MAX;
        for (i, p) in self.ports.iter().enumerate() {
            let due = p.due();
            if due == u64::MAX {
                continue;
            }
            if due >= t {
                // data_periph_demux.sv TRANS_IDLE pushes it in its cycle; the FIFO
                // presents it in the next.
                next = next.min(due + 1);
                continue;
            }
            let Some(r) = p.pending() else { continue };
            let k = pe_target(r.addr) as usize % TARGETS;
            reqs[k] |= 1 << (self.input[i] & 63);
            targets |= 1 << k;
        }
        while targets != 0 {
            let k = targets.trailing_zeros() as usize % TARGETS;
            targets &= targets - 1;
            let (w, rr) = arbitrate_tree(reqs[k], self.rr[k], self.levels);
            let g = self.port_of[w as usize % 64] as usize % self.ports.len().max(1);
            let Some((rdata, error, delay)) = self.perform(g) else {
                // not granted by its target, which wakes the crossbar to ask again; the
                // arbiter unchanged
                continue;
            };
            // rr_arb_tree.sv: the priority moves on a grant only
            self.rr[k] = rr;
            self.accesses[k] += 1;
            let p = &self.ports[g];
            // data_periph_demux.sv: the response (t + 1 + delay) turns TRANS_PENDING into
            // TRANS_GRANTED, which grants the core.
            let granted = t + 2 + delay;
            let posted = p.due();
            self.waits[g].add(granted - posted.min(granted));
            p.grant(granted, rdata, error);
            if reqs[k] & !(1 << (w & 63)) != 0 {
                next = next.min(t + 1);
            }
        }
        if next == u64::MAX {
            Next::Sleep
        } else {
            Next::At(next)
        }
    }
}
