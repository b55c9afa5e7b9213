//! # Cluster timer (timer_unit)
//!
//! A loosely-timed model of the PULP `timer_unit` (github.com/pulp-platform/timer_unit,
//! `rtl/timer_unit.sv`, `timer_unit_counter.sv`, `timer_unit_counter_presc.sv`; the cluster
//! instance of `pulp_cluster`, `cluster_timer_wrap.sv`), register map of pulp-runtime
//! `include/archi/timer/timer_v2.h`, mapped at `base` (0x10200400, 0x400 bytes):
//!
//! | offset | register |
//! | --- | --- |
//! | 0x00 / 0x04 | CFG_LO / CFG_HI: ENABLE bit 0, RESET bit 1 (self-clearing), IRQ enable bit 2, IEM bit 3, CMP_CLR bit 4 (reset the counter at a compare match), ONE_SHOT bit 5, PRESCALER enable bit 6, REF_CLK bit 7 (count a 32 kHz reference clock), PRESCALER value bits 15:8 (tick = clock / (1 + value)), CASCADE bit 31 of CFG_LO (one 64-bit timer) |
//! | 0x08 / 0x0C | CNT_LO / CNT_HI (read / write) |
//! | 0x10 / 0x14 | CMP_LO / CMP_HI |
//! | 0x18 / 0x1C | START_LO / START_HI (write: set ENABLE) |
//! | 0x20 / 0x24 | RESET_LO / RESET_HI (write: counter to 0) |
//!
//! Counters are **not** ticked: each keeps its value at an anchor cycle and the count at any
//! later cycle is computed from the cluster cycles elapsed (with the prescaler, the reference
//! clock, compare-and-clear and one-shot applied in closed form). A process is scheduled only
//! while a counter is enabled with its IRQ bit set and an `events` port is bound: at each
//! compare match it raises event 10 (low timer, or the 64-bit timer) or 11 (high timer) for
//! the cores of `event_cores` (all cores, as `cluster_peripherals.sv` wires `timer_events`).
//!
//! Approximations: a register write re-anchors the counter it touches, which restarts the
//! prescaler phase; the input-event enable (IEM) has no input here; with ONE_SHOT the counter
//! is read as its final value from the match cycle on.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;
use serde_json::json;
use tracing::{event, warn, Level};
use vp_kernel::clocked::DomainId;
use vp_kernel::component::{check_window, parse_params, MapEntry, PortInfo};
use vp_kernel::port::{EventSink, EventsRef};
use vp_kernel::tlm::{Command, Payload, Response, Target};
use vp_kernel::{BuildCtx, Clock, Component, ComponentKind, PortRef, Sim, SimTime};

/// Track of the timeline events and warnings of this block.
pub const TRACK: &str = "cluster.timer";
/// Size of the mapped window.
pub const SIZE: u64 = 0x400;
/// Event line of the low (or 64-bit) timer.
pub const EVT_TIMER_LO: u32 = 10;
/// Event line of the high timer.
pub const EVT_TIMER_HI: u32 = 11;

const EN: u32 = 1 << 0;
const RESET: u32 = 1 << 1;
const IRQ: u32 = 1 << 2;
const CMP_CLR: u32 = 1 << 4;
const ONE_SHOT: u32 = 1 << 5;
const PEN: u32 = 1 << 6;
const REF_CLK: u32 = 1 << 7;
const CASC: u32 = 1 << 31;

/// Params of the `timer` kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "d_base")]
    base: u32,
    /// Cores that receive the timer events (default: all).
    #[serde(default)]
    event_cores: Option<u32>,
    /// Frequency of the reference clock in Hz (32768).
    #[serde(default = "d_ref")]
    ref_clk_hz: u64,
}
fn d_base() -> u32 {
    0x1020_0400
}
fn d_ref() -> u64 {
    32768
}

#[derive(Default, Clone, Copy)]
struct Half {
    cfg: u32,
    cmp: u32,
    /// Counter value at `anchor` (64 bits wide for the low half in cascade mode).
    v: u64,
    anchor: u64,
    matches: u64,
    raised: u64,
}

/// The counter seen as one value of `width` bits.
#[derive(Clone, Copy)]
struct Spec {
    cfg: u32,
    width: u32,
    cmp: u64,
}

struct TimerState {
    name: String,
    sim: Sim,
    domain: DomainId,
    clock: Clock,
    ref_hz: u64,
    h: [Half; 2],
    gen: [u64; 2],
    events: Option<Rc<dyn EventSink>>,
    event_cores: u32,
    unknown: u64,
}

