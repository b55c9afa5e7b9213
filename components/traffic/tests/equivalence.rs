//! Behavioural fingerprints of the memory system under heavy traffic, recorded from the
//! model before its hot paths were optimised: any change in arbitration, timing or
//! statistics changes a fingerprint and fails here.
//!
//! Each case runs generators on the interconnect with a monitor (phase `PHASE_MONITOR`)
//! that hashes, every cycle, which ports still hold a request after the interconnect's pass
//! (a posted request that is gone was granted), and at the end the full statistics of the
//! interconnect and of every generator plus a hash of the TCDM contents.
//!
//! The expectations live in `tests/expected/equivalence.json`. They were produced by the
//! code as it was before the optimisation (`VP_WRITE_EXPECT=1 cargo test -p vp-traffic
//! --test equivalence` writes them); they are not derived by hand.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde_json::{json, Map, Value};
use vp_interconnect::{Interconnect, InterconnectConfig, TcdmGeometry};
use vp_kernel::clocked::{Clocked, Next, TickCtx, PHASE_MONITOR};
use vp_kernel::component::ElabCtx;
use vp_kernel::port::{NarrowPort, Port, WidePort};
use vp_kernel::tlm::AddressMap;
use vp_kernel::{Clock, Component, PortRef, RunEnd, Sim};
use vp_traffic::{IntensityMode, Pattern, Traffic, TrafficConfig};

const B: u32 = 0x1000_0000;

