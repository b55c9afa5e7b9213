//! # Cluster control unit
//!
//! A loosely-timed model of `cluster_control_unit` (github.com/pulp-platform/
//! cluster_peripherals, `cluster_control_unit/cluster_control_unit.sv`, as instantiated by
//! `pulp_cluster`), with the offsets of pulp-runtime
//! `include/archi/cluster_ctrl/cluster_ctrl_v2.h`. Mapped at `base` (0x10200000, 0x400 bytes);
//! offsets are decoded like the RTL (address bits 8:6, then bits 5:3 or 5:2):
//!
//! | offset | register | here |
//! | --- | --- | --- |
//! | 0x000 | EOC (bit 0) | writing 1 ends the run: `sim.stop("end of computation (EOC)")` |
//! | 0x008 | FETCH_EN (bit per core) | stored, reset value from the params; cores read it through the `boot` export |
//! | 0x010 | EVENT (bit 0) | stored (the cluster event output to the SoC is not modelled); reads 0 |
//! | 0x018 | CLUSTER_CFG (HCI `low_prio_max_stall` bits 7:0, `invert_prio` bit 8, HWPE enable bit 11, FP regfile disable bit 12, HWPE select bits 15:13, iDMA enable bit 16) | forwarded to the bound `hci` target (the interconnect's `hci_config`) at offset 0; without one, kept here (reset 0x00010000: iDMA enabled) |
//! | 0x020 | CLUSTER_CLK_GATE (bit 0) | stored |
//! | 0x028 | DBG_STATUS (read: halted cores) / resume (write) | reads 0, writes ignored |
//! | 0x038 | DBG_HALT_MASK | stored |
//! | 0x040 + 4*i | BOOT_ADDR of core i | stored (reset 0x1C000000, the RTL's BOOT_ADDR) |
//! | 0x080 / 0x088 | TCDM arbitration policy bits 0 / 1 | stored |
//! | 0x100 | RETURN | stored; pulp-runtime writes `value \| 1 << 31`; reported as `return_value` and `exit_code` (low 31 bits) |
//!
//! Anything else reads 0 and is logged as a warning; no guest access can fail.
//!
//! ## The `boot` export (how cores learn fetch enable and boot addresses)
//!
//! A "target" port that cores (or the platform) read with `debug_transport` (32-bit reads,
//! offsets relative to the port; `b_transport` works the same):
//!
//! | offset | value |
//! | --- | --- |
//! | 0x000 | EOC (0 or 1) |
//! | 0x008 | fetch-enable mask (bit i = core i may fetch) |
//! | 0x00C | mask of cores whose boot address is *defined* (given by the `boot_addr` param or written by software); for the others a core should start at the ELF entry |
//! | 0x040 + 4*i | boot address of core i |
//!
//! A read of 0x008 carrying a `sleeper` ([`vp_kernel::Wake`]) registers it: it is woken in
//! the next cycle whenever FETCH_EN is written, so a core that is not enabled can sleep
//! instead of polling.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;
use serde_json::json;
use tracing::{debug, event, info, warn, Level};
use vp_kernel::clocked::DomainId;
use vp_kernel::component::{check_window, parse_params, MapEntry, PortInfo};
use vp_kernel::tlm::{Command, Payload, Response, Target, TargetRef};
use vp_kernel::{BuildCtx, Component, ComponentKind, PortRef, Sim, SimTime, Wake};

/// Track of the timeline events and warnings of this block.
pub const TRACK: &str = "cluster.cluster_ctrl";
/// Size of the register file.
pub const SIZE: u64 = 0x400;
/// Reset value of the boot addresses (the RTL's BOOT_ADDR parameter).
pub const RESET_BOOT_ADDR: u32 = 0x1C00_0000;
/// Reason given to `Sim::stop` on EOC.
pub const EOC_REASON: &str = "end of computation (EOC)";

/// Params of the `cluster_ctrl` kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "d_base")]
    base: u32,
    /// Reset value of FETCH_EN (default: every core; there is no fabric controller to set it).
    #[serde(default)]
    fetch_enable: Option<u32>,
    /// Boot address of every core (default: undefined, the cores start at the ELF entry).
    #[serde(default)]
    boot_addr: Option<u32>,
    /// Stop the run on EOC (true).
    #[serde(default = "d_true")]
    stop_on_eoc: bool,
    /// Reset value of CLUSTER_CFG when no `hci` target is bound (0x00010000).
    #[serde(default = "d_cfg")]
    cluster_cfg: u32,
}
fn d_base() -> u32 {
    0x1020_0000
}
fn d_true() -> bool {
    true
}
fn d_cfg() -> u32 {
    0x0001_0000
}