fn modulus(width: u32) -> u128 {
    1u128 << width
}

impl TimerState {
    fn cascade(&self) -> bool {
        self.h[0].cfg & CASC != 0
    }

    fn spec(&self, i: usize) -> Spec {
        if self.cascade() {
            Spec {
                cfg: self.h[0].cfg,
                width: 64,
                cmp: (self.h[1].cmp as u64) << 32 | self.h[0].cmp as u64,
            }
        } else {
            Spec {
                cfg: self.h[i].cfg,
                width: 32,
                cmp: self.h[i].cmp as u64,
            }
        }
    }

    fn now(&self) -> u64 {
        self.sim.cycle_now(self.domain)
    }

    fn divisor(cfg: u32) -> u128 {
        if cfg & PEN != 0 {
            ((cfg >> 8) & 0xFF) as u128 + 1
        } else {
            1
        }
    }

    fn ref_edges(&self, cycle: u64) -> u128 {
        let t = self.clock.time_of(cycle).ps() as u128;
        t * self.ref_hz as u128 / 1_000_000_000_000
    }

    /// Ticks of a counter configured with `cfg` between cycles `a` and `b >= a`.
    fn ticks(&self, cfg: u32, a: u64, b: u64) -> u128 {
        let d = Self::divisor(cfg);
        if cfg & REF_CLK != 0 {
            self.ref_edges(b).saturating_sub(self.ref_edges(a)) / d
        } else {
            (b.saturating_sub(a)) as u128 / d
        }
    }

    /// The cycle of the `k`-th tick after cycle `a` (None beyond the simulated time range).
    fn tick_cycle(&self, cfg: u32, a: u64, k: u128) -> Option<u64> {
        let d = Self::divisor(cfg);
        if cfg & REF_CLK != 0 {
            if self.ref_hz == 0 {
                return None;
            }
            let r = self.ref_edges(a) + k * d;
            let t = (r * 1_000_000_000_000).div_ceil(self.ref_hz as u128);
            let c = t.div_ceil(self.clock.period_ps() as u128);
            u64::try_from(c).ok()
        } else {
            u64::try_from(a as u128 + k * d).ok()
        }
    }

    /// (first match tick from the anchor, period of later matches); ticks count from 1.
    fn match_ticks(s: Spec, v: u64) -> (u128, u128) {
        let m = modulus(s.width);
        let dist = (s.cmp as u128 + m - v as u128) % m;
        let period = if s.cfg & CMP_CLR != 0 {
            s.cmp as u128 + 1
        } else {
            m
        };
        (if dist == 0 { period } else { dist }, period)
    }

    fn final_value(s: Spec) -> u64 {
        if s.cfg & CMP_CLR != 0 {
            0
        } else {
            ((s.cmp as u128 + 1) % modulus(s.width)) as u64
        }
    }

    /// The value of counter `i` at cycle `now`, and whether a one-shot match has passed.
    fn value_at(&self, i: usize, now: u64) -> (u64, bool) {
        let s = self.spec(i);
        let h = &self.h[i];
        if s.cfg & EN == 0 {
            return (h.v, false);
        }
        let k = self.ticks(s.cfg, h.anchor, now);
        let m = modulus(s.width);
        let (mut k1, period) = Self::match_ticks(s, h.v);
        if s.cfg & CMP_CLR != 0 && h.v == s.cmp && s.cfg & ONE_SHOT == 0 {
            // at the compare value (just matched): the next tick clears the counter
            k1 = 0;
        }
        if k < k1 {
            return (((h.v as u128 + k) % m) as u64, false);
        }
        if s.cfg & ONE_SHOT != 0 {
            return (Self::final_value(s), true);
        }
        if s.cfg & CMP_CLR != 0 {
            let j = (k - k1) % period;
            return (if j == 0 { s.cmp } else { (j - 1) as u64 }, false);
        }
        (((h.v as u128 + k) % m) as u64, false)
    }

    /// Bring counter `i` to `now`: value at now, anchored at now (one-shot expiry applied).
    fn materialize(&mut self, i: usize) {
        let now = self.now();
        let (v, expired) = self.value_at(i, now);
        let h = &mut self.h[i];
        h.v = v;
        h.anchor = now;
        if expired {
            h.cfg &= !EN;
        }
    }

    fn cnt_read(&self, i: usize) -> u32 {
        let now = self.now();
        if self.cascade() {
            let (v, _) = self.value_at(0, now);
            (v >> (32 * i)) as u32
        } else {
            self.value_at(i, now).0 as u32
        }
    }

