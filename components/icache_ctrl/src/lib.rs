//! # Instruction cache and its control unit
//!
//! The cluster's hierarchical instruction cache (pulp-platform/hier-icache v1.3.0
//! `icache_hier_top`, instantiated by pulp_cluster caaa973 `rtl/pulp_cluster.sv`) and the
//! register window of its control unit (`hier_icache_ctrl_unit.sv` of the same repository,
//! wrapped by pulp_cluster's `cluster_peripherals.sv`; pulp-runtime
//! `ARCHI_ICACHE_CTRL_OFFSET`), mapped at `base` (0x10201400, 0x400 bytes).
//!
//! ## Timing model (`model`)
//! * `hit` (the default): every fetch hits, as the cores' timing tables assume; the block
//!   exports no fetch model, so the cores pay nothing for it. The registers still behave.
//! * `hier`: the two-level cache of [`model`] (private 512 B per core, shared 4 KiB in 2
//!   banks, 4 ways, 16-byte lines, LFSR replacement). Each core asks it when a fetch enters a
//!   16-byte line it was not fetching from (`ifetch` export, [`vp_kernel::port::FetchTiming`]),
//!   and stalls by the answer:
//!   - private hit: 0;
//!   - private miss, shared hit: [`SHARED_HIT_STALL`] = 2 (pri_icache_controller.sv: the
//!     miss is seen in TAG_LOOKUP and the refill request goes through the combinational
//!     icache_intc to the bank, whose stage-1 hit answers the next cycle (one cycle late);
//!     WAIT_REFILL_DONE returns to IDLE_ENABLED, not TAG_LOOKUP, so the next fetch is granted
//!     one cycle later than in a hit stream);
//!   - shared miss: [`REFILL_STALL`] = 6 + `axi_latency_cycles` (share_icache_controller.sv:
//!     stage-1 miss, REQUEST_A_REFILL issues the AR, two 64-bit beats for the 128-bit line,
//!     AXI4_REFILL_Resp_Deserializer latches them, SERVE_REFILL answers; plus the re-grant
//!     cycle above);
//!   - caches disabled: every 32-bit fetch goes to L2 on its own (pri BYPASS_REFILL ->
//!     share DISABLED_ICACHE, one AXI burst per fetch, no pipelining): [`BYPASS_STALL`] = 3 +
//!     `axi_latency_cycles` per fetch word, and the core asks again at every word.
//!
//!   `axi_latency_cycles` is the read latency of the path beyond the cache's AXI port.
//!   The default, 8, is what pulp_cluster's testbench gives, estimated from its parts:
//!   `cluster_bus_wrap.sv`'s crossbar is NO_LATENCY; the request leaves through the
//!   cluster's `axi_cdc_src` and the testbench's `axi_cdc_dst_intf` (`tb/pulp_cluster_tb.sv`,
//!   same clock on both sides), about 3 cycles for the AR (a gray-pointer FIFO write plus 2
//!   synchroniser stages); `axi_sim_mem` answers the cycle after the AR handshake (1); the R
//!   beats come back through the cluster's side with `AxiCdcSyncStages` = 3, about 4 cycles.
//!   1 + 3 + 4 = 8 (from the synchroniser depths, not from a simulation). Set 1 for an ideal
//!   memory next to the cluster, more for a SoC interconnect.
//!
//! The reset state is "enabled": the RTL resets to bypass, but pulp-runtime enables the
//! cache (`hal_icache_cluster_enable`, kernel/cluster.c) before it fetch-enables the cluster
//! cores, and the caches start empty. `enabled_at_reset: false` gives the RTL's reset.
//!
//! Simplifications: the private and shared levels are consulted in the order the cores run
//! (each core runs ahead up to its quantum), not in global cycle order, and refills of
//! different cores do not wait for each other (no AXI or bank contention, no
//! WAIT_CRITICAL_REFILL); a flush does not drop the line the core is already fetching from
//! (its prefetch buffer); the L1-to-L1.5 prefetcher (ENABLE_L1_L15_PREFETCH, off at reset) is
//! not modelled: the register is kept and read back. Deterministic: same run, same answers.
//!
//! ## Registers (hier_icache_ctrl_unit.sv)
//! Writes: ENABLE 0x00 (bit 0: enable all caches, which invalidates them as the RTL's
//! enable sequence does; 0: bypass), FLUSH 0x04 (bit 0: invalidate all), FLUSH_L1_ONLY 0x08,
//! SEL_FLUSH 0x0C (address: invalidate the set it indexes, all ways, in every cache),
//! CLEAR_CNTS 0x10, ENABLE_CNTS 0x14 (bit 0: counters count; off at reset),
//! ENABLE_L1_L15_PREFETCH 0x1C. Reads (word index): 0 enable mask (one bit per core and per
//! bank), 1 flush (0: flushes complete at once), 3 SEL_FLUSH address, 5 counter-enable mask,
//! 7 prefetch mask, 8..11 0xF1CAB01A, 12..15 all private caches' hit, transactions, miss,
//! congestion (0), 16..18 all shared banks' hit, transactions, miss, 20 + 4c.. core c's
//! four, 52 + 3b.. bank b's three (0xBADACCE5 past the last core or bank, 0xDEADCA5E
//! elsewhere). The counters count line lookups (the RTL counts every 32-bit fetch, which a
//! per-line model does not see) and nothing while bypassed.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;
use serde_json::json;
use tracing::debug;
use vp_kernel::component::{check_window, parse_params, MapEntry};
use vp_kernel::port::{FetchGrant, FetchRef, FetchTiming};
use vp_kernel::tlm::{Command, Payload, Response, Target};
use vp_kernel::{BuildCtx, Component, ComponentKind, PortRef, SimTime};