fn fnv(h: &mut u64, v: u64) {
    for b in v.to_le_bytes() {
        *h ^= b as u64;
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

/// 1 if `p` holds a request due in `cycle`.
fn held<Q: Copy, D: Copy>(p: &Port<Q, D>, cycle: u64) -> u64 {
    matches!(p.pending_at(cycle), Ok(Some(_))) as u64
}

struct Monitor {
    narrow: Vec<Rc<NarrowPort>>,
    wide: Vec<Rc<WidePort>>,
    hash: Rc<Cell<u64>>,
    /// (cycle, new control register value)
    ctrl_change: Option<(u64, u32)>,
    ctrl: Rc<Cell<u32>>,
    /// Hash every cycle; else only tick for the control register change.
    every_cycle: bool,
}

impl Clocked for Monitor {
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        if !self.every_cycle {
            if let Some((c, v)) = self.ctrl_change {
                if cx.cycle == c {
                    self.ctrl.set(v);
                }
            }
            return Next::Sleep;
        }
        // A request counts as held when it is due this cycle: a generator's grant hook
        // posts its next request ahead, dated for the cycle it issues it in, and that
        // request is not part of this cycle (before the hook existed requests were only
        // ever posted for the current cycle, so this is the same as `busy()` was).
        let mut bits = 0u64;
        for (i, p) in self.narrow.iter().enumerate() {
            bits |= held(p, cx.cycle) << i;
        }
        for (j, p) in self.wide.iter().enumerate() {
            bits |= held(p, cx.cycle) << (48 + j);
        }
        let mut h = self.hash.get();
        fnv(&mut h, cx.cycle);
        fnv(&mut h, bits);
        self.hash.set(h);
        if let Some((c, v)) = self.ctrl_change {
            if cx.cycle == c {
                self.ctrl.set(v);
            }
        }
        Next::Cycle
    }
}

struct Case {
    name: &'static str,
    cfg: InterconnectConfig,
    gens: Vec<TrafficConfig>,
    cycles: u64,
    ctrl_change: Option<(u64, u32)>,
}

/// Run case `c`; with `monitored`, a monitor hashes the ports every cycle (`grant_hash`),
/// else nothing else ticks but the control register change, which lets the interconnect
/// do its passes ahead up to its horizon if `ahead` (`grant_hash` is then left out).
fn run_case(c: &Case, monitored: bool, ahead: bool) -> Value {
    let sim = Sim::new();
    let clock = Clock::from_period_ps(1000);
    let domain = sim.add_clock("clk", clock);
    let mut ic = Interconnect::new("tcdm", c.cfg, clock);
    let mut narrow = Vec::new();
    let mut wide = Vec::new();
    let mut ts = Vec::new();
    for (i, g) in c.gens.iter().enumerate() {
        let mut g = g.clone();
        g.tcdm.banks = c.cfg.geometry.banks;
        let mut t = Traffic::new(format!("g{i}"), g).unwrap();
        match t.config().width {
            vp_traffic::Width::Narrow => {
                let p = ic.narrow_port().unwrap();
                narrow.push(p.clone());
                t.bind("tcdm", PortRef::new("narrow", p)).unwrap();
            }
            vp_traffic::Width::Wide => {
                let p = ic.wide_port().unwrap();
                wide.push(p.clone());
                t.bind("wide", PortRef::new("wide", p)).unwrap();
            }
        }
        ts.push(t);
    }
    let bus = Rc::new(AddressMap::new());
    let mut cx = ElabCtx {
        sim: &sim,
        domain,
        clock,
        bus: &bus,
    };
    ic.elaborate(&mut cx).unwrap();
    ic.set_passes_ahead(ahead);
    for t in ts.iter_mut() {
        t.elaborate(&mut cx).unwrap();
    }
    let hash = Rc::new(Cell::new(0xcbf2_9ce4_8422_2325u64));
    let mon = Rc::new(RefCell::new(Monitor {
        narrow,
        wide,
        hash: hash.clone(),
        ctrl_change: c.ctrl_change,
        ctrl: ic.hci_ctrl(),
        every_cycle: monitored,
    }));
    let w = sim.add_clocked(domain, "monitor", PHASE_MONITOR, true, mon);
    match (monitored, c.ctrl_change) {
        (true, _) => w.at(0),
        (false, Some((at, _))) => w.at(at),
        (false, None) => {}
    }
    let r = sim.run(Some(clock.time_of(c.cycles + 64)));
    assert!(
        matches!(r.end, RunEnd::Finished | RunEnd::Limit),
        "{}: {:?}",
        c.name,
        r.end
    );
    let mut th = 0xcbf2_9ce4_8422_2325u64;
    let tcdm = ic.tcdm();
    let g = tcdm.geometry();
    for k in 0..g.size / 4 {
        fnv(&mut th, tcdm.read_word(g.base + 4 * k) as u64);
    }
    let mut gens = Map::new();
    for t in &ts {
        gens.insert(t.name().to_string(), t.stats());
    }
    let mut v = json!({
        "grant_hash": format!("{:016x}", hash.get()),
        "tcdm_hash": format!("{th:016x}"),
        "end": format!("{:?}", r.end),
        "end_time_ps": r.time.0,
        "interconnect": ic.stats(),
        "generators": Value::Object(gens),
    });
    if !monitored {
        if let Value::Object(m) = &mut v {
            m.remove("grant_hash");
            m.insert("activations".into(), json!(r.activations));
        }
    }
    v
}

fn narrow(pattern: Pattern, seed: u64, cycles: u64) -> TrafficConfig {
    let mut c = TrafficConfig::narrow(pattern, seed);
    c.write_ratio = 0.25;
    c.count = None;
    c.duration = Some(cycles);
    c
}

fn wide(pattern: Pattern, words: u8, seed: u64, cycles: u64) -> TrafficConfig {
    let mut c = TrafficConfig::wide(pattern, words, seed);
    c.write_ratio = 0.1;
    c.count = None;
    c.duration = Some(cycles);
    c
}

/// The contention bench's mix: 8 random narrow + 1 sequential wide of `words` words.
fn bench_mix(cycles: u64, words: u8, seed: u64) -> Vec<TrafficConfig> {
    let mut v: Vec<TrafficConfig> = (0..8)
        .map(|i| narrow(Pattern::Random, seed * 100 + i, cycles))
        .collect();
    v.push(wide(Pattern::Sequential, words, seed * 100 + 99, cycles));
    v
}

fn cfg(max_stall: u8) -> InterconnectConfig {
    InterconnectConfig {
        max_stall,
        ..InterconnectConfig::default()
    }
}

fn cases() -> Vec<Case> {
    let n = 20_000;
    let mut v = vec![
        Case {
            name: "bench_stall4",
            cfg: cfg(4),
            gens: bench_mix(n, 9, 1),
            cycles: n,
            ctrl_change: None,
        },
        Case {
            name: "bench_stall0",
            cfg: cfg(0),
            gens: bench_mix(n, 9, 2),
            cycles: n,
            ctrl_change: None,
        },
        Case {
            name: "bench_stall16",
            cfg: cfg(16),
            gens: bench_mix(n, 9, 3),
            cycles: n,
            ctrl_change: None,
        },
        Case {
            name: "v2_4_stall4",
            cfg: InterconnectConfig {
                variant: vp_interconnect::HciVariant::V2_4,
                ..cfg(4)
            },
            gens: bench_mix(n, 9, 4),
            cycles: n,
            ctrl_change: None,
        },
        Case {
            name: "v2_4_prio_3_7",
            cfg: InterconnectConfig {
                variant: vp_interconnect::HciVariant::V2_4,
                prio: Some((3, 7)),
                ..cfg(0)
            },
            gens: bench_mix(n, 9, 5),
            cycles: n,
            ctrl_change: None,
        },
        Case {
            name: "invert_prio",
            cfg: InterconnectConfig {
                invert_prio: true,
                ..cfg(4)
            },
            gens: bench_mix(n, 9, 6),
            cycles: n,
            ctrl_change: None,
        },
        Case {
            name: "runtime_ctrl",
            cfg: cfg(0),
            gens: bench_mix(n, 9, 7),
            cycles: n,
            // low_prio_max_stall 2 and invert_prio from cycle 7000
            ctrl_change: Some((7000, 2 | vp_interconnect::ctrl_bits::INVERT_PRIO)),
        },
        Case {
            name: "v2_4_runtime_ctrl",
            cfg: InterconnectConfig {
                variant: vp_interconnect::HciVariant::V2_4,
                ..cfg(8)
            },
            gens: bench_mix(n, 9, 8),
            cycles: n,
            ctrl_change: Some((5000, 3)),
        },
    ];
    for (banks, words) in [(8u32, 4u8), (32, 9), (64, 16)] {
        let geometry = TcdmGeometry {
            banks,
            ..TcdmGeometry::default()
        };
        v.push(Case {
            name: match banks {
                8 => "banks8",
                32 => "banks32",
                _ => "banks64",
            },
            cfg: InterconnectConfig {
                geometry,
                wide_words: words,
                ..cfg(4)
            },
            gens: bench_mix(n, words, banks as u64),
            cycles: n,
            ctrl_change: None,
        });
    }
    // A mixed bag: partial intensities (both modes), strided, hammers, two wide ports,
    // a narrow port count that is not a power of two.
    let mut gens = Vec::new();
    for i in 0..5u64 {
        let mut g = narrow(Pattern::Random, 500 + i, n);
        g.intensity = 0.3 + 0.1 * i as f64;
        if i % 2 == 1 {
            g.mode = IntensityMode::Rate;
        }
        gens.push(g);
    }
    gens.push(narrow(Pattern::Strided { stride: 20 }, 510, n));
    gens.push(narrow(Pattern::HammerAddress { addr: B + 0x40 }, 511, n));
    gens.push(narrow(Pattern::HammerBank { bank: 3 }, 512, n));
    let mut g = narrow(Pattern::Random, 513, n);
    g.range = (B + 0x1000, 0x200);
    g.start = 100;
    gens.push(g);
    let mut w = wide(Pattern::Sequential, 9, 520, n);
    w.intensity = 0.7;
    gens.push(w);
    let mut w = wide(Pattern::Strided { stride: 0x124 }, 5, 521, n);
    w.count = Some(3000);
    gens.push(w);
    v.push(Case {
        name: "mixed",
        cfg: cfg(3),
        gens,
        cycles: n,
        ctrl_change: None,
    });
    // one narrow initiator: the lone-requester case
    v.push(Case {
        name: "lone_narrow",
        cfg: cfg(4),
        gens: vec![narrow(Pattern::Random, 600, 5000)],
        cycles: 5000,
        ctrl_change: None,
    });
    v
}

/// xorshift64*: the random configurations' own stream.
use vp_kernel::testkit::XorShift as Xs;

/// The timing of a random generator of case `k` (run of `n` cycles), drawn in this order:
/// full intensity with chance 1 in `full_one_in` (else 0.1..1), the rate mode with chance 1
/// in 2, a count up to `count_max` with chance 1 in 4 (no draw when `None`: replay lists
/// end by themselves), a duration, a start. Odd cases run past the limit, even ones end
/// before it.
fn draw_timing(
    x: &mut Xs,
    g: &mut TrafficConfig,
    full_one_in: u64,
    count_max: Option<u64>,
    k: u64,
    n: u64,
) {
    g.intensity = if x.below(full_one_in) == 0 {
        1.0
    } else {
        0.1 + 0.9 * x.unit()
    };
    if x.below(2) == 0 {
        g.mode = IntensityMode::Rate;
    }
    g.count = match count_max {
        Some(max) if x.below(4) == 0 => Some(1 + x.below(max)),
        _ => None,
    };
    g.duration = Some(if k % 2 == 1 {
        n / 2 + x.below(2 * n)
    } else {
        n / 4 + x.below(3 * n / 4)
    });
    g.start = match x.below(4) {
        0 if k % 2 == 1 => x.below(500),
        0 => x.below(60),
        _ => 0,
    };
}

/// Random configurations: 1-10 narrow generators of every pattern (replay included),
/// intensities 0.1..1 in both modes, write mixes from none to all, counts, late starts and
/// durations past the run's limit (so statistics are read mid-run), 0-2 wide generators,
/// max_stall 0/4/16, both guard variants, invert_prio, 8/16/32 banks.
fn random_cases() -> Vec<Case> {
    let mut v = Vec::new();
    let mut x = Xs(0x9e37_79b9_7f4a_7c15);
    let n = 3000u64;
    for k in 0..24u64 {
        let banks = [8u32, 16, 32][x.below(3) as usize];
        let geometry = TcdmGeometry {
            banks,
            ..TcdmGeometry::default()
        };
        let wide_words = (1 + x.below(banks.min(16) as u64)) as u8;
        let icfg = InterconnectConfig {
            geometry,
            wide_words,
            variant: if x.below(2) == 0 {
                vp_interconnect::HciVariant::Pinned
            } else {
                vp_interconnect::HciVariant::V2_4
            },
            max_stall: [0u8, 4, 16][x.below(3) as usize],
            invert_prio: x.below(4) == 0,
            prio: None,
        };
        let mut gens = Vec::new();
        let nn = 1 + x.below(10);
        for i in 0..nn {
            let pattern = match x.below(6) {
                0 => Pattern::Sequential,
                1 => Pattern::Strided {
                    stride: 4 * (1 + x.below(40) as u32),
                },
                2 => Pattern::HammerAddress {
                    addr: B + 4 * x.below(64) as u32,
                },
                3 => Pattern::HammerBank {
                    bank: x.below(banks as u64) as u32,
                },
                4 => {
                    let mut t = 0;
                    let mut l = Vec::new();
                    for _ in 0..(50 + x.below(400)) {
                        t += x.below(12);
                        l.push(vp_traffic::ReplayEntry {
                            earliest: t,
                            addr: B + 4 * x.below(4096) as u32,
                            write: x.below(3) == 0,
                            line: 0,
                        });
                    }
                    Pattern::Replay(l)
                }
                _ => Pattern::Random,
            };
            let replay = matches!(pattern, Pattern::Replay(_));
            let mut g = TrafficConfig::narrow(pattern, k * 1000 + i);
            g.write_ratio = [0.0, 0.25, 0.5, 1.0, x.unit()][x.below(5) as usize];
            draw_timing(&mut x, &mut g, 3, (!replay).then_some(2000), k, n);
            gens.push(g);
        }
        for j in 0..x.below(3) {
            let words = (1 + x.below(wide_words as u64)) as u8;
            let pattern = match x.below(3) {
                0 => Pattern::Random,
                1 => Pattern::Strided {
                    stride: 4 * (1 + x.below(100) as u32),
                },
                _ => Pattern::Sequential,
            };
            let mut w = TrafficConfig::wide(pattern, words, k * 1000 + 900 + j);
            w.write_ratio = [0.0, 0.1, 0.5, 1.0][x.below(4) as usize];
            draw_timing(&mut x, &mut w, 2, Some(1000), k, n);
            gens.push(w);
        }
        v.push(Case {
            name: Box::leak(format!("random{k}").into_boxed_str()),
            cfg: icfg,
            gens,
            cycles: n,
            ctrl_change: None,
        });
    }
    v
}

#[test]
fn random_configurations_are_unchanged() {
    check(
        random_cases(),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/expected/equivalence_random.json"
        ),
    );
}