    fn cfg_read(&self, i: usize) -> u32 {
        let c = if self.cascade() { 0 } else { i };
        let (_, expired) = self.value_at(c, self.now());
        if expired && (c == i) {
            self.h[i].cfg & !EN
        } else {
            self.h[i].cfg
        }
    }

    /// Next compare-match cycle of counter `i` that raises an event, if any.
    fn next_event(&self, i: usize) -> Option<u64> {
        if self.events.is_none() || (self.cascade() && i == 1) {
            return None;
        }
        let s = self.spec(i);
        if s.cfg & EN == 0 || s.cfg & IRQ == 0 {
            return None;
        }
        let h = &self.h[i];
        let (k1, _) = Self::match_ticks(s, h.v);
        self.tick_cycle(s.cfg, h.anchor, k1)
    }

    fn fire(&mut self, i: usize, cycle: u64) {
        let s = self.spec(i);
        let h = &mut self.h[i];
        h.v = s.cmp;
        h.anchor = cycle;
        h.matches += 1;
        if s.cfg & ONE_SHOT != 0 {
            h.v = Self::final_value(s);
            h.cfg &= !EN;
        }
        if s.cfg & IRQ != 0 {
            h.raised += 1;
            let line = EVT_TIMER_LO + i as u32;
            event!(target: "vp", Level::TRACE, track = TRACK, ev = "instant", name = "match",
                timer = i as u64, line = line as u64);
            if let Some(e) = &self.events {
                e.raise(self.event_cores, line, cycle);
            }
        }
    }

    fn warn_unknown(&mut self, p: &Payload) {
        self.unknown += 1;
        warn!(target: "vp", track = TRACK,
            "{}: {:?} of unknown register at {:#010x} (offset {:#x}): reads return 0, writes are ignored",
            self.name, p.command, p.global_address, p.address);
    }
}

struct Regs(Rc<RefCell<TimerState>>);

fn rearm(st: &Rc<RefCell<TimerState>>) {
    for i in 0..2 {
        let (gen, first, sim, clock) = {
            let mut s = st.borrow_mut();
            s.gen[i] += 1;
            (s.gen[i], s.next_event(i), s.sim.clone(), s.clock)
        };
        let Some(mut c) = first else { continue };
        let st2 = st.clone();
        let sim2 = sim.clone();
        sim.spawn_daemon(format!("timer{i}"), async move {
            loop {
                sim2.wait_until(clock.time_of(c)).await;
                let mut s = st2.borrow_mut();
                if s.gen[i] != gen {
                    return;
                }
                s.fire(i, c);
                match s.next_event(i) {
                    Some(n) => c = n,
                    None => return,
                }
            }
        });
    }
}

fn access(st: &Rc<RefCell<TimerState>>, p: &mut Payload, debug: bool) {
    let off = p.address as u32 & !3;
    let write = p.command == Command::Write;
    let d = p.data_u32();
    p.response = Response::Ok;
    if !write {
        let mut s = st.borrow_mut();
        let v = match off {
            0x00 | 0x04 => s.cfg_read((off / 4) as usize),
            0x08 | 0x0C => s.cnt_read(((off - 8) / 4) as usize),
            0x10 | 0x14 => s.h[((off - 0x10) / 4) as usize].cmp,
            0x18..=0x24 => 0,
            _ => {
                if !debug {
                    s.warn_unknown(p);
                }
                0
            }
        };
        p.set_data_u32(v);
        return;
    }
    if debug {
        return;
    }
    {
        let mut s = st.borrow_mut();
        let casc = s.cascade();
        match off {
            0x00 | 0x04 => {
                let i = (off / 4) as usize;
                if casc {
                    s.materialize(0);
                } else {
                    s.materialize(0);
                    s.materialize(1);
                }
                let to_casc = i == 0 && d & CASC != 0;
                if i == 0 && to_casc != casc {
                    if to_casc {
                        let v = s.h[1].v << 32 | (s.h[0].v & 0xFFFF_FFFF);
                        s.h[0].v = v;
                    } else {
                        let v = s.h[0].v;
                        s.h[0].v = v & 0xFFFF_FFFF;
                        s.h[1].v = v >> 32;
                        s.h[1].anchor = s.h[0].anchor;
                    }
                }
                if d & RESET != 0 {
                    if to_casc || (casc && i == 1) {
                        // in cascade mode a reset of either half clears its 32 bits
                        let sh = 32 * i as u32;
                        s.h[0].v &= !(0xFFFF_FFFFu64 << sh);
                    } else {
                        s.h[i].v = 0;
                    }
                }
                s.h[i].cfg = d & !RESET;
            }
            0x08 | 0x0C => {
                let i = ((off - 8) / 4) as usize;
                if casc {
                    s.materialize(0);
                    let sh = 32 * i as u32;
                    s.h[0].v = (s.h[0].v & !(0xFFFF_FFFFu64 << sh)) | (d as u64) << sh;
                } else {
                    s.materialize(i);
                    s.h[i].v = d as u64;
                }
            }
            0x10 | 0x14 => {
                let i = ((off - 0x10) / 4) as usize;
                s.materialize(if casc { 0 } else { i });
                s.h[i].cmp = d;
            }
            0x18 | 0x1C => {
                let i = ((off - 0x18) / 4) as usize;
                s.materialize(if casc { 0 } else { i });
                s.h[i].cfg |= EN;
            }
            0x20 | 0x24 => {
                let i = ((off - 0x20) / 4) as usize;
                if casc {
                    s.materialize(0);
                    let sh = 32 * i as u32;
                    s.h[0].v &= !(0xFFFF_FFFFu64 << sh);
                } else {
                    s.materialize(i);
                    s.h[i].v = 0;
                }
            }
            _ => {
                s.warn_unknown(p);
                return;
            }
        }
    }
    rearm(st);
}

