//! The `contention` benchmark's floor: the same workload, with the same results, computed
//! by one hand-fused loop (`redmule-vp bench contention-floor`).
//!
//! The `contention` benchmark runs the component model: nine traffic generators and the
//! interconnect, each a component behind its ports, with the kernel between them. This
//! module runs the same cycles with none of that: no ports, no request queues, no grant
//! hooks, no kernel. The generators' draws and the interconnect's decisions are inline in
//! one function over plain arrays, and the next request is tracked per bank as it is
//! drawn, rather than gathered from the ports every cycle.
//!
//! It is not a model to use: it knows this one configuration. It measures what the work
//! itself costs on the machine it runs on, which is the upper bound for the model's
//! speed. Its results must equal the model's (the tests below compare every statistic,
//! and the TCDM contents), so that it is the same work:
//! * eight random narrow generators, 25 % writes, full intensity, in port order;
//! * one 9-word sequential wide generator, 10 % writes;
//! * 16 banks of 128 KiB;
//! * the pinned starvation guard.
//!
//! The rules it restates are cited where the model has them: the generators'
//! draws (vp_traffic: `random_request`, `Gen::next_access`, `wide_request`), the pass
//! (vp_interconnect::hci: `Hci::pass`, `guard`).

use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde_json::{json, Map, Value};
use vp_interconnect::hci::{arbitrate_tree, hist_bucket};
use vp_interconnect::HIST_LABELS;

/// Narrow generators (LIC ports 0..7).
pub const NARROW: usize = 8;
const BANKS: usize = 16;
const BASE: u32 = 0x1000_0000;
const SIZE: u32 = 128 * 1024;
const WORDS: usize = (SIZE / 4) as usize;
/// Words per wide access.
const WIDE_WORDS: u32 = 9;

/// The workload's parameters.
#[derive(Clone, Debug)]
pub struct FloorSetup {
    /// Seeds of the narrow generators, in port order.
    pub narrow_seeds: [u64; NARROW],
    pub wide_seed: u64,
    /// Cycles the generators issue in (their `duration`).
    pub duration: u64,
    /// The guard's `low_prio_max_stall`.
    pub max_stall: u16,
}

impl FloorSetup {
    /// The `contention` benchmark's scenario (scenarios/bench/contention.yaml) with
    /// `duration`: seed 1, generators `core0`..`core7` and `hwpe`, `max_stall` 4.
    pub fn contention(duration: u64) -> FloorSetup {
        let seed = |name: &str| vp_kernel::rng::derive_seed(1, name);
        FloorSetup {
            narrow_seeds: std::array::from_fn(|i| seed(&format!("core{i}"))),
            wide_seed: seed("hwpe"),
            duration,
            max_stall: 4,
        }
    }
}

/// One port's figures, as the interconnect's statistics give them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PortFigures {
    pub requests: u64,
    pub grants: u64,
    pub stall_cycles: u64,
    pub max_wait: u64,
    pub wait_hist: [u64; 9],
}

/// A port's grants by wait, one increment each (as vp_interconnect's `Waits`); the
/// figures are sums over it.
#[derive(Clone, Copy)]
struct Waits {
    requests: u64,
    /// Grants that waited `w` cycles, `w` <= 64 (the histogram's last bucket starts at
    /// 65); the last entry counts the longer waits.
    short: [u64; 66],
    long_sum: u64,
    long_max: u64,
}

impl Default for Waits {
    fn default() -> Self {
        Waits {
            requests: 0,
            short: [0; 66],
            long_sum: 0,
            long_max: 0,
        }
    }
}

impl Waits {
    #[inline(always)]
    fn grant(&mut self, wait: u64) {
        if wait < 65 {
            self.short[wait as usize] += 1;
        } else {
            self.short[65] += 1;
            self.long_sum += wait;
            self.long_max = self.long_max.max(wait);
        }
    }

    fn figures(&self) -> PortFigures {
        let mut f = PortFigures {
            requests: self.requests,
            grants: self.short[65],
            stall_cycles: self.long_sum,
            max_wait: self.long_max,
            wait_hist: [0; 9],
        };
        f.wait_hist[hist_bucket(65)] += self.short[65];
        for (w, &n) in self.short[..65].iter().enumerate() {
            if n > 0 {
                let w = w as u64;
                f.grants += n;
                f.stall_cycles += n * w;
                f.max_wait = f.max_wait.max(w);
                f.wait_hist[hist_bucket(w)] += n;
            }
        }
        f
    }
}

