//! # vp-interconnect: the TCDM, its logarithmic interconnect and the HCI
//!
//! One component of kind `interconnect` models the cluster's shared L1 memory system as it
//! acts in the RTL, in one pass per cycle:
//!
//! ```text
//!   narrow0 ─┐                                   ┌─ bank 0
//!   narrow1 ─┤  LIC: rr_arb_tree per bank  ──┐   ├─ bank 1
//!     ...    ─┘  (tcdm_interconnect / xbar)  ├─ hci_arbiter per bank ─┤ ...
//!   wide0 ────── hci_router (9 adjacent banks) ┘  (+ starvation guard)  └─ bank 15
//! ```
//!
//! RTL modelled: `hci_interconnect.sv`, `hci_arbiter.sv` (pinned 2a5a508 and v2.4),
//! `hci_router.sv` / `hci_router_reorder.sv`, `hci_arbiter_tree.sv` (pulp-platform/hci);
//! `tcdm_interconnect.sv`, `xbar.sv`, `addr_dec_resp_mux.sv` (pulp-platform/cluster_interconnect);
//! `rr_arb_tree.sv` (pulp-platform/common_cells). See [`hci`] for the rules and [`tcdm`] for
//! the storage and the address decoding. The cores' path to the peripherals
//! (pulp_cluster's `xbar_pe_wrap.sv`, part of its `cluster_interconnect_wrap.sv`, with each
//! core's `data_periph_demux.sv` FIFO and state machine) is [`periph`].
//!
//! ## Protocol
//! Initiators post requests on their port (`vp_kernel::port`) in their tick (phase
//! `PHASE_INITIATOR`); the interconnect (phase `PHASE_INTERCONNECT`) reads every port in the
//! same cycle, arbitrates per bank, performs the granted bank accesses and grants with the
//! response data, usable by the initiator from the next cycle. A refused request stays
//! posted. When no request is pending the interconnect sleeps; posting wakes it. Grants go
//! through `Port::deliver_quiet`: an initiator that bound a grant hook (traffic generators)
//! gets the response inside the pass and posts its next request from there, dated ahead,
//! and the pass notes when it is due. While the next cycle with work lies before the
//! horizon (`TickCtx::horizon`: every initiator takes its grants through a hook and nothing
//! else acts before then) the interconnect does the passes of those cycles at once, in the
//! same order, instead of being ticked for each.
//!
//! ## Exports
//! * `narrow`: each call hands out a new narrow initiator port (kind "narrow", an
//!   `Rc<NarrowPort>`); its index is its position in the round-robin trees (export order).
//! * `wide`: the same for wide ports (kind "wide", `Rc<WidePort>`); several meet in
//!   hci_arbiter_tree.sv's binary tree of arbiters (neighbours pair up in export order,
//!   the lower index on the high side; guard and `invert_prio` as the HCI's, see `hci`).
//! * `periph`: each call hands out a core's port to the peripheral crossbar (kind "narrow";
//!   see [`periph`]): the cores' accesses to the cluster peripherals, L2 and the SoC wait
//!   there for their grant as in pulp_cluster (data_periph_demux.sv, xbar_pe_wrap.sv); the
//!   crossbar performs them on the cluster bus. Export order is the arbiters' input order.
//! * `tcdm`: a "target" port for zero-time / loosely-timed access to the storage (loaders,
//!   checkers). Relative offsets and absolute addresses both work.
//! * `hci_config`: a "target" port of the 4-byte cluster-control register at 0x10200018
//!   (`low_prio_max_stall` \[7:0\], `invert_prio` \[8\], `arb_policy` \[10:9\], `hwpe_en` \[11\]);
//!   the cluster-control component forwards its writes here.
//!
//! ## Bus mapping
//! [`Component::mappings`] maps the TCDM window (`base`, 0x100000 bytes, aliasing by the low
//! bits) as a target for loosely-timed accesses. **These bypass the arbitration**: they are
//! for loaders and peripherals; contention-accurate initiators use the narrow/wide ports.

pub mod hci;
pub mod periph;
pub mod tcdm;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde::Deserialize;
use serde_json::{json, Value};
use vp_kernel::clocked::PHASE_INTERCONNECT;
use vp_kernel::component::{parse_params, ElabCtx, MapEntry};
use vp_kernel::port::{NarrowPort, WidePort, WIDE_MAX_WORDS};
use vp_kernel::tlm::{Command, Payload, Response, Target, TargetRef};
use vp_kernel::{BuildCtx, Clock, Component, ComponentKind, PortRef, Sim, SimTime};

