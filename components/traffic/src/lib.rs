//! # vp-traffic: synthetic and replayed traffic for the TCDM memory system
//!
//! A component of kind `traffic` is a per-cycle initiator (phase `PHASE_INITIATOR`) on one
//! port of the interconnect: `tcdm` (kind "narrow", a 32-bit core-like port) or `wide`
//! (kind "wide", an HWPE-like port of `words` words), chosen by `width`. It follows the TCDM
//! protocol of the cluster (hci `tcdm` interface): it holds a request until granted, has at
//! most one outstanding, and may issue the next request in the cycle after the grant
//! (back-to-back, one per cycle when always granted).
//!
//! ## Patterns
//! * `sequential`: consecutive accesses (4 bytes narrow, `words * 4` wide) from `range.base`,
//!   wrapping at the end of the range.
//! * `strided`: the same with `stride` bytes between accesses (modulo the range).
//! * `random`: uniform, word-aligned in the range (multiply-shift reduction of a 32-bit draw).
//! * `hammer`: one bank: a fixed `address`, or `bank` = index, walking that bank's rows in the
//!   range.
//! * `replay`: a CSV `file` in the reference format `index,cycle_issued_earliest,address,we`
//!   (address in hex, `we` 1 for a write; path relative to the scenario folder); a request
//!   is presented at the later of its earliest cycle and the cycle after the previous grant.
//!   `intensity`, `write_ratio` and `count` do not apply.
//!
//! ## Rate
//! `intensity` (0 < i <= 1) is the offered load in requests per cycle: in each cycle in
//! which the generator is free to issue (no request outstanding), it issues with
//! probability `intensity` (`intensity_mode: bernoulli`, the default, one draw per cycle) or
//! by a deterministic accumulator (`intensity_mode: rate`: `acc += intensity`, issue when
//! `acc >= 1` and subtract 1; intensity 0.5 issues every other free cycle). Under
//! contention the achieved rate is lower: a refused request is held, not dropped.
//! `write_ratio` is the probability that a request is a write. Runs last `count` requests
//! and/or `duration` cycles from `start` (whichever ends first; `count` 1000 when neither
//! is given); then the generator sleeps and no longer keeps the run alive.
//!
//! ## Simulation
//! The generator ticks only for its first request and its end. It binds a grant hook on
//! its port ([`vp_kernel::port::GrantHook`]): the interconnect calls it in the grant
//! cycle, and it does there what its ticks from the next cycle on would do (collect,
//! the same intensity draws in the same order, then post the next request dated for the
//! cycle it issues in). Its statistics only show what happened up to the simulation's
//! current cycle. An interconnect that grants without the hook wakes it as before.
//! A random narrow generator at full intensity, and a wide one at full intensity with
//! any pattern but replay, also queues its next 64 requests (drawn in order, as it would
//! draw them one by one) on its port: an interconnect granting with
//! `Port::deliver_quiet` then posts them back to back without calling the hook, and the
//! generator folds the port's sums of those grants in before anything reads or changes its
//! state.
//!
//! Randomness: one `rand_pcg::Pcg64Mcg` per generator, seeded with
//! `BuildCtx::seed_for(name)`. Per free cycle one draw for a Bernoulli `intensity` below 1;
//! per request one draw whose high half picks a random address and whose low half decides
//! read or write (only when the pattern or the mix needs it).

use std::cell::RefCell;
use std::rc::Rc;

use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::Deserialize;
use serde_json::{json, Value};
use vp_kernel::clocked::{Clocked, DomainId, Next, TickCtx, Wake, PHASE_INITIATOR};
use vp_kernel::component::{parse_params, ElabCtx, PortInfo};
use vp_kernel::port::{
    GrantHook, NarrowPort, NarrowReq, Port, Resp, WidePort, WideReq, WIDE_MAX_WORDS,
};
use vp_kernel::{BuildCtx, Component, ComponentKind, PortRef, Sim};

pub mod bench;
pub use bench::{build_contention_bench, ContentionBench};

/// Default TCDM geometry when the build context leaves it at zero.
const DEFAULT_TCDM: (u32, u32, u32) = (0x1000_0000, 128 * 1024, 16);

/// Port width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    Narrow,
    Wide,
}

/// How `intensity` is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntensityMode {
    /// One Bernoulli draw per free cycle.
    Bernoulli,
    /// A deterministic accumulator.
    Rate,
}

/// One request of a replay list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayEntry {
    pub earliest: u64,
    pub addr: u32,
    pub write: bool,
    /// Line of the replay file it was read from (1-based; 0: not from a file), for errors.
    pub line: u32,
}

/// The access pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    Sequential,
    Strided {
        stride: u32,
    },
    Random,
    /// A fixed address.
    HammerAddress {
        addr: u32,
    },
    /// One bank, walking its rows.
    HammerBank {
        bank: u32,
    },
    Replay(Vec<ReplayEntry>),
}

/// The TCDM the generator targets (for range checks and bank arithmetic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcdmInfo {
    pub base: u32,
    pub size: u32,
    pub banks: u32,
}

impl Default for TcdmInfo {
    fn default() -> Self {
        TcdmInfo {
            base: DEFAULT_TCDM.0,
            size: DEFAULT_TCDM.1,
            banks: DEFAULT_TCDM.2,
        }
    }
}

impl TcdmInfo {
    /// From the build context, with the RTL defaults for fields left at zero.
    pub fn from_ctx(ctx: &BuildCtx<'_>) -> TcdmInfo {
        let d = TcdmInfo::default();
        let nz = |v: u32, d: u32| if v == 0 { d } else { v };
        TcdmInfo {
            base: nz(ctx.tcdm_base, d.base),
            size: nz(ctx.tcdm_size, d.size),
            banks: nz(ctx.tcdm_banks, d.banks),
        }
    }
}

/// The resolved, validated configuration of a generator.
#[derive(Clone, Debug, PartialEq)]
pub struct TrafficConfig {
    pub width: Width,
    /// Words per wide access (1 for narrow).
    pub words: u8,
    pub pattern: Pattern,
    pub write_ratio: f64,
    pub intensity: f64,
    pub mode: IntensityMode,
    /// Address range: base and size in bytes.
    pub range: (u32, u32),
    pub count: Option<u64>,
    pub duration: Option<u64>,
    pub start: u64,
    pub seed: u64,
    pub tcdm: TcdmInfo,
}