/// The register state, shared by the bus view and the `boot` view.
pub struct CtrlState {
    name: String,
    sim: Sim,
    domain: DomainId,
    cores: u32,
    stop_on_eoc: bool,
    eoc: bool,
    eoc_cycle: Option<u64>,
    fetch_en: u32,
    event: u32,
    cfg: u32,
    cfg_writes: u64,
    clk_gate: u32,
    dbg_halt_mask: u32,
    boot_addr: Vec<u32>,
    boot_defined: u32,
    arb_policy: u32,
    ret: Option<u32>,
    hci: Option<TargetRef>,
    hci_logged: bool,
    fetch_sleepers: Vec<Wake>,
    reads: u64,
    writes: u64,
    unknown: u64,
}

impl CtrlState {
    fn all(&self) -> u32 {
        if self.cores >= 32 {
            u32::MAX
        } else {
            (1 << self.cores) - 1
        }
    }

    fn warn_unknown(&mut self, p: &Payload) {
        self.unknown += 1;
        warn!(target: "vp", track = TRACK,
            "{}: {:?} of unknown register at {:#010x} (offset {:#x}){}: reads return 0, writes are ignored",
            self.name, p.command, p.global_address, p.address,
            p.initiator.map_or(String::new(), |c| format!(" by core {c}")));
    }

    fn cfg_access(&mut self, p: &mut Payload, delay: &mut SimTime, debug: bool) {
        let write = p.command == Command::Write;
        if let Some(t) = self.hci.clone() {
            let mut q = if write {
                Payload::write_u32(0, p.data_u32())
            } else {
                Payload::read_u32(0)
            };
            q.initiator = p.initiator;
            if debug {
                t.borrow_mut().debug_transport(&mut q);
            } else {
                t.borrow_mut().b_transport(&mut q, delay);
            }
            if write {
                self.cfg = p.data_u32();
                self.cfg_writes += 1;
            } else {
                p.set_data_u32(q.data_u32());
            }
            if !q.response.is_ok() {
                warn!(target: "vp", track = TRACK,
                    "{}: the bound hci target answered {:?} to a CLUSTER_CFG {:?}",
                    self.name, q.response, p.command);
            }
            p.response = Response::Ok;
            return;
        }
        if write {
            self.cfg = p.data_u32();
            self.cfg_writes += 1;
            if !self.hci_logged {
                self.hci_logged = true;
                info!(target: "vp", track = TRACK,
                    "{}: CLUSTER_CFG (HCI / HWPE config) written with {:#010x}, kept here: no 'hci' target is bound",
                    self.name, self.cfg);
            }
        } else {
            p.set_data_u32(self.cfg);
        }
        p.response = Response::Ok;
    }

    fn access(&mut self, p: &mut Payload, delay: &mut SimTime, debug: bool) {
        let off = (p.address as u32) & 0x3FC;
        let write = p.command == Command::Write;
        let d = p.data_u32();
        if !debug {
            if write {
                self.writes += 1;
            } else {
                self.reads += 1;
            }
        }
        if off < 0x40 && (off >> 3) == 3 {
            self.cfg_access(p, delay, debug);
            return;
        }
        let mut rdata = 0u32;
        let all = self.all();
        match off >> 6 {
            0 => match (off >> 3) & 7 {
                0 => {
                    if write {
                        if !debug {
                            self.write_eoc(d & 1 != 0);
                        }
                    } else {
                        rdata = self.eoc as u32;
                    }
                }
                1 => {
                    if write {
                        self.fetch_en = d & all;
                        let cycle = self.sim.next_tick_cycle(self.domain);
                        for w in self.fetch_sleepers.drain(..) {
                            w.at(cycle);
                        }
                        debug!(target: "vp", track = TRACK, "{}: fetch enable {:#x}", self.name, self.fetch_en);
                    } else {
                        rdata = self.fetch_en;
                    }
                }
                2 => {
                    if write {
                        self.event = d & 1;
                    }
                }
                4 => {
                    if write {
                        self.clk_gate = d & 1;
                    } else {
                        rdata = self.clk_gate;
                    }
                }
                5 => {} // debug status (no core halted) / resume: nothing to do
                7 => {
                    if write {
                        self.dbg_halt_mask = d & all;
                    } else {
                        rdata = self.dbg_halt_mask;
                    }
                }
                _ => self.warn_unknown(p),
            },
            1 => {
                let i = ((off >> 2) & 0xF) as usize;
                if i < self.boot_addr.len() {
                    if write {
                        self.boot_addr[i] = d;
                        self.boot_defined |= 1 << i;
                    } else {
                        rdata = self.boot_addr[i];
                    }
                } else {
                    self.warn_unknown(p);
                }
            }
            2 | 3 => {
                let bit = (off >> 3) & 1;
                if (off >> 3) & 7 > 1 {
                    self.warn_unknown(p);
                } else if write {
                    self.arb_policy = (self.arb_policy & !(1 << bit)) | ((d & 1) << bit);
                } else {
                    rdata = (self.arb_policy >> bit) & 1;
                }
            }
            4 => {
                if write {
                    self.ret = Some(d);
                    debug!(target: "vp", track = TRACK, "{}: RETURN = {d:#010x}", self.name);
                } else {
                    rdata = self.ret.unwrap_or(0);
                }
            }
            _ => self.warn_unknown(p),
        }
        if !write {
            p.set_data_u32(rdata);
        }
        p.response = Response::Ok;
    }