pub use hci::{ctrl_bits, HciVariant, PortStats, Stats, HIST_LABELS};
pub use tcdm::{Tcdm, TcdmGeometry, TcdmTarget, ALIAS_WINDOW};

use hci::{Hci, HciSettings, MAX_NARROW_PORTS, MAX_WIDE_PORTS};
use vp_kernel::port::{AloneGrant, NarrowReq, Resp, WideReq};

/// Default width of the wide port in 32-bit words (RedMulE: 256 data bits + 1 word).
pub const DEFAULT_WIDE_WORDS: u32 = 9;

/// YAML params of the `interconnect` kind. Unset fields fall back to the build context
/// (the platform's `tcdm_banks`, `tcdm_size_kib`, `tcdm_base`), then to top-level keys of
/// the scenario's `platform` section of the same name (`max_stall`, `invert_prio`,
/// `hci_variant`, `prio_num`, `prio_den`, `wide_words`) when present, then to the RTL
/// defaults. `banks`, `size` and `base` may restate the platform's TCDM but not contradict
/// it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterconnectParams {
    /// Number of banks (power of two, 1..=64). Default: platform `tcdm_banks`, else 16.
    pub banks: Option<u32>,
    /// Size in bytes (power of two, multiple of banks*4, <= 1 MiB). Default: platform
    /// `tcdm_size_kib` * 1024, else 128 KiB.
    pub size: Option<u32>,
    /// Base address. Default 0x10000000.
    pub base: Option<u32>,
    /// Wide port width in words (1..=16, <= banks). Default 9.
    pub wide_words: Option<u32>,
    /// Starvation guard variant: `pinned` (default) or `v2_4`.
    pub hci_variant: Option<String>,
    /// Reset value of `low_prio_max_stall` (0..=255; 0 = guard off). Default 0.
    pub max_stall: Option<u32>,
    /// Reset value of `invert_prio`. Default false.
    pub invert_prio: Option<bool>,
    /// v2.4 `priority_cnt_numerator` (0..=255); with `prio_den`. Default: derived from
    /// `max_stall` M as (M, M+1).
    pub prio_num: Option<u32>,
    /// v2.4 `priority_cnt_denominator` (1..=255).
    pub prio_den: Option<u32>,
}

/// The resolved, validated configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterconnectConfig {
    pub geometry: TcdmGeometry,
    pub wide_words: u8,
    pub variant: HciVariant,
    pub max_stall: u8,
    pub invert_prio: bool,
    /// v2.4 (numerator, denominator) when set explicitly.
    pub prio: Option<(u16, u16)>,
}

impl Default for InterconnectConfig {
    fn default() -> Self {
        InterconnectConfig {
            geometry: TcdmGeometry::default(),
            wide_words: DEFAULT_WIDE_WORDS as u8,
            variant: HciVariant::Pinned,
            max_stall: 0,
            invert_prio: false,
            prio: None,
        }
    }
}

fn platform_key<T: serde::de::DeserializeOwned>(
    platform: &Value,
    key: &str,
) -> Result<Option<T>, String> {
    match platform.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| format!("platform.{key}: {e}")),
    }
}