impl Target for Regs {
    fn b_transport(&mut self, p: &mut Payload, _delay: &mut SimTime) {
        access(&self.0, p, false);
    }
    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        access(&self.0, p, true);
        p.data.len()
    }
}

/// The timer component.
pub struct Timer {
    base: u32,
    state: Rc<RefCell<TimerState>>,
    regs: Rc<RefCell<Regs>>,
}

impl Component for Timer {
    fn kind(&self) -> &'static str {
        "timer"
    }
    fn ports(&self) -> Vec<PortInfo> {
        vec![PortInfo {
            name: "events",
            kind: "events",
            required: false,
            doc: "the event unit's 'events' export: compare matches raise events 10 / 11",
        }]
    }
    fn bind(&mut self, port: &str, peer: PortRef) -> Result<(), String> {
        match port {
            "events" => {
                let e = peer.get::<EventsRef>("events")?;
                self.state.borrow_mut().events = Some(e.0.clone());
                Ok(())
            }
            _ => Err(format!("timer has port 'events', not '{port}'")),
        }
    }
    fn export(&mut self, port: &str) -> Result<PortRef, String> {
        match port {
            "regs" => Ok(PortRef::target(self.regs.clone())),
            _ => Err(format!("timer exports 'regs', not '{port}'")),
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
            "cascade": s.cascade(),
            "cfg": [s.h[0].cfg, s.h[1].cfg],
            "count": [s.cnt_read(0), s.cnt_read(1)],
            "matches": [s.h[0].matches, s.h[1].matches],
            "events_raised": [s.h[0].raised, s.h[1].raised],
            "events_bound": s.events.is_some(),
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
    let all = if ctx.cores >= 32 {
        u32::MAX
    } else {
        (1u32 << ctx.cores) - 1
    };
    let event_cores = p.event_cores.unwrap_or(all);
    if event_cores & !all != 0 {
        return Err(format!(
            "event_cores: {event_cores:#x} names cores beyond the {} of the platform",
            ctx.cores
        ));
    }
    if p.ref_clk_hz == 0 || p.ref_clk_hz > 1_000_000_000_000 {
        return Err(format!(
            "ref_clk_hz: expected 1 Hz to 1 THz, got {}",
            p.ref_clk_hz
        ));
    }
    let state = Rc::new(RefCell::new(TimerState {
        name: name.to_string(),
        sim: ctx.sim.clone(),
        domain: ctx.domain,
        clock: ctx.clock,
        ref_hz: p.ref_clk_hz,
        h: [Half::default(); 2],
        gen: [0; 2],
        events: None,
        event_cores,
        unknown: 0,
    }));
    Ok(Box::new(Timer {
        base: p.base,
        regs: Rc::new(RefCell::new(Regs(state.clone()))),
        state,
    }))
}

/// The kinds this crate provides.
pub fn kinds() -> Vec<ComponentKind> {
    vec![ComponentKind {
        name: "timer",
        summary: "cluster timer (timer_unit): two 32-bit or one 64-bit counter, computed lazily; compare events 10/11 via port 'events'",
        params: "base: start address (0x10200400, 0x400 bytes)\nevent_cores: cores receiving timer events (all)\nref_clk_hz: reference clock for CFG.REF_CLK (32768)",
        build,
    }]
}