pub mod model;

use model::{Counts, Geometry, Hierarchy, Level, LINE_BYTES};

/// Track of this block's log records.
pub const TRACK: &str = "cluster.icache_ctrl";
/// Size of the mapped window.
pub const SIZE: u64 = 0x400;
/// Stall of a private miss that hits in the shared cache (see the crate doc).
pub const SHARED_HIT_STALL: u32 = 2;
/// Stall of a shared miss, before the AXI latency (see the crate doc).
pub const REFILL_STALL: u32 = 6;
/// Stall of a bypassed 32-bit fetch, before the AXI latency (see the crate doc).
pub const BYPASS_STALL: u32 = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "d_base")]
    base: u32,
    #[serde(default = "d_model")]
    model: String,
    cores: Option<u32>,
    #[serde(default = "d_private_bytes")]
    private_bytes: u32,
    #[serde(default = "d_ways")]
    private_ways: u32,
    #[serde(default = "d_shared_bytes")]
    shared_bytes: u32,
    #[serde(default = "d_banks")]
    shared_banks: u32,
    #[serde(default = "d_ways")]
    shared_ways: u32,
    #[serde(default = "d_axi")]
    axi_latency_cycles: u32,
    #[serde(default = "d_true")]
    enabled_at_reset: bool,
}
fn d_base() -> u32 {
    0x1020_1400
}
fn d_model() -> String {
    "hit".into()
}
fn d_private_bytes() -> u32 {
    512
}
fn d_shared_bytes() -> u32 {
    4096
}
fn d_banks() -> u32 {
    2
}
fn d_ways() -> u32 {
    4
}
fn d_axi() -> u32 {
    8
}
fn d_true() -> bool {
    true
}

fn reg_name(off: u32) -> &'static str {
    match off {
        0x00 => "ENABLE",
        0x04 => "FLUSH",
        0x08 => "FLUSH_L1_ONLY",
        0x0C => "SEL_FLUSH",
        0x10 => "CLEAR_CNTS",
        0x14 => "ENABLE_CNTS",
        0x1C => "ENABLE_L1_L15_PREFETCH",
        0x20..=0x3FF => "counters",
        _ => "unknown",
    }
}

/// The cache state, its registers and counters.
struct Icache {
    name: String,
    /// `None`: the `hit` model.
    hier: Option<Hierarchy>,
    cores: u32,
    banks: u32,
    axi_latency: u32,
    enabled: bool,
    sel_flush: u32,
    cnt_enabled: bool,
    prefetch: u32,
    /// The counter registers (count only while `cnt_enabled`).
    reg_private: Vec<Counts>,
    reg_shared: Vec<Counts>,
    /// Stall cycles handed out, fetch words bypassed, and lookups by level (always counted).
    stall_cycles: u64,
    bypassed: u64,
    by_level: [u64; 3],
    reads: u64,
    writes: u64,
    flushes: u64,
}