impl InterconnectConfig {
    /// Resolve params against the build context (params > platform section / context >
    /// defaults) and validate. Errors name the field.
    pub fn resolve(ctx: &BuildCtx<'_>, p: &InterconnectParams) -> Result<Self, String> {
        let pf = ctx.platform;
        let d = InterconnectConfig::default();
        let nz = |v: u32| (v != 0).then_some(v);
        let banks = match p.banks {
            Some(b) => b,
            None => match nz(ctx.tcdm_banks) {
                Some(b) => b,
                None => platform_key::<u32>(pf, "tcdm_banks")?.unwrap_or(d.geometry.banks),
            },
        };
        let size = match p.size {
            Some(s) => s,
            None => match nz(ctx.tcdm_size) {
                Some(s) => s,
                None => match platform_key::<u32>(pf, "tcdm_size_kib")? {
                    Some(k) => k
                        .checked_mul(1024)
                        .ok_or("platform.tcdm_size_kib: too large")?,
                    None => d.geometry.size,
                },
            },
        };
        let base = p.base.or(nz(ctx.tcdm_base)).unwrap_or(d.geometry.base);
        let wide_words = match p.wide_words {
            Some(w) => w,
            None => platform_key(pf, "wide_words")?.unwrap_or(DEFAULT_WIDE_WORDS),
        };
        let variant = match &p.hci_variant {
            Some(v) => HciVariant::parse(v).map_err(|e| format!("hci_variant: {e}"))?,
            None => match platform_key::<String>(pf, "hci_variant")? {
                Some(v) => {
                    HciVariant::parse(&v).map_err(|e| format!("platform.hci_variant: {e}"))?
                }
                None => HciVariant::Pinned,
            },
        };
        let max_stall = match p.max_stall {
            Some(m) => m,
            None => platform_key(pf, "max_stall")?.unwrap_or(0),
        };
        let invert_prio = match p.invert_prio {
            Some(b) => b,
            None => platform_key(pf, "invert_prio")?.unwrap_or(false),
        };
        let num = match p.prio_num {
            Some(n) => Some(n),
            None => platform_key::<u32>(pf, "prio_num")?,
        };
        let den = match p.prio_den {
            Some(n) => Some(n),
            None => platform_key::<u32>(pf, "prio_den")?,
        };
        // The platform's TCDM shape (ctx.tcdm_*) is what the other components assume;
        // params may restate it but not contradict it.
        for (field, mine, platform, key) in [
            ("banks", banks, ctx.tcdm_banks, "tcdm_banks"),
            ("size", size, ctx.tcdm_size, "tcdm_size_kib * 1024"),
            ("base", base, ctx.tcdm_base, "tcdm_base"),
        ] {
            if platform != 0 && mine != platform {
                return Err(format!(
                    "{field}: {mine:#x} contradicts the platform's {key} = {platform:#x}; set the TCDM shape in the platform section"
                ));
            }
        }
        let geometry = TcdmGeometry { base, size, banks };
        geometry.validate()?;
        if !(1..=WIDE_MAX_WORDS as u32).contains(&wide_words) || wide_words > banks {
            return Err(format!(
                "wide_words: must be in 1..={WIDE_MAX_WORDS} and at most banks = {banks} (got {wide_words})"
            ));
        }
        if max_stall > 255 {
            return Err(format!(
                "max_stall: low_prio_max_stall is 8 bits, 0..=255 (got {max_stall})"
            ));
        }
        let prio = match (num, den) {
            (None, None) => None,
            (Some(_), None) => return Err("prio_den: required with prio_num".into()),
            (None, Some(_)) => return Err("prio_num: required with prio_den".into()),
            (Some(n), Some(dn)) => {
                if variant != HciVariant::V2_4 {
                    return Err(
                        "prio_num: the numerator/denominator guard needs hci_variant: v2_4".into(),
                    );
                }
                if !(1..=255).contains(&dn) {
                    return Err(format!("prio_den: must be in 1..=255 (got {dn})"));
                }
                if n > 0 && n >= dn {
                    return Err(format!(
                        "prio_num: must be below prio_den = {dn} (or 0 to disable the guard; got {n})"
                    ));
                }
                Some((n as u16, dn as u16))
            }
        };
        Ok(InterconnectConfig {
            geometry,
            wide_words: wide_words as u8,
            variant,
            max_stall: max_stall as u8,
            invert_prio,
            prio,
        })
    }

    /// The reset value of the cluster-control HCI register.
    pub fn ctrl_reset(&self) -> u32 {
        self.max_stall as u32
            | if self.invert_prio {
                ctrl_bits::INVERT_PRIO
            } else {
                0
            }
    }
}

/// The cluster-control HCI register (0x10200018) as a 4-byte target.
pub struct HciConfigReg {
    value: Rc<Cell<u32>>,
}

impl Target for HciConfigReg {
    fn b_transport(&mut self, p: &mut Payload, _delay: &mut SimTime) {
        self.debug_transport(p);
    }
    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        let off = (p.address & 3) as usize;
        let n = p.data.len();
        if off + n > 4 {
            p.response = Response::AddressError;
            return 0;
        }
        let mut bytes = self.value.get().to_le_bytes();
        match p.command {
            Command::Read => p.data.copy_from_slice(&bytes[off..off + n]),
            Command::Write => {
                for i in 0..n {
                    if p.enabled(i) {
                        bytes[off + i] = p.data[i];
                    }
                }
                self.value.set(u32::from_le_bytes(bytes));
            }
        }
        p.response = Response::Ok;
        n
    }
}