/// What a run computed.
#[derive(Clone, Debug)]
pub struct FloorResult {
    /// Cycles with some request pending (the interconnect's `active_cycles`).
    pub active_cycles: u64,
    pub narrow: Vec<PortFigures>,
    pub wide: PortFigures,
    pub bank_accesses: [u64; BANKS],
    pub bank_conflicts: [u64; BANKS],
    pub wide_wait_cycles: u64,
    pub guard_firings: u64,
    pub side_conflict_cycles: u64,
    /// The TCDM's words at the end.
    pub tcdm: Vec<u32>,
}

impl FloorResult {
    /// The interconnect's statistics in the model's JSON layout (`--stats json`'s
    /// `interconnect` entry, without its configuration), for comparing with it.
    pub fn interconnect_json(&self) -> Value {
        let port = |p: &PortFigures| {
            let mut h = Map::new();
            for (l, n) in HIST_LABELS.iter().zip(p.wait_hist.iter()) {
                h.insert((*l).to_string(), json!(n));
            }
            json!({
                "requests": p.requests,
                "grants": p.grants,
                "stall_cycles": p.stall_cycles,
                "max_wait": p.max_wait,
                "wait_hist": Value::Object(h),
            })
        };
        let mut n = Map::new();
        for (i, p) in self.narrow.iter().enumerate() {
            n.insert(format!("narrow{i}"), port(p));
        }
        json!({
            "active_cycles": self.active_cycles,
            "banks": { "accesses": self.bank_accesses, "conflicts": self.bank_conflicts },
            "narrow": Value::Object(n),
            "wide": { "wide0": port(&self.wide) },
            "hci": {
                "wide_wait_cycles": self.wide_wait_cycles,
                "guard_firings": self.guard_firings,
                "side_conflict_cycles": self.side_conflict_cycles,
            },
        })
    }
}

/// vp_traffic's `threshold(p) >> 32`: a draw's low half below it is a write.
const fn write_threshold(p: f64) -> u64 {
    ((p * 18_446_744_073_709_551_616.0) as u64) >> 32
}

/// One narrow generator and its posted request.
struct Narrow {
    rng: Pcg64Mcg,
    /// Requests drawn so far (the next one's sequence number).
    seq: u64,
    addr: u32,
    write: bool,
    /// The cycle the request is posted for.
    posted: u64,
}

impl Narrow {
    /// Draw the next request, posted for `cycle` (vp_traffic `random_request`).
    #[inline(always)]
    fn draw(&mut self, cycle: u64) -> usize {
        let d = self.rng.next_u64();
        self.addr = BASE + ((((d >> 32) * WORDS as u64) >> 32) as u32) * 4;
        self.write = (d & 0xFFFF_FFFF) < const { write_threshold(0.25) };
        self.posted = cycle;
        self.seq += 1;
        ((self.addr >> 2) as usize) % BANKS
    }
}