impl TrafficConfig {
    /// A narrow generator of `pattern` over the whole default TCDM, full intensity, reads
    /// only, 1000 requests (a starting point for Rust-built benches).
    pub fn narrow(pattern: Pattern, seed: u64) -> TrafficConfig {
        let tcdm = TcdmInfo::default();
        TrafficConfig {
            width: Width::Narrow,
            words: 1,
            pattern,
            write_ratio: 0.0,
            intensity: 1.0,
            mode: IntensityMode::Bernoulli,
            range: (tcdm.base, tcdm.size),
            count: Some(1000),
            duration: None,
            start: 0,
            seed,
            tcdm,
        }
    }
    /// The same for a wide port of `words` words.
    pub fn wide(pattern: Pattern, words: u8, seed: u64) -> TrafficConfig {
        TrafficConfig {
            width: Width::Wide,
            words,
            ..TrafficConfig::narrow(pattern, seed)
        }
    }

    /// Bytes per access.
    pub fn access_bytes(&self) -> u32 {
        4 * self.words as u32
    }

    /// Check the configuration; errors name the field.
    pub fn validate(&self) -> Result<(), String> {
        let t = self.tcdm;
        let (base, size) = self.range;
        let a = self.access_bytes();
        if self.width == Width::Wide && !(1..=WIDE_MAX_WORDS as u8).contains(&self.words) {
            return Err(format!(
                "words: must be in 1..={WIDE_MAX_WORDS} (got {})",
                self.words
            ));
        }
        if !base.is_multiple_of(4) || !size.is_multiple_of(4) {
            return Err(format!(
                "range: base and size must be word aligned (got {base:#x}, {size:#x})"
            ));
        }
        let end = base as u64 + size as u64;
        if base < t.base || end > t.base as u64 + t.size as u64 {
            return Err(format!(
                "range: [{base:#x}, {end:#x}) is not inside the TCDM [{:#x}, {:#x})",
                t.base,
                t.base as u64 + t.size as u64
            ));
        }
        if size < a {
            return Err(format!(
                "range: size {size:#x} is smaller than one access ({a} bytes)"
            ));
        }
        if !(0.0..=1.0).contains(&self.write_ratio) {
            return Err(format!(
                "write_ratio: must be in 0..=1 (got {})",
                self.write_ratio
            ));
        }
        if !(self.intensity > 0.0 && self.intensity <= 1.0) {
            return Err(format!(
                "intensity: must be in (0, 1] requests per cycle (got {})",
                self.intensity
            ));
        }
        let in_range =
            |addr: u32| addr >= base && addr as u64 + a as u64 <= end && addr.is_multiple_of(4);
        match &self.pattern {
            Pattern::Strided { stride } if *stride == 0 || !stride.is_multiple_of(4) => {
                return Err(format!(
                    "stride: must be a non-zero multiple of 4 bytes (got {stride})"
                ));
            }
            Pattern::HammerAddress { addr } if !in_range(*addr) => {
                return Err(format!(
                    "address: {addr:#x} must be word aligned with the whole access inside range [{base:#x}, {end:#x})"
                ));
            }
            Pattern::HammerBank { bank } => {
                if *bank >= t.banks {
                    return Err(format!(
                        "bank: must be below the TCDM's {} banks (got {bank})",
                        t.banks
                    ));
                }
                if self.hammer_first(*bank) + a > size {
                    return Err(format!(
                        "bank: range holds no access starting in bank {bank}"
                    ));
                }
            }
            Pattern::Replay(list) => {
                for (i, e) in list.iter().enumerate() {
                    if !in_range(e.addr) {
                        let at = match e.line {
                            0 => format!("request {i}"),
                            l => format!("line {l}"),
                        };
                        return Err(format!(
                            "file: {at}: address {:#x} must be word aligned with the whole access inside range [{base:#x}, {end:#x})",
                            e.addr
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Offset in the range of the first word in `bank`.
    fn hammer_first(&self, bank: u32) -> u32 {
        let b0 = ((self.range.0 - self.tcdm.base) >> 2) % self.tcdm.banks;
        ((bank + self.tcdm.banks - b0) % self.tcdm.banks) * 4
    }
}

/// YAML params of the `traffic` kind.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficParams {
    /// `narrow` (port `tcdm`, default) or `wide` (port `wide`).
    pub width: Option<String>,
    /// `sequential` (default), `strided`, `random`, `hammer`, `replay`.
    pub pattern: Option<String>,
    /// Wide: words per access (default 9).
    pub words: Option<u32>,
    /// Strided: bytes between accesses.
    pub stride: Option<u32>,
    /// Hammer: a fixed address...
    pub address: Option<u32>,
    /// ...or a bank index.
    pub bank: Option<u32>,
    /// Replay: CSV file, relative to the scenario folder.
    pub file: Option<String>,
    /// Probability of a write (default 0).
    pub write_ratio: Option<f64>,
    /// Requests per free cycle, (0, 1] (default 1).
    pub intensity: Option<f64>,
    /// `bernoulli` (default) or `rate`.
    pub intensity_mode: Option<String>,
    /// Address range (default: the whole TCDM).
    pub range: Option<RangeParams>,
    pub count: Option<u64>,
    pub duration: Option<u64>,
    /// First cycle (default 0).
    pub start: Option<u64>,
}

/// `range: { base, size }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeParams {
    pub base: u32,
    pub size: u32,
}

/// Parse a replay CSV (`index,cycle_issued_earliest,address,we`).
pub fn parse_replay(text: &str, what: &str) -> Result<Vec<ReplayEntry>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    match lines.next() {
        Some((_, h))
            if h.split(',').map(str::trim).eq([
                "index",
                "cycle_issued_earliest",
                "address",
                "we",
            ]) => {}
        Some((n, h)) => {
            return Err(format!(
                "{what} line {}: expected the header 'index,cycle_issued_earliest,address,we', got '{h}'",
                n + 1
            ))
        }
        None => return Err(format!("{what}: empty file")),
    }
    let mut out = Vec::new();
    for (n, l) in lines {
        let err = |m: &str| format!("{what} line {}: {m}: '{l}'", n + 1);
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        if f.len() != 4 {
            return Err(err("expected 4 fields"));
        }
        f[0].parse::<u64>().map_err(|_| err("bad index"))?;
        let earliest = f[1]
            .parse::<u64>()
            .map_err(|_| err("bad cycle_issued_earliest"))?;
        let hex = f[2]
            .strip_prefix("0x")
            .or_else(|| f[2].strip_prefix("0X"))
            .unwrap_or(f[2]);
        let addr = u32::from_str_radix(hex, 16).map_err(|_| err("bad hex address"))?;
        let write = match f[3] {
            "0" => false,
            "1" => true,
            _ => return Err(err("we must be 0 or 1")),
        };
        out.push(ReplayEntry {
            earliest,
            addr,
            write,
            line: (n + 1) as u32,
        });
    }
    Ok(out)
}

impl TrafficConfig {
    /// Resolve YAML params against the build context; errors name the field.
    pub fn resolve(
        ctx: &BuildCtx<'_>,
        name: &str,
        p: &TrafficParams,
    ) -> Result<TrafficConfig, String> {
        let tcdm = TcdmInfo::from_ctx(ctx);
        let width = match p.width.as_deref() {
            None | Some("narrow") => Width::Narrow,
            Some("wide") => Width::Wide,
            Some(w) => return Err(format!("width: expected 'narrow' or 'wide', got '{w}'")),
        };
        let words = match (width, p.words) {
            (Width::Narrow, None) => 1,
            (Width::Narrow, Some(_)) => return Err("words: only for width: wide".into()),
            (Width::Wide, None) => 9,
            (Width::Wide, Some(w)) if (1..=WIDE_MAX_WORDS as u32).contains(&w) => w as u8,
            (Width::Wide, Some(w)) => {
                return Err(format!("words: must be in 1..={WIDE_MAX_WORDS} (got {w})"))
            }
        };
        let pname = p.pattern.as_deref().unwrap_or("sequential");
        let only = |field: &str, set: bool, pat: &str| -> Result<(), String> {
            if set && pname != pat {
                Err(format!("{field}: only for pattern: {pat}"))
            } else {
                Ok(())
            }
        };
        only("stride", p.stride.is_some(), "strided")?;
        only("address", p.address.is_some(), "hammer")?;
        only("bank", p.bank.is_some(), "hammer")?;
        only("file", p.file.is_some(), "replay")?;
        let pattern = match pname {
            "sequential" => Pattern::Sequential,
            "strided" => Pattern::Strided {
                stride: p.stride.ok_or("stride: required for pattern: strided")?,
            },
            "random" => Pattern::Random,
            "hammer" => match (p.address, p.bank) {
                (Some(addr), None) => Pattern::HammerAddress { addr },
                (None, Some(bank)) => Pattern::HammerBank { bank },
                _ => {
                    return Err(
                        "address: pattern hammer takes exactly one of address or bank".into(),
                    )
                }
            },
            "replay" => {
                let f = p
                    .file
                    .as_deref()
                    .ok_or("file: required for pattern: replay")?;
                let path = ctx.base_dir.join(f);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("file: cannot read {}: {e}", path.display()))?;
                Pattern::Replay(parse_replay(&text, &format!("file {}", path.display()))?)
            }
            other => {
                return Err(format!(
                    "pattern: expected sequential, strided, random, hammer or replay, got '{other}'"
                ))
            }
        };
        let mode = match p.intensity_mode.as_deref() {
            None | Some("bernoulli") => IntensityMode::Bernoulli,
            Some("rate") => IntensityMode::Rate,
            Some(m) => {
                return Err(format!(
                    "intensity_mode: expected 'bernoulli' or 'rate', got '{m}'"
                ))
            }
        };
        let range = match &p.range {
            Some(r) => (r.base, r.size),
            None => (tcdm.base, tcdm.size),
        };
        let count = match (&pattern, p.count, p.duration) {
            (Pattern::Replay(_), Some(_), _) => {
                return Err("count: not for pattern: replay (the file sets it)".into())
            }
            (Pattern::Replay(l), None, _) => Some(l.len() as u64),
            (_, None, None) => Some(1000),
            (_, c, _) => c,
        };
        let cfg = TrafficConfig {
            width,
            words,
            pattern,
            write_ratio: p.write_ratio.unwrap_or(0.0),
            intensity: p.intensity.unwrap_or(1.0),
            mode,
            range,
            count,
            duration: p.duration,
            start: p.start.unwrap_or(0),
            seed: ctx.seed_for(name),
            tcdm,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Statistics of a generator.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrafficStats {
    pub requests: u64,
    pub grants: u64,
    pub reads: u64,
    pub writes: u64,
    /// Cycles requests waited for their grant (sum).
    pub stall_cycles: u64,
    /// Sum and maximum of latencies, request to usable response (wait + 1).
    pub latency_sum: u64,
    pub latency_max: u64,
    pub first_issue: Option<u64>,
    pub last_grant: Option<u64>,
    pub errors: u64,
}

impl TrafficStats {
    pub fn latency_mean(&self) -> f64 {
        if self.grants == 0 {
            0.0
        } else {
            self.latency_sum as f64 / self.grants as f64
        }
    }
    pub fn to_json(&self) -> Value {
        json!({
            "requests": self.requests,
            "grants": self.grants,
            "reads": self.reads,
            "writes": self.writes,
            "stall_cycles": self.stall_cycles,
            "latency_mean": self.latency_mean(),
            "latency_max": self.latency_max,
            "first_issue": self.first_issue,
            "last_grant": self.last_grant,
            "errors": self.errors,
        })
    }
}

#[derive(Clone)]
enum GenPort {
    Narrow(Rc<NarrowPort>),
    Wide(Rc<WidePort>),
}

/// A borrowed port of either width.
#[derive(Clone, Copy)]
enum PortAt<'a> {
    Narrow(&'a NarrowPort),
    Wide(&'a WidePort),
}

impl GenPort {
    fn at(&self) -> PortAt<'_> {
        match self {
            GenPort::Narrow(p) => PortAt::Narrow(p),
            GenPort::Wide(p) => PortAt::Wide(p),
        }
    }
}

/// Fixed point 1.0 of the rate accumulator (32 fractional bits).
const ONE: u64 = 1 << 32;

/// How addresses are produced, decided once at build (the hot path matches on this).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Addr {
    /// sequential / strided / hammer-bank: a cursor advancing by `step`.
    Cursor,
    Random,
    Fixed(u32),
    Replay,
}

/// The clocked participant.
struct Gen {
    name: String,
    cfg: TrafficConfig,
    replay: Vec<ReplayEntry>,
    addr_kind: Addr,
    rng: Pcg64Mcg,
    base: u32,
    size: u32,
    /// Word slots of a random access.
    slots: u64,
    access: u32,
    /// Cursor (offset in range) of sequential / strided / hammer-bank patterns.
    off: u32,
    step: u32,
    first_off: u32,
    issued: u64,
    end_cycle: u64,
    limit: u64,
    always: bool,
    intensity_thr: u64,
    /// Write when the low 32 bits of the draw are below this (0: never, 2^32: always,
    /// whatever the draw).
    write_thr: u64,
    /// A request needs a random draw (random addresses or a read/write mix).
    need_draw: bool,
    /// Random addresses at full intensity: every free cycle issues, one draw per request
    /// (the grant hook's fast path, [`Gen::on_grant_random`]).
    random_always: bool,
    /// A wide generator at full intensity whose addresses come from its pattern (not a
    /// replay list): it queues its next requests on its port as a random narrow one does
    /// ([`Gen::refill_wide`]).
    wide_always: bool,
    acc_inc: u64,
    acc: u64,
    /// Cycle the outstanding request is posted for.
    outstanding: Option<u64>,
    done: bool,
    /// Counted so far, including what the grant hook did ahead (see [`Gen::stats_at`]).
    counts: Counts,
    undo: Undo,
    /// The last request the grant hook posted: (cycle, write).
    ahead_post: (u64, bool),
    /// Its own wake handle (the hook wakes it for the tick that ends it).
    wake: Option<Wake>,
    /// How many requests are queued on its (narrow) port, and their write flags in
    /// order from bit 0 (see [`Gen::refill`]).
    queued: u32,
    queued_writes: u64,
}

/// Requests a random generator at full intensity queues on its port at a time: the next
/// ones it would post, which the port posts back to back on grants without calling the
/// hook ([`NarrowPort::queue_fill`]). At most 64 (their write flags are the bits of a u64).
const QUEUE_BATCH: u64 = 64;

/// The random address of draw `draw` (its high half) in a range from `base` of `slots`
/// word slots (multiply-shift reduction).
#[inline(always)]
fn random_addr(draw: u64, base: u32, slots: u64) -> u32 {
    base + ((((draw >> 32) * slots) >> 32) as u32) * 4
}

/// The `seq`-th request of a narrow random generator from its draw: the address from the
/// high half, a write when the low half is below `write_thr`; and whether it writes.
#[inline(always)]
fn random_request(draw: u64, base: u32, slots: u64, write_thr: u64, seq: u64) -> (NarrowReq, bool) {
    let addr = random_addr(draw, base, slots);
    let write = (draw & 0xFFFF_FFFF) < write_thr;
    (narrow_request(addr, write, seq), write)
}

/// The `seq`-th request of a narrow generator, at `addr`: a whole word; a write stores
/// the address mixed with the sequence number (so that checkers can tell writes apart).
#[inline(always)]
fn narrow_request(addr: u32, write: bool, seq: u64) -> NarrowReq {
    NarrowReq {
        addr,
        write,
        be: 0xF,
        wdata: addr ^ (seq as u32).rotate_left(16),
    }
}

/// The `seq`-th request of a wide generator, at `addr`, of `words` words: a write stores
/// each word's address mixed with the sequence number.
#[inline(always)]
fn wide_request(addr: u32, words: u8, write: bool, seq: u64) -> WideReq {
    let mut r = WideReq::read(addr, words);
    if write {
        let seq = seq as u32;
        r.write = true;
        for (i, d) in r.wdata.iter_mut().enumerate().take(words as usize) {
            *d = addr.wrapping_add(4 * i as u32) ^ seq.rotate_left(16);
        }
    }
    r
}

/// `p` as a threshold on a uniform u64 (`draw < thr` has probability p, to 2^-64).
fn threshold(p: f64) -> u64 {
    if p >= 1.0 {
        u64::MAX
    } else {
        (p * 18_446_744_073_709_551_616.0) as u64
    }
}

impl Gen {
    fn new(name: String, cfg: TrafficConfig) -> Gen {
        let a = cfg.access_bytes();
        let (step, first_off) = match cfg.pattern {
            Pattern::Sequential => (a, 0),
            Pattern::Strided { stride } => (stride, 0),
            Pattern::HammerBank { bank } => (cfg.tcdm.banks * 4, cfg.hammer_first(bank)),
            _ => (0, 0),
        };
        let (addr_kind, replay) = match &cfg.pattern {
            Pattern::Sequential | Pattern::Strided { .. } | Pattern::HammerBank { .. } => {
                (Addr::Cursor, Vec::new())
            }
            Pattern::Random => (Addr::Random, Vec::new()),
            Pattern::HammerAddress { addr } => (Addr::Fixed(*addr), Vec::new()),
            Pattern::Replay(l) => (Addr::Replay, l.clone()),
        };
        let limit = match &cfg.pattern {
            Pattern::Replay(l) => l.len() as u64,
            _ => cfg.count.unwrap_or(u64::MAX),
        };
        let (base, size) = cfg.range;
        Gen {
            name,
            replay,
            addr_kind,
            rng: Pcg64Mcg::seed_from_u64(cfg.seed),
            base,
            size,
            slots: ((size - a) / 4 + 1) as u64,
            access: a,
            off: first_off,
            step,
            first_off,
            issued: 0,
            end_cycle: cfg
                .duration
                .map_or(u64::MAX, |d| cfg.start.saturating_add(d)),
            limit,
            always: cfg.intensity >= 1.0,
            intensity_thr: threshold(cfg.intensity),
            write_thr: match cfg.write_ratio {
                r if r <= 0.0 => 0,
                r if r >= 1.0 => 1 << 32,
                r => threshold(r) >> 32,
            },
            need_draw: addr_kind == Addr::Random
                || (cfg.write_ratio > 0.0 && cfg.write_ratio < 1.0),
            random_always: addr_kind == Addr::Random && cfg.intensity >= 1.0,
            wide_always: cfg.width == Width::Wide
                && addr_kind != Addr::Replay
                && cfg.intensity >= 1.0,
            acc_inc: (cfg.intensity * ONE as f64).round() as u64,
            acc: 0,
            outstanding: None,
            done: false,
            counts: Counts::default(),
            undo: Undo::default(),
            ahead_post: (0, false),
            wake: None,
            queued: 0,
            queued_writes: 0,
            cfg,
        }
    }

    /// The random address of draw `draw` (its high half).
    #[inline(always)]
    fn random_addr(&self, draw: u64) -> u32 {
        random_addr(draw, self.base, self.slots)
    }

    /// Next address (and write flag) of the pattern. One 64-bit draw per request when
    /// random addresses or a write mix need it: the high half picks the address, the low
    /// half the direction.
    #[inline]
    fn next_access(&mut self) -> (u32, bool) {
        let draw = if self.need_draw {
            self.rng.next_u64()
        } else {
            0
        };
        let addr = match self.addr_kind {
            // (the hot case first: the benches' random generators)
            Addr::Random => self.random_addr(draw),
            Addr::Cursor => {
                let addr = self.base + self.off;
                let mut n = (self.off as u64 + self.step as u64) % self.size as u64;
                if n + self.access as u64 > self.size as u64 {
                    n = self.first_off as u64;
                }
                self.off = n as u32;
                addr
            }
            Addr::Fixed(a) => a,
            Addr::Replay => {
                let e = self.replay[self.issued as usize];
                return (e.addr, e.write);
            }
        };
        // (without a draw, 0 < write_thr tells never / always)
        (addr, (draw & 0xFFFF_FFFF) < self.write_thr)
    }

    /// Account a response granted in `granted` after waiting `waited` cycles. Keeps what
    /// [`Gen::stats_at`] needs to hold it back while `granted` is the current cycle.
    #[inline]
    fn account_response(&mut self, granted: u64, waited: u64, error: bool) {
        let k = &mut self.counts;
        self.undo = Undo {
            waited,
            error,
            max_wait: k.max_wait,
            last_grant: k.last_grant,
        };
        k.grants += 1;
        k.stall += waited;
        k.max_wait = k.max_wait.max(waited);
        k.last_grant = granted;
        k.errors += error as u64;
    }

    /// Account a request issued in `cycle`.
    #[inline]
    fn account_request(&mut self, cycle: u64, write: bool) {
        let k = &mut self.counts;
        k.requests += 1;
        k.writes += write as u64;
        if k.first_issue.is_none() {
            k.first_issue = Some(cycle);
        }
    }

    /// The statistics as of the end of `cycle`'s ticks: what the generator would have
    /// accounted in its ticks up to `cycle` had it collected every response and posted
    /// every request in its own tick. The grant hook runs ahead by at most one response
    /// (granted in `cycle`, collected in the next) and one request (posted for a later
    /// cycle); both are taken back out here.
    fn stats_at(&self, cycle: u64) -> TrafficStats {
        let mut k = self.counts.clone();
        if k.grants > 0 && k.last_grant >= cycle {
            let u = self.undo;
            k.grants -= 1;
            k.stall -= u.waited;
            k.errors -= u.error as u64;
            k.max_wait = u.max_wait;
            k.last_grant = u.last_grant;
        }
        if self.ahead_post.0 > cycle {
            k.requests -= 1;
            k.writes -= self.ahead_post.1 as u64;
            if k.requests == 0 {
                k.first_issue = None;
            }
        }
        // Every request waits from the cycle it is posted for, so its latency (issue to
        // usable response) is its wait + 1.
        TrafficStats {
            requests: k.requests,
            grants: k.grants,
            reads: k.requests - k.writes,
            writes: k.writes,
            stall_cycles: k.stall,
            latency_sum: k.stall + k.grants,
            latency_max: if k.grants > 0 { k.max_wait + 1 } else { 0 },
            first_issue: k.first_issue,
            last_grant: (k.grants > 0).then_some(k.last_grant),
            errors: k.errors,
        }
    }

    /// Collect a response stored on the port (an interconnect that grants without
    /// calling the hook). False if a request is outstanding and not yet answered.
    #[inline]
    fn collect(&mut self, port: PortAt<'_>) -> bool {
        if self.outstanding.is_none() {
            return true;
        }
        let r = match port {
            PortAt::Narrow(p) => p.take_response().map(|r| (r.granted, r.waited, r.error)),
            PortAt::Wide(p) => p.take_response().map(|r| (r.granted, r.waited, r.error)),
        };
        let Some((granted, waited, error)) = r else {
            return false;
        };
        self.account_response(granted, waited, error);
        self.outstanding = None;
        true
    }

    /// What the generator does in a cycle `c` in which it is free to issue: the body of
    /// its tick after collecting. Draws the intensity decision (Bernoulli) or advances the
    /// accumulator (rate) exactly as that tick would.
    #[inline]
    fn decide(&mut self, c: u64) -> Decision {
        if self.issued >= self.limit || c >= self.end_cycle {
            return Decision::End;
        }
        if c < self.cfg.start {
            return Decision::Retry(self.cfg.start);
        }
        if self.addr_kind == Addr::Replay {
            let e = self.replay[self.issued as usize].earliest;
            if c < e {
                return Decision::Retry(e.min(self.end_cycle));
            }
        } else if !self.always {
            match self.cfg.mode {
                IntensityMode::Bernoulli => {
                    if self.rng.next_u64() >= self.intensity_thr {
                        return Decision::Retry(c + 1);
                    }
                }
                IntensityMode::Rate => {
                    self.acc += self.acc_inc;
                    if self.acc < ONE {
                        return Decision::Retry(c + 1);
                    }
                    self.acc -= ONE;
                }
            }
        }
        Decision::Issue
    }

    /// Draw the next access and post it for cycle `c`; returns whether it is a write.
    #[inline(always)]
    fn issue(&mut self, port: PortAt<'_>, c: u64) -> bool {
        if self.queued > 0 {
            // the next request is queued already
            let write = match port {
                PortAt::Narrow(p) => self.take_queued(p, c),
                PortAt::Wide(p) => self.take_queued(p, c),
            };
            self.issued += 1;
            self.outstanding = Some(c);
            return write;
        }
        let (addr, write) = self.next_access();
        match port {
            PortAt::Narrow(p) => p.request(c, narrow_request(addr, write, self.issued)),
            PortAt::Wide(p) => p.request(c, wide_request(addr, self.cfg.words, write, self.issued)),
        }
        self.issued += 1;
        self.outstanding = Some(c);
        write
    }

    /// [`Gen::on_grant`] for a narrow random generator at full intensity that goes on
    /// issuing: the same steps (account the response; decide, which issues at once after
    /// the start; draw; post; account the request), without the general case's choices.
    #[inline(always)]
    fn on_grant_random(&mut self, port: &NarrowPort, granted: u64, waited: u64, error: bool) {
        self.fold(PortAt::Narrow(port));
        let c = granted + 1;
        if !self.goes_on_issuing(self.random_always, c) {
            return self.on_grant(PortAt::Narrow(port), granted, waited, error);
        }
        // (c > the start: the request just granted was issued at or after it)
        self.account_response(granted, waited, error);
        let write = if self.queued > 0 {
            self.take_queued(port, c)
        } else {
            let (r, write) = self.draw_random(self.issued);
            port.request(c, r);
            write
        };
        self.issued += 1;
        self.outstanding = Some(c);
        self.posted_ahead(c, write);
        if self.queued == 0 {
            self.refill(port);
        }
    }

    /// [`Gen::on_grant`] for a wide generator at full intensity ([`Gen::wide_always`])
    /// that goes on issuing: as [`Gen::on_grant_random`], its requests from its pattern.
    fn on_grant_wide(&mut self, port: &WidePort, granted: u64, waited: u64, error: bool) {
        self.fold(PortAt::Wide(port));
        let c = granted + 1;
        if !self.goes_on_issuing(self.wide_always, c) {
            return self.on_grant(PortAt::Wide(port), granted, waited, error);
        }
        // (c > the start: the request just granted was issued at or after it)
        self.account_response(granted, waited, error);
        let write = self.issue(PortAt::Wide(port), c);
        self.posted_ahead(c, write);
        if self.queued == 0 {
            self.refill_wide(port);
        }
    }

    /// The grant hooks' fast paths: does a generator at full intensity (`always`) go on
    /// issuing, its next request in `c`?
    #[inline(always)]
    fn goes_on_issuing(&self, always: bool, c: u64) -> bool {
        always && self.outstanding.is_some() && self.issued < self.limit && c < self.end_cycle
    }

    /// The fast paths' accounting of the request they posted for `c` (not the first
    /// request: `first_issue` is set).
    #[inline(always)]
    fn posted_ahead(&mut self, c: u64, write: bool) {
        self.counts.requests += 1;
        self.counts.writes += write as u64;
        self.ahead_post = (c, write);
    }

    /// Post the first queued request for `c` (there is one); returns its write flag.
    fn take_queued<Q: Copy, D: Copy>(&mut self, port: &Port<Q, D>, c: u64) -> bool {
        let r = port.queue_pop();
        debug_assert!(r.is_some(), "{}: the port's queue is shorter", self.name);
        if let Some(r) = r {
            port.request(c, r);
        }
        let write = self.queued_writes & 1 != 0;
        self.queued -= 1;
        self.queued_writes >>= 1;
        write
    }

    /// The next random request, the `seq`-th: address and direction from one draw.
    #[inline(always)]
    fn draw_random(&mut self, seq: u64) -> (NarrowReq, bool) {
        let draw = self.rng.next_u64();
        random_request(draw, self.base, self.slots, self.write_thr, seq)
    }

    /// Queue the next requests on the (empty) queue of the port, as many as it may still
    /// post up to [`QUEUE_BATCH`]: the same draws in the same order as posting them one by
    /// one. The port posts them on grants before the end cycle; what it did is folded in
    /// by [`Gen::fold`].
    fn refill(&mut self, port: &NarrowPort) {
        debug_assert!(self.queued == 0 && port.queue_len() == 0);
        let n = QUEUE_BATCH.min(self.limit - self.issued);
        let mut writes = 0u64;
        // (draw_random on locals)
        let mut rng = self.rng.clone();
        let (base, slots, thr, seq0) = (self.base, self.slots, self.write_thr, self.issued);
        let n = port.queue_fill((0..n).map(|k| {
            let (r, write) = random_request(rng.next_u64(), base, slots, thr, seq0 + k);
            writes |= (write as u64) << k;
            r
        }));
        self.rng = rng;
        self.queued = n as u32;
        self.queued_writes = writes;
    }

    /// [`Gen::refill`] for a wide generator at full intensity ([`Gen::wide_always`]): its
    /// next requests, each as [`Gen::issue`] would draw it, in order.
    fn refill_wide(&mut self, port: &WidePort) {
        debug_assert!(self.queued == 0 && port.queue_len() == 0);
        let n = QUEUE_BATCH.min(self.limit - self.issued);
        let mut writes = 0u64;
        let seq0 = self.issued;
        let words = self.cfg.words;
        let n = port.queue_fill((0..n).map(|k| {
            let (addr, write) = self.next_access();
            writes |= (write as u64) << k;
            wide_request(addr, words, write, seq0 + k)
        }));
        self.queued = n as u32;
        self.queued_writes = writes;
    }

    /// Account what the port did with its queue since the last call: each grant as the
    /// hook would have (the response; then the next queued request, posted for the cycle
    /// after). To be called before anything reads or changes the generator's state.
    fn fold(&mut self, port: PortAt<'_>) {
        let q = match port {
            PortAt::Narrow(p) => p.take_queued_grants(),
            PortAt::Wide(p) => p.take_queued_grants(),
        };
        if q.n == 0 {
            return;
        }
        // The first was posted for `outstanding`, each next one the cycle after its
        // predecessor's grant: the waits sum to last grant - first post - (n - 1).
        let first = self.outstanding.unwrap_or(0);
        let last_posted = if q.n >= 2 {
            q.granted_before_last + 1
        } else {
            first
        };
        let k = &mut self.counts;
        // as account_response for each, in order: the last one is held back
        self.undo = Undo {
            waited: q.last_granted - last_posted,
            error: false,
            max_wait: k.max_wait.max(q.max_waited_before_last),
            last_grant: if q.n >= 2 {
                q.granted_before_last
            } else {
                k.last_grant
            },
        };
        k.grants += q.n;
        k.stall += q.last_granted - first - (q.n - 1);
        k.max_wait = k.max_wait.max(q.max_waited);
        k.last_grant = q.last_granted;
        // and the requests posted, each for the cycle after its predecessor's grant
        debug_assert!(q.n <= self.queued as u64);
        let n = q.n.min(self.queued as u64) as u32;
        let mine = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
        let write = n > 0 && (self.queued_writes >> (n - 1)) & 1 != 0;
        k.writes += (self.queued_writes & mine).count_ones() as u64;
        self.queued_writes = self.queued_writes.checked_shr(n).unwrap_or(0);
        self.queued -= n;
        k.requests += q.n;
        self.issued += q.n;
        let c = q.last_granted + 1;
        self.outstanding = Some(c);
        self.ahead_post = (c, write);
    }

    /// The grant hook: the request was granted in `granted`. Does now what the ticks from
    /// `granted + 1` on would do: collect, then in each following cycle decide (same
    /// draws in the same order) until the generator issues, which it posts dated for
    /// that cycle, or ends, for which it wakes itself at that cycle (the tick marks it
    /// done, as before). Statistics are held back until their cycle (see [`Gen::stats_at`]).
    fn on_grant(&mut self, port: PortAt<'_>, granted: u64, waited: u64, error: bool) {
        if self.outstanding.take().is_none() {
            return;
        }
        self.account_response(granted, waited, error);
        let mut c = granted + 1;
        loop {
            match self.decide(c) {
                Decision::Issue => {
                    let write = self.issue(port, c);
                    self.account_request(c, write);
                    self.ahead_post = (c, write);
                    return;
                }
                Decision::Retry(n) => c = n,
                Decision::End => {
                    if let Some(w) = &self.wake {
                        w.at(c);
                    }
                    return;
                }
            }
        }
    }
}

/// What [`Gen::stats_at`] needs to take the last response back out.
#[derive(Clone, Copy, Debug, Default)]
struct Undo {
    waited: u64,
    error: bool,
    max_wait: u64,
    last_grant: u64,
}

/// The generator's counters ([`TrafficStats`] is derived from them).
#[derive(Clone, Debug, Default)]
struct Counts {
    requests: u64,
    writes: u64,
    grants: u64,
    /// Sum of waits.
    stall: u64,
    max_wait: u64,
    /// Cycle of the last grant (when `grants > 0`).
    last_grant: u64,
    errors: u64,
    first_issue: Option<u64>,
}

/// What a generator free to issue does in a cycle.
enum Decision {
    Issue,
    /// Nothing this cycle; decide again at this cycle.
    Retry(u64),
    /// Count or duration reached.
    End,
}

impl Gen {
    /// The tick: the first request, the end, or (with an interconnect that does not call
    /// the hook) every response.
    fn tick(&mut self, port: PortAt<'_>, c: u64) -> Next {
        self.fold(port);
        if !self.collect(port) {
            return Next::Sleep;
        }
        match self.decide(c) {
            Decision::Issue => {
                let write = self.issue(port, c);
                self.account_request(c, write);
                Next::Sleep
            }
            Decision::Retry(n) if n == c + 1 => Next::Cycle,
            Decision::Retry(n) => Next::At(n),
            Decision::End => {
                self.done = true;
                Next::Sleep
            }
        }
    }
}

/// The clocked participant: the generator and its port. (The generator itself does not
/// hold the port, so the port's grant hook can hold the generator without a cycle.)
struct GenTicker {
    gen: Rc<RefCell<Gen>>,
    port: GenPort,
}

impl Clocked for GenTicker {
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        self.gen.borrow_mut().tick(self.port.at(), cx.cycle)
    }

    fn blocked_on(&self) -> Option<String> {
        self.gen.borrow_mut().fold(self.port.at());
        let g = self.gen.borrow();
        g.outstanding.map(|c| {
            format!(
                "the grant of its request issued at cycle {c} ('{}')",
                g.name
            )
        })
    }
}

/// The generator as the grant hook of its port.
struct GenHook(Rc<RefCell<Gen>>);

impl GrantHook<NarrowReq, u32> for GenHook {
    #[inline]
    fn granted(&self, port: &NarrowPort, r: Resp<u32>) {
        self.0
            .borrow_mut()
            .on_grant_random(port, r.granted, r.waited, r.error);
    }
}

impl GrantHook<WideReq, [u32; WIDE_MAX_WORDS]> for GenHook {
    #[inline]
    fn granted(&self, port: &WidePort, r: Resp<[u32; WIDE_MAX_WORDS]>) {
        self.0
            .borrow_mut()
            .on_grant_wide(port, r.granted, r.waited, r.error);
    }
}

/// The `traffic` component.
pub struct Traffic {
    name: String,
    cfg: TrafficConfig,
    port: Option<GenPort>,
    /// The port once started (for the statistics).
    bound: Option<GenPort>,
    gen: Option<Rc<RefCell<Gen>>>,
    /// The simulation and domain it runs in (statistics are as of the current cycle).
    clock: Option<(Sim, DomainId)>,
}

impl Traffic {
    pub fn new(name: impl Into<String>, cfg: TrafficConfig) -> Result<Traffic, String> {
        let name = name.into();
        cfg.validate()
            .map_err(|e| format!("traffic '{name}': {e}"))?;
        Ok(Traffic {
            name,
            cfg,
            port: None,
            bound: None,
            gen: None,
            clock: None,
        })
    }

    /// The kind's builder.
    pub fn build(
        ctx: &BuildCtx<'_>,
        name: &str,
        params: &serde_yaml::Value,
    ) -> Result<Traffic, String> {
        let p: TrafficParams =
            parse_params(params).map_err(|e| format!("traffic '{name}': params: {e}"))?;
        let cfg =
            TrafficConfig::resolve(ctx, name, &p).map_err(|e| format!("traffic '{name}': {e}"))?;
        Traffic::new(name, cfg)
    }

    pub fn config(&self) -> &TrafficConfig {
        &self.cfg
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    fn port_name(&self) -> &'static str {
        match self.cfg.width {
            Width::Narrow => "tcdm",
            Width::Wide => "wide",
        }
    }

    /// Register the per-cycle participant (what `elaborate` does).
    pub fn start(&mut self, sim: &Sim, domain: DomainId) -> Result<(), String> {
        let port = self.port.take().ok_or_else(|| {
            format!(
                "traffic '{}': port '{}' is not bound",
                self.name,
                self.port_name()
            )
        })?;
        let gen = Rc::new(RefCell::new(Gen::new(self.name.clone(), self.cfg.clone())));
        // Grants reach the generator through its hook, in the grant cycle (an interconnect
        // that grants with `Port::grant` wakes it on the next cycle instead).
        let hook = Rc::new(GenHook(gen.clone()));
        match &port {
            GenPort::Narrow(p) => {
                p.set_grant_hook(hook);
                let g = gen.borrow();
                if g.random_always {
                    // the port posts the queued requests up to the end (see Gen::refill)
                    p.set_queue(QUEUE_BATCH as usize, g.end_cycle);
                }
            }
            GenPort::Wide(p) => {
                p.set_grant_hook(hook);
                let g = gen.borrow();
                if g.wide_always {
                    // the port posts the queued requests up to the end (see Gen::refill_wide)
                    p.set_queue(QUEUE_BATCH as usize, g.end_cycle);
                }
                // (the generator counts responses; it never looks at their data)
                p.set_discards_read_data();
            }
        }
        self.bound = Some(port.clone());
        let wake_port = port.clone();
        let wake = sim.add_clocked(
            domain,
            self.name.clone(),
            PHASE_INITIATOR,
            false,
            Rc::new(RefCell::new(GenTicker {
                gen: gen.clone(),
                port,
            })),
        );
        match wake_port {
            GenPort::Narrow(p) => p.set_initiator_wake(wake.clone()),
            GenPort::Wide(p) => p.set_initiator_wake(wake.clone()),
        }
        gen.borrow_mut().wake = Some(wake.clone());
        wake.at(self.cfg.start);
        self.gen = Some(gen);
        self.clock = Some((sim.clone(), domain));
        Ok(())
    }

    /// Statistics so far: as of the current cycle of the simulation (the grant hook
    /// works ahead; what it did for later cycles does not show yet).
    pub fn stats_raw(&self) -> TrafficStats {
        match (&self.gen, &self.clock, &self.bound) {
            (Some(g), Some((sim, d)), Some(p)) => {
                g.borrow_mut().fold(p.at());
                g.borrow().stats_at(sim.cycle_now(*d))
            }
            _ => TrafficStats::default(),
        }
    }
    /// Has it issued everything it will issue and collected every response?
    pub fn is_done(&self) -> bool {
        self.gen.as_ref().is_some_and(|g| g.borrow().done)
    }
}

impl Component for Traffic {
    fn kind(&self) -> &'static str {
        "traffic"
    }

    fn ports(&self) -> Vec<PortInfo> {
        vec![match self.cfg.width {
            Width::Narrow => PortInfo {
                name: "tcdm",
                kind: "narrow",
                required: true,
                doc: "narrow initiator port of the interconnect (interconnect.narrow)",
            },
            Width::Wide => PortInfo {
                name: "wide",
                kind: "wide",
                required: true,
                doc: "wide initiator port of the interconnect (interconnect.wide)",
            },
        }]
    }

    fn bind(&mut self, port: &str, peer: PortRef) -> Result<(), String> {
        let err = |e: String| format!("traffic '{}': port '{port}': {e}", self.name);
        match (self.cfg.width, port) {
            (Width::Narrow, "tcdm") => {
                self.port = Some(GenPort::Narrow(
                    peer.get::<NarrowPort>("narrow").map_err(err)?,
                ))
            }
            (Width::Wide, "wide") => {
                self.port = Some(GenPort::Wide(peer.get::<WidePort>("wide").map_err(err)?))
            }
            _ => {
                return Err(format!(
                    "traffic '{}' (width {}) has port '{}', not '{port}'",
                    self.name,
                    if self.cfg.width == Width::Narrow {
                        "narrow"
                    } else {
                        "wide"
                    },
                    self.port_name()
                ))
            }
        }
        Ok(())
    }

    fn elaborate(&mut self, cx: &mut ElabCtx<'_>) -> Result<(), String> {
        self.start(cx.sim, cx.domain)
    }

    fn stats(&self) -> Value {
        self.stats_raw().to_json()
    }
}

fn build_kind(
    ctx: &BuildCtx<'_>,
    name: &str,
    params: &serde_yaml::Value,
) -> Result<Box<dyn Component>, String> {
    Ok(Box::new(Traffic::build(ctx, name, params)?))
}

/// The `traffic` kind.
pub fn kind() -> ComponentKind {
    ComponentKind {
        name: "traffic",
        summary: "synthetic or replayed TCDM traffic on a narrow (port tcdm) or wide (port wide) port",
        params: "width: narrow | wide (narrow)\n\
                 pattern: sequential | strided | random | hammer | replay (sequential)\n\
                 words: wide access width in words, 1..=16 (9)\n\
                 stride: strided: bytes between accesses, multiple of 4\n\
                 address: hammer: fixed word-aligned address\n\
                 bank: hammer: bank index (walks that bank's rows)\n\
                 file: replay: CSV index,cycle_issued_earliest,address,we (relative to the scenario)\n\
                 write_ratio: probability of a write, 0..1 (0)\n\
                 intensity: requests per free cycle, (0, 1] (1)\n\
                 intensity_mode: bernoulli | rate (bernoulli)\n\
                 range: {base, size} inside the TCDM (the whole TCDM)\n\
                 count: requests (1000 when neither count nor duration)\n\
                 duration: cycles from start\n\
                 start: first cycle (0)",
        build: build_kind,
    }
}

/// The component kinds of this crate, for the platform's registry.
pub fn kinds() -> Vec<ComponentKind> {
    vec![kind()]
}