/// The `interconnect` component: TCDM banks + LIC + HCI.
pub struct Interconnect {
    name: String,
    cfg: InterconnectConfig,
    tcdm: Rc<Tcdm>,
    target: TargetRef,
    ctrl: Rc<Cell<u32>>,
    ctrl_target: TargetRef,
    narrow: Vec<Rc<NarrowPort>>,
    wide: Vec<Rc<WidePort>>,
    core: Option<Rc<RefCell<Hci>>>,
    /// The cores' ports to the peripheral crossbar, and the crossbar.
    periph: Vec<Rc<NarrowPort>>,
    xbar: Option<Rc<RefCell<periph::PeriphXbar>>>,
    clock: Clock,
    /// The cluster's cores (0: unknown), for the crossbar's arbiters.
    cores: u32,
}

impl Interconnect {
    /// Build from a resolved configuration; `clock` sets the loosely-timed access delay.
    pub fn new(name: impl Into<String>, cfg: InterconnectConfig, clock: Clock) -> Interconnect {
        let tcdm = Rc::new(Tcdm::new(cfg.geometry));
        let target: TargetRef =
            Rc::new(RefCell::new(TcdmTarget::new(tcdm.clone(), clock.cycles(1))));
        let ctrl = Rc::new(Cell::new(cfg.ctrl_reset()));
        let ctrl_target: TargetRef = Rc::new(RefCell::new(HciConfigReg {
            value: ctrl.clone(),
        }));
        Interconnect {
            name: name.into(),
            cfg,
            tcdm,
            target,
            ctrl,
            ctrl_target,
            narrow: Vec::new(),
            wide: Vec::new(),
            core: None,
            periph: Vec::new(),
            xbar: None,
            clock,
            cores: 0,
        }
    }

    /// The kind's builder.
    pub fn build(
        ctx: &BuildCtx<'_>,
        name: &str,
        params: &serde_yaml::Value,
    ) -> Result<Interconnect, String> {
        let p: InterconnectParams =
            parse_params(params).map_err(|e| format!("interconnect '{name}': params: {e}"))?;
        let cfg = InterconnectConfig::resolve(ctx, &p)
            .map_err(|e| format!("interconnect '{name}': {e}"))?;
        let mut ic = Interconnect::new(name, cfg, ctx.clock);
        ic.cores = ctx.cores;
        Ok(ic)
    }

    pub fn config(&self) -> &InterconnectConfig {
        &self.cfg
    }
    /// The storage (zero-time access for tests and checkers).
    pub fn tcdm(&self) -> Rc<Tcdm> {
        self.tcdm.clone()
    }
    /// The shared value of the HCI control register.
    pub fn hci_ctrl(&self) -> Rc<Cell<u32>> {
        self.ctrl.clone()
    }

    /// Can one more port be taken, `have` of at most `max` `what` ports taken so far?
    fn may_take(&self, have: usize, max: usize, what: &str) -> Result<(), String> {
        if self.core.is_some() {
            return Err(format!(
                "interconnect '{}': ports must be taken before elaboration",
                self.name
            ));
        }
        if have >= max {
            return Err(format!(
                "interconnect '{}': at most {max} {what} ports",
                self.name
            ));
        }
        Ok(())
    }

    /// A new narrow initiator port (before elaboration).
    pub fn narrow_port(&mut self) -> Result<Rc<NarrowPort>, String> {
        self.may_take(self.narrow.len(), MAX_NARROW_PORTS, "narrow")?;
        let p = Rc::new(NarrowPort::new(format!("narrow{}", self.narrow.len())));
        self.narrow.push(p.clone());
        Ok(p)
    }

    /// A new port of a core to the peripheral crossbar (before elaboration; see
    /// [`periph`]): its index is the core's input of the crossbar's arbiters.
    pub fn periph_port(&mut self) -> Result<Rc<NarrowPort>, String> {
        self.may_take(self.periph.len(), 64 - periph::NB_MPERIPHS, "peripheral")?;
        let p = Rc::new(NarrowPort::new(format!("periph{}", self.periph.len())));
        self.periph.push(p.clone());
        Ok(p)
    }

    /// A new wide initiator port (before elaboration).
    pub fn wide_port(&mut self) -> Result<Rc<WidePort>, String> {
        self.may_take(self.wide.len(), MAX_WIDE_PORTS, "wide")?;
        let p = Rc::new(WidePort::new(format!("wide{}", self.wide.len())));
        self.wide.push(p.clone());
        Ok(p)
    }