impl Icache {
    fn fetch(&mut self, core: u32, addr: u32) -> FetchGrant {
        let Some(h) = self.hier.as_mut() else {
            return FetchGrant {
                stall: 0,
                block_log2: 31,
            };
        };
        if core >= self.cores {
            // Not one of the cache's cores: fetches hit.
            return FetchGrant {
                stall: 0,
                block_log2: LINE_BYTES.trailing_zeros() as u8,
            };
        }
        if !self.enabled {
            self.bypassed += 1;
            let stall = BYPASS_STALL + self.axi_latency;
            self.stall_cycles += stall as u64;
            return FetchGrant {
                stall,
                block_log2: 2,
            };
        }
        let level = h.fetch(core as usize, addr);
        let stall = match level {
            Level::Private => 0,
            Level::Shared => SHARED_HIT_STALL,
            Level::L2 | Level::Bypass => REFILL_STALL + self.axi_latency,
        };
        self.by_level[match level {
            Level::Private => 0,
            Level::Shared => 1,
            _ => 2,
        }] += 1;
        self.stall_cycles += stall as u64;
        if self.cnt_enabled {
            let p = &mut self.reg_private[core as usize];
            p.trans = p.trans.wrapping_add(1);
            if level == Level::Private {
                p.hit = p.hit.wrapping_add(1);
            } else {
                p.miss = p.miss.wrapping_add(1);
                let b = &mut self.reg_shared[((addr / LINE_BYTES) & (self.banks - 1)) as usize];
                b.trans = b.trans.wrapping_add(1);
                if level == Level::Shared {
                    b.hit = b.hit.wrapping_add(1);
                } else {
                    b.miss = b.miss.wrapping_add(1);
                }
            }
        }
        FetchGrant {
            stall,
            block_log2: LINE_BYTES.trailing_zeros() as u8,
        }
    }

    fn all_mask(&self) -> u32 {
        let n = self.cores + self.banks;
        if n >= 32 {
            u32::MAX
        } else {
            (1 << n) - 1
        }
    }

    fn write(&mut self, off: u32, v: u32) {
        let on = v & 1 != 0;
        match off {
            0x00 => {
                // Enabling goes through the invalidation of both levels (pri FLUSH_ICACHE,
                // share WAIT_EMPTYING_DIS_ICACHE -> INVALIDATE).
                if on && !self.enabled {
                    if let Some(h) = self.hier.as_mut() {
                        h.flush(true);
                    }
                }
                self.enabled = on;
            }
            0x04 | 0x08 if on => {
                self.flushes += 1;
                if let Some(h) = self.hier.as_mut() {
                    h.flush(off == 0x04);
                }
            }
            0x0C => {
                self.sel_flush = v;
                self.flushes += 1;
                if let Some(h) = self.hier.as_mut() {
                    h.flush_set(v);
                }
            }
            0x10 if on => {
                self.reg_private.fill(Counts::default());
                self.reg_shared.fill(Counts::default());
            }
            0x14 => self.cnt_enabled = on,
            0x1C => self.prefetch = v & ((1u64 << self.cores.min(32)) - 1) as u32,
            _ => {}
        }
    }