    fn write_eoc(&mut self, v: bool) {
        let was = self.eoc;
        self.eoc = v;
        if v && !was {
            let cycle = self.sim.cycle_now(self.domain);
            self.eoc_cycle = Some(cycle);
            event!(target: "vp", Level::TRACE, track = TRACK, ev = "instant", name = "eoc",
                cycle = cycle, return_value = self.ret.map_or(-1i64, |r| r as i64));
            info!(target: "vp", track = TRACK, "{}: end of computation at cycle {cycle}, RETURN {}",
                self.name, self.ret.map_or("never written".to_string(), |r| format!("{r:#010x}")));
            if self.stop_on_eoc {
                self.sim.stop(EOC_REASON);
            }
        }
    }

    fn boot_access(&mut self, p: &mut Payload) {
        let off = (p.address as u32) & 0x3FC;
        if p.command == Command::Write {
            // The boot view is read-only: writes go through the register file.
            p.response = Response::CommandError;
            return;
        }
        let v = match off {
            0x000 => self.eoc as u32,
            0x008 => {
                if let Some(w) = p.sleeper.clone() {
                    // bounded: a core polling with a sleeper cannot grow this without end
                    if self.fetch_sleepers.len() >= 256 {
                        self.fetch_sleepers.remove(0);
                    }
                    self.fetch_sleepers.push(w);
                }
                self.fetch_en
            }
            0x00C => self.boot_defined,
            0x040..=0x07F => {
                let i = ((off - 0x40) >> 2) as usize;
                self.boot_addr.get(i).copied().unwrap_or(RESET_BOOT_ADDR)
            }
            _ => 0,
        };
        p.set_data_u32(v);
        p.response = Response::Ok;
    }
}

struct Regs(Rc<RefCell<CtrlState>>);
struct BootView(Rc<RefCell<CtrlState>>);

impl Target for Regs {
    fn b_transport(&mut self, p: &mut Payload, delay: &mut SimTime) {
        self.0.borrow_mut().access(p, delay, false);
    }
    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        let mut d = SimTime::ZERO;
        self.0.borrow_mut().access(p, &mut d, true);
        p.data.len()
    }
}

impl Target for BootView {
    fn b_transport(&mut self, p: &mut Payload, _delay: &mut SimTime) {
        self.0.borrow_mut().boot_access(p);
    }
    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        self.0.borrow_mut().boot_access(p);
        if p.response.is_ok() {
            p.data.len()
        } else {
            0
        }
    }
}

/// The cluster control component.
pub struct ClusterCtrl {
    base: u32,
    state: Rc<RefCell<CtrlState>>,
    regs: Rc<RefCell<Regs>>,
    boot: Rc<RefCell<BootView>>,
}

