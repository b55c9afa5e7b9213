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
//! * 16 banks, 128 KiB in all;
//! * the pinned starvation guard.
//!
//! The rules it restates are cited where the model has them: the generators'
//! draws (vp_traffic: `random_request`, `Gen::next_access`, `wide_request`), the pass
//! (vp_interconnect::hci: `Hci::pass`, `guard`).

use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde_json::Value;
use vp_interconnect::hci::{arb_lut, arbiter, wide_mask_from, HciSettings, Waits};
use vp_interconnect::HciVariant;
use vp_interconnect::Stats;

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
    /// The guard's `low_prio_max_stall` (the register's 8 bits).
    pub max_stall: u8,
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

/// What a run computed.
#[derive(Clone, Debug)]
pub struct FloorResult {
    /// The interconnect's statistics (its narrow ports in order, then the wide port).
    pub stats: Stats,
    /// The TCDM's words at the end.
    pub tcdm: Vec<u32>,
}

impl FloorResult {
    /// The statistics in the model's JSON layout (`--stats json`'s `interconnect` entry
    /// without its configuration; the wide port named `wide0`), for comparing with it.
    pub fn interconnect_json(&self) -> Value {
        let narrow: Vec<String> = (0..NARROW).map(|i| format!("narrow{i}")).collect();
        self.stats.to_json(&narrow, &["wide0".to_string()])
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
    // rr_arb_tree of 8 ports (3 levels): entry `req << 3 | rr` = grant | next rr << 8
    let lut = arb_lut(3);
    const WIDE_THR: u64 = write_threshold(0.1);
    // the TCDM's words and a scratch word
    let mut mem = vec![0u32; WORDS + 1];
    // statistics: per bank, and the cycle counts
    let mut acc = [0u64; BANKS];
    let mut conf = [0u64; BANKS];
    let (mut active, mut fired_n, mut side, mut wide_wait) = (0u64, 0u64, 0u64, 0u64);
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
    }
    let mut rr = [0u8; BANKS];
    let mut locked = 0u64;
    let mut lock_req = [0u64; BANKS];
    // the pinned guard, and its counter
    let set = HciSettings {
        variant: HciVariant::Pinned,
        prio: None,
        wide_words: WIDE_WORDS as u8,
    };
    let ctrl = s.max_stall as u32;
    let mut cnt = 0u16;
    let mut cycle = 0u64;
    while nbanks != 0 || wide.is_some() {
        active += 1;
        let wmask = match wide {
            Some((a, _, _)) => wide_mask_from(
                (a >> 2) % BANKS as u32,
                WIDE_WORDS as u8,
                BANKS as u32,
                (1 << BANKS) - 1,
            ),
            None => 0,
        };
        // hci_arbiter.sv: the narrow side is the high one (no invert_prio in `ctrl`)
        let (narrow_ok, _, fired) = arbiter(set, ctrl, &mut cnt, nbanks, wmask);
        fired_n += fired as u64;
        side += (nbanks & wmask != 0) as u64;
        // --- the wide access: all its banks or none
        if let Some((a, write, posted)) = wide {
            if wmask & narrow_ok == 0 {
                wfig.add(cycle - posted);
                let b0 = ((a >> 2) % BANKS as u32) as usize;
                for k in 0..WIDE_WORDS as usize {
                    acc[(b0 + k) % BANKS] += 1;
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
            } else {
                wide_wait += 1;
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
            acc[b] += 1;
            let gen = &mut gens[g];
            figs[g].add(cycle - gen.posted);
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
            conf[b] += 1;
        }
        cycle += 1;
    }
    mem.truncate(WORDS);
    FloorResult {
        // (every request drawn was posted, seen and granted)
        stats: Stats {
            active_cycles: active,
            bank_accesses: acc.to_vec(),
            bank_conflicts: conf.to_vec(),
            narrow: (0..NARROW)
                .map(|i| figs[i].port_stats(gens[i].seq))
                .collect(),
            wide: vec![wfig.port_stats(wseq)],
            wide_wait_cycles: wide_wait,
            guard_firings: fired_n,
            side_conflict_cycles: side,
        },
        tcdm: mem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
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
                assert!(f.stats.wide[0].grants > 0 && f.stats.guard_firings > 0 || duration < 10);
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
                f.stats
                    .narrow
                    .iter()
                    .chain(&f.stats.wide)
                    .map(|p| p.grants)
                    .sum::<u64>()
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