    /// Register the per-cycle participant on `domain` (what `elaborate` does).
    pub fn start(&mut self, sim: &Sim, domain: vp_kernel::clocked::DomainId) -> Result<(), String> {
        if self.core.is_some() {
            return Err(format!("interconnect '{}': elaborated twice", self.name));
        }
        let core = Rc::new(RefCell::new(Hci::new(
            self.name.clone(),
            self.tcdm.clone(),
            self.narrow.clone(),
            self.wide.clone(),
            self.ctrl.clone(),
            HciSettings {
                variant: self.cfg.variant,
                prio: self.cfg.prio,
                wide_words: self.cfg.wide_words,
            },
        )));
        let wake = sim.add_clocked(
            domain,
            self.name.clone(),
            PHASE_INTERCONNECT,
            true,
            core.clone(),
        );
        for (i, p) in self.narrow.iter().enumerate() {
            p.set_target_wake(wake.clone());
            p.set_alone_grant(Rc::new(Alone {
                hci: Rc::downgrade(&core),
                index: i,
            }));
        }
        for (j, p) in self.wide.iter().enumerate() {
            p.set_target_wake(wake.clone());
            p.set_alone_grant(Rc::new(Alone {
                hci: Rc::downgrade(&core),
                index: j,
            }));
        }
        self.core = Some(core);
        Ok(())
    }

    /// Let the interconnect do the passes of later cycles at once when nothing else can
    /// act before them (on by default; the results are the same either way: off is for
    /// tests that compare the two). Takes effect after elaboration.
    pub fn set_passes_ahead(&self, on: bool) {
        if let Some(c) = &self.core {
            c.borrow_mut().ahead_on = on;
        }
    }

    /// Statistics as a typed value (after or during a run).
    pub fn stats_raw(&self) -> Option<Stats> {
        self.core.as_ref().map(|c| c.borrow().stats())
    }
}

impl Component for Interconnect {
    fn kind(&self) -> &'static str {
        "interconnect"
    }

    fn export(&mut self, port: &str) -> Result<PortRef, String> {
        match port {
            "narrow" => Ok(PortRef::new("narrow", self.narrow_port()?)),
            "wide" => Ok(PortRef::new("wide", self.wide_port()?)),
            "periph" => Ok(PortRef::new("narrow", self.periph_port()?)),
            "tcdm" => Ok(PortRef::target(self.target.clone())),
            "hci_config" => Ok(PortRef::target(self.ctrl_target.clone())),
            _ => Err(format!(
                "interconnect '{}' exports 'narrow', 'wide', 'periph', 'tcdm' and 'hci_config', not '{port}'",
                self.name
            )),
        }
    }

    fn mappings(&self) -> Vec<MapEntry> {
        vec![MapEntry {
            name: self.name.clone(),
            base: self.cfg.geometry.base as u64,
            size: ALIAS_WINDOW as u64,
            target: self.target.clone(),
        }]
    }

    fn elaborate(&mut self, cx: &mut ElabCtx<'_>) -> Result<(), String> {
        self.start(cx.sim, cx.domain)?;
        if !self.periph.is_empty() {
            let x = Rc::new(RefCell::new(periph::PeriphXbar::new(
                self.periph.clone(),
                cx.bus.clone(),
                self.clock,
                self.cores as usize,
            )));
            let wake = cx.sim.add_clocked(
                cx.domain,
                format!("{}.periph", self.name),
                PHASE_INTERCONNECT,
                true,
                x.clone(),
            );
            for p in &self.periph {
                p.set_target_wake(wake.clone());
            }
            x.borrow_mut().wake = Some(wake);
            self.xbar = Some(x);
        }
        Ok(())
    }

    fn stats(&self) -> Value {
        let g = self.cfg.geometry;
        let ctrl = self.ctrl.get();
        let mut v = json!({
            "tcdm": {
                "base": format!("{:#010x}", g.base),
                "size": g.size,
                "banks": g.banks,
            },
            "config": {
                "hci_variant": self.cfg.variant.name(),
                "max_stall": ctrl & ctrl_bits::MAX_STALL_MASK,
                "invert_prio": ctrl & ctrl_bits::INVERT_PRIO != 0,
                "prio": self.cfg.prio.map(|(n, d)| json!([n, d])),
                "wide_words": self.cfg.wide_words,
            },
        });
        if let (Some(x), Value::Object(m)) = (&self.xbar, &mut v) {
            let (ports, targets) = x.borrow().stats();
            let mut pm = serde_json::Map::new();
            // (named by their core when it told its index)
            for (p, s) in self.periph.iter().zip(ports) {
                let name = p
                    .initiator_id()
                    .map_or_else(|| p.name().to_string(), |i| format!("core{i}"));
                pm.insert(name, s.to_json());
            }
            let mut tm = serde_json::Map::new();
            for (t, &n) in targets.iter().enumerate() {
                if n > 0 {
                    tm.insert(periph::target_name(t), json!(n));
                }
            }
            m.insert(
                "periph".into(),
                json!({ "ports": Value::Object(pm), "target_accesses": Value::Object(tm) }),
            );
        }
        if let (Some(core), Value::Object(m)) = (&self.core, &mut v) {
            let names_n: Vec<String> = self.narrow.iter().map(|p| p.name().to_string()).collect();
            let names_w: Vec<String> = self.wide.iter().map(|p| p.name().to_string()).collect();
            if let Value::Object(s) = core.borrow().stats().to_json(&names_n, &names_w) {
                m.extend(s);
            }
        }
        v
    }
}