#[test]
fn memory_system_fingerprints_are_unchanged() {
    check(
        cases(),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/expected/equivalence.json"
        ),
    );
}

/// Without the per-cycle monitor the interconnect does its passes ahead (up to its
/// horizon, which the generators' ends and the control register change bound): the run
/// must be the same as with that off, end included, and its memory and statistics the
/// recorded ones (the monitored runs' end differs: the monitor keeps them going).
#[test]
fn passes_done_ahead_change_nothing() {
    for (cases, path) in [
        (
            cases(),
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/expected/equivalence.json"
            ),
        ),
        (
            random_cases(),
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/expected/equivalence_random.json"
            ),
        ),
    ] {
        let want: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let (mut ticks_ahead, mut ticks_off) = (0, 0);
        for c in cases {
            let mut ahead = run_case(&c, false, true);
            let mut off = run_case(&c, false, false);
            let ticks = |v: &mut Value| match v {
                Value::Object(m) => m.remove("activations").unwrap().as_u64().unwrap(),
                _ => unreachable!(),
            };
            let (a, o) = (ticks(&mut ahead), ticks(&mut off));
            assert!(
                a <= o,
                "case {}: {a} ticks with passes ahead, {o} without",
                c.name
            );
            ticks_ahead += a;
            ticks_off += o;
            assert_eq!(ahead, off, "case {}", c.name);
            // Compared as text (see `check`), both sides through the parser.
            let text = |v: &Value| {
                let mut v: Value = serde_json::from_str(&v.to_string()).unwrap();
                if let Value::Object(m) = &mut v {
                    for k in ["grant_hash", "end", "end_time_ps"] {
                        m.remove(k);
                    }
                }
                v.to_string()
            };
            assert_eq!(text(&ahead), text(&want[c.name]), "case {}", c.name);
        }
        // (the passes were done ahead: far fewer ticks)
        assert!(ticks_ahead * 2 < ticks_off, "{ticks_ahead} vs {ticks_off}");
    }
}

fn check(cases: Vec<Case>, path: &str) {
    let mut got = Map::new();
    for c in cases {
        got.insert(c.name.to_string(), run_case(&c, true, true));
    }
    let got = Value::Object(got);
    if std::env::var_os("VP_WRITE_EXPECT").is_some() {
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/expected")).unwrap();
        std::fs::write(path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
        return;
    }
    if let Some(out) = std::env::var_os("VP_DUMP_GOT") {
        std::fs::write(out, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
    }
    // Compared as text: parsing the file back would round floats (serde_json parses
    // floats approximately by default).
    let want = std::fs::read_to_string(path).unwrap();
    let got_text = serde_json::to_string_pretty(&got).unwrap() + "\n";
    if want != got_text {
        let want: Value = serde_json::from_str(&want).unwrap();
        let differing: Vec<&String> = match (&want, &got) {
            (Value::Object(w), Value::Object(g)) => g
                .iter()
                .filter(|(k, v)| {
                    w.get(*k).map(|x| serde_json::to_string(x).unwrap())
                        != Some(serde_json::to_string(v).unwrap())
                })
                .map(|(k, _)| k)
                .collect(),
            _ => Vec::new(),
        };
        panic!("the memory system's behaviour changed; cases differing: {differing:?}");
    }
}