    fn read(&self, off: u32) -> u32 {
        const UNUSED: u32 = 0xF1CA_B01A;
        const NO_UNIT: u32 = 0xBADA_CCE5;
        const NONE: u32 = 0xDEAD_CA5E;
        let sum =
            |v: &[Counts], f: fn(&Counts) -> u32| v.iter().fold(0u32, |a, c| a.wrapping_add(f(c)));
        let w = (off >> 2) & 0x7F;
        match w {
            0 => {
                if self.enabled {
                    self.all_mask()
                } else {
                    0
                }
            }
            1 => 0,
            3 => self.sel_flush,
            5 => {
                if self.cnt_enabled {
                    self.all_mask()
                } else {
                    0
                }
            }
            7 => self.prefetch,
            8..=11 => UNUSED,
            12 => sum(&self.reg_private, |c| c.hit),
            13 => sum(&self.reg_private, |c| c.trans),
            14 => sum(&self.reg_private, |c| c.miss),
            15 => 0,
            16 => sum(&self.reg_shared, |c| c.hit),
            17 => sum(&self.reg_shared, |c| c.trans),
            18 => sum(&self.reg_shared, |c| c.miss),
            20..=51 => {
                let (c, k) = ((w - 20) / 4, (w - 20) % 4);
                match self.reg_private.get(c as usize) {
                    Some(n) => [n.hit, n.trans, n.miss, 0][k as usize],
                    None => NO_UNIT,
                }
            }
            52..=75 => {
                let (b, k) = ((w - 52) / 3, (w - 52) % 3);
                match self.reg_shared.get(b as usize) {
                    Some(n) => [n.hit, n.trans, n.miss][k as usize],
                    None => NO_UNIT,
                }
            }
            _ => NONE,
        }
    }
}

/// The register window (target of the cluster bus).
struct Regs(Rc<RefCell<Icache>>);

impl Target for Regs {
    fn b_transport(&mut self, p: &mut Payload, _delay: &mut SimTime) {
        let off = (p.address as u32 & !3) & (SIZE as u32 - 1);
        let mut c = self.0.borrow_mut();
        match p.command {
            Command::Read => {
                c.reads += 1;
                let v = c.read(off).to_le_bytes();
                for (k, b) in p.data.iter_mut().enumerate() {
                    *b = v[(p.address as usize + k) & 3];
                }
            }
            Command::Write => {
                c.writes += 1;
                let v = p.data_u32();
                c.write(off, v);
                debug!(target: "vp", track = TRACK, "{}: {} ({off:#x}) <- {v:#x}{}",
                    c.name, reg_name(off), p.initiator.map_or(String::new(), |i| format!(" by core {i}")));
            }
        }
        p.response = Response::Ok;
    }
    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        if p.command == Command::Read {
            let off = (p.address as u32 & !3) & (SIZE as u32 - 1);
            let v = self.0.borrow().read(off).to_le_bytes();
            for (k, b) in p.data.iter_mut().enumerate() {
                *b = v[(p.address as usize + k) & 3];
            }
        }
        p.response = Response::Ok;
        p.data.len()
    }
}

/// The fetch-timing export.
struct Fetch(Rc<RefCell<Icache>>);

impl FetchTiming for Fetch {
    fn fetch(&self, core: u32, addr: u32, _cycle: u64) -> FetchGrant {
        self.0.borrow_mut().fetch(core, addr)
    }
}

/// The instruction cache block.
pub struct IcacheCtrl {
    base: u32,
    state: Rc<RefCell<Icache>>,
}

impl Component for IcacheCtrl {
    fn kind(&self) -> &'static str {
        "icache_ctrl"
    }
    fn export(&mut self, port: &str) -> Result<PortRef, String> {
        match port {
            "regs" => Ok(PortRef::target(Rc::new(RefCell::new(Regs(
                self.state.clone(),
            ))))),
            "ifetch" => {
                let f: Option<Rc<dyn FetchTiming>> = if self.state.borrow().hier.is_some() {
                    Some(Rc::new(Fetch(self.state.clone())))
                } else {
                    None
                };
                Ok(PortRef::new("ifetch", Rc::new(FetchRef(f))))
            }
            _ => Err(format!(
                "icache_ctrl exports 'regs' and 'ifetch', not '{port}'"
            )),
        }
    }
    fn mappings(&self) -> Vec<MapEntry> {
        vec![MapEntry {
            name: "regs".into(),
            base: self.base as u64,
            size: SIZE,
            target: Rc::new(RefCell::new(Regs(self.state.clone()))),
        }]
    }
    fn stats(&self) -> serde_json::Value {
        let c = self.state.borrow();
        let mut v = json!({
            "model": if c.hier.is_some() { "hier" } else { "hit" },
            "reads": c.reads, "writes": c.writes, "flushes": c.flushes, "enabled": c.enabled,
        });
        if c.hier.is_some() {
            v["private_hits"] = c.by_level[0].into();
            v["shared_hits"] = c.by_level[1].into();
            v["refills"] = c.by_level[2].into();
            v["bypassed_fetches"] = c.bypassed.into();
            v["stall_cycles"] = c.stall_cycles.into();
        }
        v
    }
}