fn build_kind(
    ctx: &BuildCtx<'_>,
    name: &str,
    params: &serde_yaml::Value,
) -> Result<Box<dyn Component>, String> {
    Ok(Box::new(Interconnect::build(ctx, name, params)?))
}

/// The `interconnect` kind.
pub fn kind() -> ComponentKind {
    ComponentKind {
        name: "interconnect",
        summary: "TCDM banks + logarithmic interconnect + HCI wide/narrow arbiter (per-cycle), \
                  and the cores' peripheral crossbar; exports narrow, wide, periph, tcdm, hci_config",
        params: "banks: number of 32-bit banks, power of two (platform tcdm_banks, 16)\n\
                 size: bytes, power of two, multiple of banks*4 (platform tcdm_size_kib, 131072)\n\
                 base: TCDM base address (0x10000000)\n\
                 wide_words: wide port width in words, 1..=16 and <= banks (9)\n\
                 hci_variant: starvation guard, pinned | v2_4 (pinned)\n\
                 max_stall: reset low_prio_max_stall, 0..=255, 0 = off (0)\n\
                 invert_prio: reset invert_prio, wide side high (false)\n\
                 prio_num: v2_4 priority_cnt_numerator (derived: max_stall)\n\
                 prio_den: v2_4 priority_cnt_denominator (derived: max_stall + 1)",
        build: build_kind,
    }
}

/// The component kinds of this crate, for the platform's registry.
pub fn kinds() -> Vec<ComponentKind> {
    vec![kind()]
}

/// A port's alone grant ([`vp_kernel::port::Port::request_alone`]): the HCI's pass for
/// that port's request alone. Weak: the HCI holds the ports.
struct Alone {
    hci: std::rc::Weak<RefCell<Hci>>,
    index: usize,
}

impl Alone {
    /// The HCI, unless it is gone or in the middle of its own pass (a grant hook calling
    /// back): then the request takes the ordinary way.
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut Hci) -> Option<R>) -> Option<R> {
        let hci = self.hci.upgrade()?;
        let mut h = hci.try_borrow_mut().ok()?;
        f(&mut h)
    }
}

impl AloneGrant<NarrowReq, u32> for Alone {
    fn grant_alone(&self, cycle: u64, r: &NarrowReq) -> Option<Resp<u32>> {
        let rdata = self.with(|h| h.narrow_alone(self.index, cycle, r))?;
        Some(Resp {
            rdata,
            error: false,
            granted: cycle,
            waited: 0,
        })
    }
}

impl AloneGrant<WideReq, [u32; WIDE_MAX_WORDS]> for Alone {
    fn grant_alone(&self, cycle: u64, r: &WideReq) -> Option<Resp<[u32; WIDE_MAX_WORDS]>> {
        let rdata = self.with(|h| h.wide_alone(self.index, cycle, r))?;
        Some(Resp {
            rdata,
            error: false,
            granted: cycle,
            waited: 0,
        })
    }
    fn grant_alone_discard(&self, cycle: u64, r: &WideReq) -> bool {
        self.with(|h| h.wide_alone_discard(self.index, cycle, r).then_some(()))
            .is_some()
    }
    fn grant_alone_discard_run(&self, proto: &WideReq, run: &[(u64, u32)]) -> usize {
        self.with(|h| Some(h.wide_alone_discard_run(self.index, proto, run)))
            .unwrap_or(0)
    }
}