/// Run the workload until every request is granted.
pub fn run(s: &FloorSetup) -> FloorResult {
    // rr_arb_tree of 8 ports: entry `req << 3 | rr` = grant | next rr << 8
    let mut lut = vec![0u16; 256 * 8];
    for req in 1..256u64 {
        for rr in 0..8u32 {
            let (g, n) = arbitrate_tree(req, rr, 3);
            lut[(req as usize) << 3 | rr as usize] = (g | n << 8) as u16;
        }
    }
    const WIDE_THR: u64 = write_threshold(0.1);
    // the TCDM's words and a scratch word
    let mut mem = vec![0u32; WORDS + 1];
    let mut r = FloorResult {
        active_cycles: 0,
        narrow: vec![],
        wide: PortFigures::default(),
        bank_accesses: [0; BANKS],
        bank_conflicts: [0; BANKS],
        wide_wait_cycles: 0,
        guard_firings: 0,
        side_conflict_cycles: 0,
        tcdm: vec![],
    };
    // --- the generators' first requests, in cycle 0
    let mut gens: [Narrow; NARROW] = std::array::from_fn(|i| Narrow {
        rng: Pcg64Mcg::seed_from_u64(s.narrow_seeds[i]),
        seq: 0,
        addr: 0,
        write: false,
        posted: 0,
    });
    let mut figs = [Waits::default(); NARROW];
    // the ports requesting each bank, and the banks requested
    let mut bank_req = [0u64; BANKS];
    let mut nbanks = 0u64;
    if s.duration > 0 {
        for (i, g) in gens.iter_mut().enumerate() {
            let b = g.draw(0);
            bank_req[b] |= 1 << i;
            nbanks |= 1 << b;
        }
    }
    let mut wfig = Waits::default();
    let mut wrng = Pcg64Mcg::seed_from_u64(s.wide_seed);
    let (mut woff, mut wseq) = (0u32, 0u64);
    // the wide request: (address, write, posted)
    let mut wide: Option<(u32, bool, u64)> = None;
    let mut next_wide = |cycle: u64| {
        // vp_traffic Gen::next_access (sequential): the cursor, one draw for the direction
        let d = wrng.next_u64();
        let addr = BASE + woff;
        let mut n = (woff + 4 * WIDE_WORDS) % SIZE;
        if n + 4 * WIDE_WORDS > SIZE {
            n = 0;
        }
        woff = n;
        (addr, (d & 0xFFFF_FFFF) < WIDE_THR, cycle)
    };
    if s.duration > 0 {
        wide = Some(next_wide(0));
        wfig.requests += 1;
        for p in figs.iter_mut() {
            p.requests += 1;
        }
    }
    let mut rr = [0u8; BANKS];
    let mut locked = 0u64;
    let mut lock_req = [0u64; BANKS];
    let mut cnt = 0u16;
    let m = s.max_stall;
    let mut cycle = 0u64;
    while nbanks != 0 || wide.is_some() {
        r.active_cycles += 1;
        let wmask = match wide {
            Some((a, _, _)) => {
                let b0 = (a >> 2) % BANKS as u32;
                let m9 = (1u64 << WIDE_WORDS) - 1;
                let hi = if b0 == 0 {
                    0
                } else {
                    m9 >> (BANKS as u32 - b0)
                };
                ((m9 << b0) | hi) & ((1 << BANKS) - 1)
            }
            None => 0,
        };
        // hci_arbiter.sv @2a5a508 (vp_interconnect::hci::guard, pinned): narrow = high side
        let sup = m > 0 && cnt >= m;
        let hs_req = nbanks != 0 && !sup;
        cnt = if hs_req && wmask != 0 {
            (cnt + 1) & 0xFF
        } else {
            0
        };
        let narrow_ok = if hs_req { nbanks } else { 0 };
        r.guard_firings += (sup && nbanks != 0) as u64;
        r.side_conflict_cycles += (nbanks & wmask != 0) as u64;
        // --- the wide access: all its banks or none
        if let Some((a, write, posted)) = wide {
            if wmask & narrow_ok == 0 {
                wfig.grant(cycle - posted);
                let b0 = ((a >> 2) % BANKS as u32) as usize;
                for k in 0..WIDE_WORDS as usize {
                    r.bank_accesses[(b0 + k) % BANKS] += 1;
                }
                if write {
                    // vp_traffic wide_request: each word's address mixed with the sequence
                    let idx0 = ((a >> 2) as usize) % WORDS;
                    let sq = (wseq as u32).rotate_left(16);
                    for k in 0..WIDE_WORDS {
                        mem[(idx0 + k as usize) % WORDS] = a.wrapping_add(4 * k) ^ sq;
                    }
                }
                wseq += 1;
                wide = (cycle + 1 < s.duration).then(|| next_wide(cycle + 1));
                wfig.requests += wide.is_some() as u64;
            } else {
                r.wide_wait_cycles += 1;
            }
        }
        // --- the LIC: one rr_arb_tree per requested bank
        let mut conflicts = nbanks & wmask;
        let mut lk = locked & nbanks;
        let requested = nbanks;
        let mut bits = nbanks;
        // the banks of the requests drawn this cycle, posted for the next: (port, bank)
        let mut drawn = [(0usize, 0usize); NARROW];
        let mut nd = 0;
        while bits != 0 {
            let b = bits.trailing_zeros() as usize % BANKS;
            bits &= bits - 1;
            let bit = 1u64 << b;
            let mut req = bank_req[b];
            conflicts |= ((req & req.wrapping_sub(1) != 0) as u64) << b;
            if lk & bit != 0 {
                let l = req & lock_req[b];
                if l != 0 {
                    req = l;
                }
            }
            if narrow_ok & bit == 0 {
                lk |= bit;
                lock_req[b] = req;
                continue;
            }
            let e = lut[(req as usize) << 3 | rr[b] as usize];
            let g = (e & 0xFF) as usize % NARROW;
            rr[b] = (e >> 8) as u8;
            r.bank_accesses[b] += 1;
            let gen = &mut gens[g];
            figs[g].grant(cycle - gen.posted);
            // vp_traffic narrow_request: a write stores the address mixed with the
            // sequence number; a read has no effect (without a branch: it stores to the
            // scratch word past the end)
            let idx = ((gen.addr >> 2) as usize) % WORDS;
            mem[std::hint::select_unpredictable(gen.write, idx, WORDS)] =
                gen.addr ^ ((gen.seq - 1) as u32).rotate_left(16);
            bank_req[b] &= !(1 << g);
            if bank_req[b] == 0 {
                nbanks &= !bit;
            }
            if cycle + 1 < s.duration {
                drawn[nd] = (g, gen.draw(cycle + 1));
                nd += 1;
                figs[g].requests += 1;
            }
        }
        locked = lk & !(requested & narrow_ok);
        for &(g, b) in &drawn[..nd] {
            bank_req[b] |= 1 << g;
            nbanks |= 1 << b;
        }
        while conflicts != 0 {
            let b = conflicts.trailing_zeros() as usize % BANKS;
            conflicts &= conflicts - 1;
            r.bank_conflicts[b] += 1;
        }
        cycle += 1;
    }
    r.narrow = figs.iter().map(Waits::figures).collect();
    r.wide = wfig.figures();
    mem.truncate(WORDS);
    r.tcdm = mem;
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use vp_kernel::tlm::Payload;

    use crate::assembly::{Overrides, Platform};
    use crate::scenario::Loaded;

    const CONTENTION: &str = include_str!("../../scenarios/bench/contention.yaml");

    /// The model's `interconnect` statistics for the benchmark's scenario with `duration`.
    fn model_stats(duration: u64) -> Value {
        let yaml = CONTENTION.replace("duration: 2000000", &format!("duration: {duration}"));
        assert_ne!(yaml, CONTENTION, "the scenario's duration moved");
        let l = Loaded::from_str(&yaml, "contention", Path::new(".")).unwrap();
        let p = Platform::build(&l, &crate::builtin_registry(), &Overrides::default()).unwrap();
        let out = p.run();
        assert!(!out.failed(), "{:?}", out.report.end);
        let mut ic = out.stats["components"]["interconnect"].clone();
        let o = ic.as_object_mut().unwrap();
        o.remove("tcdm");
        o.remove("config");
        // The platform's first wide port is RedMulE's, idle here; `hwpe` is the second.
        let wide = o["wide"].as_object_mut().unwrap();
        let redmule = wide.remove("wide0").unwrap();
        assert_eq!(redmule["requests"], 0);
        let hwpe = wide.remove("wide1").unwrap();
        assert!(wide.is_empty());
        o["wide"] = json!({ "wide0": hwpe });
        ic
    }

    #[test]
    fn the_floor_computes_the_benchmark_scenarios_statistics() {
        // Every statistic of the interconnect, for runs that end in the guard's cycle and
        // out of it, and for an empty run.
        for duration in [0, 1, 7, 3_000, 20_011] {
            let f = run(&FloorSetup::contention(duration));
            let want = model_stats(duration);
            assert_eq!(f.interconnect_json(), want, "duration {duration}");
            if duration > 0 {
                assert!(f.wide.grants > 0 && f.guard_firings > 0 || duration < 10);
            }
        }
    }

    #[test]
    fn the_floor_leaves_the_tcdm_as_the_model_does() {
        // vp_traffic's bench (generators `bench.core0`.. and `bench.hwpe`), other seeds:
        // the words every write left, through the interconnect's TCDM target.
        for seed in [3, 11] {
            let sim = vp_kernel::Sim::new();
            let clock = vp_kernel::Clock::from_mhz(613.0).unwrap();
            let domain = sim.add_clock("cluster", clock);
            let cycles = 5_000;
            let b = vp_traffic::build_contention_bench(
                &sim,
                domain,
                cycles,
                &vp_interconnect::kind(),
                seed,
            )
            .unwrap();
            assert!(!b.run(&sim).end.is_failure());
            let s = |n: &str| vp_kernel::rng::derive_seed(seed, n);
            let f = run(&FloorSetup {
                narrow_seeds: std::array::from_fn(|i| s(&format!("bench.core{i}"))),
                wide_seed: s("bench.hwpe"),
                duration: cycles,
                max_stall: 4,
            });
            assert_eq!(
                b.grants(),
                f.narrow.iter().map(|p| p.grants).sum::<u64>() + f.wide.grants
            );
            let maps = b.interconnect.mappings();
            let m = maps.iter().find(|m| m.base == BASE as u64).unwrap();
            let mut p = Payload::read(0, SIZE as usize);
            assert_eq!(m.target.borrow_mut().debug_transport(&mut p), SIZE as usize);
            let words: Vec<u32> = p
                .data
                .chunks_exact(4)
                .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
                .collect();
            let written = words.iter().filter(|&&w| w != 0).count();
            assert!(written > 1000, "{written}");
            assert!(words == f.tcdm, "seed {seed}: the TCDM differs");
        }
    }
}