fn pow2(field: &str, v: u32) -> Result<(), String> {
    if v == 0 || !v.is_power_of_two() {
        return Err(format!("{field}: {v} must be a non-zero power of two"));
    }
    Ok(())
}

fn build(
    ctx: &BuildCtx<'_>,
    name: &str,
    v: &serde_yaml::Value,
) -> Result<Box<dyn Component>, String> {
    let p: Params = parse_params(v)?;
    check_window("base", p.base, SIZE)?;
    let cores = p.cores.unwrap_or(ctx.cores);
    if cores == 0 || cores > 16 {
        return Err(format!("cores: {cores} is out of range (1..=16)"));
    }
    let hier = match p.model.as_str() {
        "hit" => false,
        "hier" => true,
        m => {
            return Err(format!(
                "model: unknown model '{m}' (expected 'hit' or 'hier')"
            ))
        }
    };
    pow2("private_bytes", p.private_bytes)?;
    pow2("shared_bytes", p.shared_bytes)?;
    pow2("shared_banks", p.shared_banks)?;
    for (f, w) in [
        ("private_ways", p.private_ways),
        ("shared_ways", p.shared_ways),
    ] {
        pow2(f, w)?;
        // common_cells lfsr_8bit: WIDTH <= 8; one way leaves no bits to pick a victim with.
        if !(2..=8).contains(&w) {
            return Err(format!("{f}: {w} must be 2, 4 or 8"));
        }
    }
    if p.private_bytes < p.private_ways * LINE_BYTES {
        return Err(format!(
            "private_bytes: {} is less than one {LINE_BYTES}-byte line per way ({} ways)",
            p.private_bytes, p.private_ways
        ));
    }
    if p.shared_bytes < p.shared_banks * p.shared_ways * LINE_BYTES {
        return Err(format!(
            "shared_bytes: {} is less than one {LINE_BYTES}-byte line per way and bank ({} ways, {} banks)",
            p.shared_bytes, p.shared_ways, p.shared_banks
        ));
    }
    if p.axi_latency_cycles > 1_000_000 {
        return Err(format!(
            "axi_latency_cycles: {} is implausibly large (at most 1000000)",
            p.axi_latency_cycles
        ));
    }
    let geo = Geometry {
        cores,
        private_bytes: p.private_bytes,
        private_ways: p.private_ways,
        shared_bytes: p.shared_bytes,
        shared_banks: p.shared_banks,
        shared_ways: p.shared_ways,
    };
    Ok(Box::new(IcacheCtrl {
        base: p.base,
        state: Rc::new(RefCell::new(Icache {
            name: name.to_string(),
            hier: hier.then(|| Hierarchy::new(geo)),
            cores,
            banks: p.shared_banks,
            axi_latency: p.axi_latency_cycles,
            enabled: p.enabled_at_reset,
            sel_flush: 0,
            cnt_enabled: false,
            prefetch: 0,
            reg_private: vec![Counts::default(); cores as usize],
            reg_shared: vec![Counts::default(); p.shared_banks as usize],
            stall_cycles: 0,
            bypassed: 0,
            by_level: [0; 3],
            reads: 0,
            writes: 0,
            flushes: 0,
        })),
    }))
}

/// The kinds this crate provides.
pub fn kinds() -> Vec<ComponentKind> {
    vec![ComponentKind {
        name: "icache_ctrl",
        summary: "instruction cache (hier-icache timing model, opt-in) and its control registers; exports 'regs' and 'ifetch'",
        params: "base: start address (0x10201400, 0x400 bytes)\nmodel: 'hit' (every fetch hits; default) or 'hier' (private L1 + shared L1.5 timing model)\ncores: cores with a private cache (platform cores)\nprivate_bytes: 512\nprivate_ways: 4\nshared_bytes: 4096\nshared_banks: 2\nshared_ways: 4\naxi_latency_cycles: read latency beyond the cache's AXI port (8: pulp_cluster's testbench, CDC pair and memory)\nenabled_at_reset: true (pulp-runtime enables the cache before fetching the cores; false: the RTL's reset, bypassed)",
        build,
    }]
}