impl Component for ClusterCtrl {
    fn kind(&self) -> &'static str {
        "cluster_ctrl"
    }
    fn ports(&self) -> Vec<PortInfo> {
        vec![PortInfo {
            name: "hci",
            kind: "target",
            required: false,
            doc: "the interconnect's HCI configuration register (export 'hci_config'); CLUSTER_CFG (0x018) accesses are forwarded to its offset 0",
        }]
    }
    fn export(&mut self, port: &str) -> Result<PortRef, String> {
        match port {
            "boot" => Ok(PortRef::target(self.boot.clone())),
            "regs" => Ok(PortRef::target(self.regs.clone())),
            _ => Err(format!(
                "cluster_ctrl exports 'boot' and 'regs', not '{port}'"
            )),
        }
    }
    fn bind(&mut self, port: &str, peer: PortRef) -> Result<(), String> {
        match port {
            "hci" => {
                self.state.borrow_mut().hci = Some(peer.get_target()?);
                Ok(())
            }
            _ => Err(format!("cluster_ctrl has port 'hci', not '{port}'")),
        }
    }
    fn mappings(&self) -> Vec<MapEntry> {
        vec![MapEntry {
            name: "regs".into(),
            base: self.base as u64,
            size: SIZE,
            target: self.regs.clone(),
        }]
    }
    fn stats(&self) -> serde_json::Value {
        let s = self.state.borrow();
        json!({
            "eoc": s.eoc,
            "eoc_cycle": s.eoc_cycle,
            "return_value": s.ret,
            "exit_code": s.ret.map(|r| r & 0x7FFF_FFFF),
            "fetch_enable": s.fetch_en,
            "boot_addr": s.boot_addr.iter().map(|a| format!("{a:#010x}")).collect::<Vec<_>>(),
            "boot_defined": s.boot_defined,
            "event": s.event,
            "cluster_cfg": format!("{:#010x}", s.cfg),
            "cluster_cfg_writes": s.cfg_writes,
            "hci_bound": s.hci.is_some(),
            "reads": s.reads,
            "writes": s.writes,
            "unknown_accesses": s.unknown,
        })
    }
}

fn build(
    ctx: &BuildCtx<'_>,
    name: &str,
    v: &serde_yaml::Value,
) -> Result<Box<dyn Component>, String> {
    let p: Params = parse_params(v)?;
    check_window("base", p.base, SIZE)?;
    if ctx.cores == 0 || ctx.cores > 16 {
        return Err(format!(
            "the cluster control unit has boot addresses for 1 to 16 cores, the platform has {}",
            ctx.cores
        ));
    }
    let all = (1u32 << ctx.cores) - 1;
    if let Some(f) = p.fetch_enable {
        if f & !all != 0 {
            return Err(format!(
                "fetch_enable: {f:#x} names cores beyond the {} of the platform",
                ctx.cores
            ));
        }
    }
    if let Some(b) = p.boot_addr {
        if !b.is_multiple_of(2) {
            return Err(format!("boot_addr: {b:#x} is not 2-byte aligned"));
        }
    }
    let state = Rc::new(RefCell::new(CtrlState {
        name: name.to_string(),
        sim: ctx.sim.clone(),
        domain: ctx.domain,
        cores: ctx.cores,
        stop_on_eoc: p.stop_on_eoc,
        eoc: false,
        eoc_cycle: None,
        fetch_en: p.fetch_enable.unwrap_or(all),
        event: 0,
        cfg: p.cluster_cfg,
        cfg_writes: 0,
        clk_gate: 0,
        dbg_halt_mask: 0,
        boot_addr: vec![p.boot_addr.unwrap_or(RESET_BOOT_ADDR); ctx.cores as usize],
        boot_defined: if p.boot_addr.is_some() { all } else { 0 },
        arb_policy: 0,
        ret: None,
        hci: None,
        hci_logged: false,
        fetch_sleepers: Vec::new(),
        reads: 0,
        writes: 0,
        unknown: 0,
    }));
    Ok(Box::new(ClusterCtrl {
        base: p.base,
        regs: Rc::new(RefCell::new(Regs(state.clone()))),
        boot: Rc::new(RefCell::new(BootView(state.clone()))),
        state,
    }))
}

/// The kinds this crate provides.
pub fn kinds() -> Vec<ComponentKind> {
    vec![ComponentKind {
        name: "cluster_ctrl",
        summary: "cluster control unit: EOC (stops the run), fetch enable, boot addresses, RETURN, HCI config (port 'hci'); exports 'boot'",
        params: "base: start address (0x10200000, 0x400 bytes)\nfetch_enable: reset FETCH_EN mask (all cores)\nboot_addr: boot address of every core (undefined: ELF entry)\nstop_on_eoc: stop the run on EOC (true)\ncluster_cfg: reset CLUSTER_CFG when 'hci' is unbound (0x00010000)",
        build,
    }]
}
