//! The event unit against event_unit_flex's RTL: scripted cores on the per-core demux ports
//! must be granted in the same cycles and read the same values as on the RTL under
//! Verilator.
//!
//! The RTL is not part of this repository. To run it: fetch pulp-platform/event_unit_flex
//! (28e0499, as pulp_cluster pins it) and pulp-platform/pulp_cluster, then
//! `components/event_unit/tests/rtl/build.sh EU_CHECKOUT CLUSTER_CHECKOUT OUT` and set
//! `EVENT_UNIT_SIM=OUT/sim`. Without it the test says it was skipped.
//!
//! A scripted core issues its accesses in order, one per cycle at most, each not before
//! its own cycle: the RTL testbench (rtl/eu_tb.cpp) holds the request until the grant, the
//! model's core re-issues a load answered Incomplete when woken, and collects a load's
//! settled data in the cycle after its grant, as the cores do. What is compared is the
//! cycle of each grant (the model's: the settling load's grant, or of the access that
//! completed, plus the delay it annotated) and each load's data, whatever other cores did
//! in the same cycle; accesses still waiting at the end count as such on both.
//!
//! The directed scripts must agree (a software event, a barrier of all cores twice, the
//! mutex, dispatch, an accelerator event), and so must random scripts
//! (`EVENT_UNIT_RUNS`, 200 of each kind by default): software events, waits, mask
//! changes, buffer clears and accelerator events, alone and with mutex locks and unlocks
//! at random, barrier phases, dispatch phases, all of them; and cores taking turns on the
//! mutex as firmware does. None of 6,000 of each differs. The test prints how many differ
//! of each kind; `EVENT_UNIT_SHOW=K` prints script K and both outcomes.

mod common;
use std::path::Path;

use common::{script_core, Op as CoreOp};

use vp_kernel::port::EventsRef;
use vp_kernel::testkit::{env_count, pipe_through, rtl_sim, TestBench, XorShift};

const DX: u32 = 0x1020_4000;
/// Cycles both sides run (a script's accesses all start well before).
const HORIZON: u64 = 2_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    R(u32),
    W(u32, u32),
}

/// A script: per core, (not before this cycle, access); accelerator events (cycle, core,
/// line 0..3 = event 12..15).
#[derive(Clone, Debug, Default)]
struct Script {
    cores: Vec<Vec<(u64, Op)>>,
    events: Vec<(u64, u32, u32)>,
}

/// Per core, per access in order: (grant cycle, data read); missing at the end: never
/// granted.
type Outcome = Vec<Vec<(u64, u32)>>;

impl Script {
    fn new() -> Script {
        Script {
            cores: vec![vec![]; 8],
            events: vec![],
        }
    }
    fn text(&self) -> String {
        let mut s = String::new();
        for (c, ops) in self.cores.iter().enumerate() {
            for &(at, op) in ops {
                s += &match op {
                    Op::R(a) => format!("{c} {at} R {a:08x}\n"),
                    Op::W(a, d) => format!("{c} {at} W {a:08x} {d:x}\n"),
                };
            }
        }
        for &(at, c, l) in &self.events {
            s += &format!("- {at} E {c} {l}\n");
        }
        s
    }
}

fn model(s: &Script) -> Outcome {
    let tb = TestBench::new(100.0);
    let mut eu = tb
        .build(&vp_event_unit::kinds()[0], "event_unit", "")
        .unwrap();
    let bus = tb.elaborate(&mut [eu.as_mut()]).unwrap();
    let events = eu.export("events").unwrap();
    let events = events.get::<EventsRef>("events").unwrap();
    let logs: Vec<_> = s
        .cores
        .iter()
        .enumerate()
        .map(|(c, ops)| {
            // each access not before its cycle
            let ops: Vec<CoreOp> = ops
                .iter()
                .flat_map(|&(at, op)| {
                    let op = match op {
                        Op::R(a) => CoreOp::R(a as u64),
                        Op::W(a, d) => CoreOp::W(a as u64, d),
                    };
                    [CoreOp::Until(at), op]
                })
                .collect();
            script_core(&tb.sim, tb.domain, tb.clock, &bus, c as u32, &ops)
        })
        .collect();
    for &(at, c, l) in &s.events {
        events.0.raise(1 << c, 12 + l, at);
    }
    tb.sim.run(Some(tb.clock.time_of(HORIZON)));
    logs.iter()
        .map(|l| l.accesses().iter().map(|a| (a.cycle, a.data)).collect())
        .collect()
}

/// The RTL's outcome, and the cycle of each access's first request.
fn rtl(sim: &Path, s: &Script) -> Outcome {
    let out = pipe_through(sim, s.text());
    assert!(out.status.success(), "{}: {}", sim.display(), out.status);
    let mut o: Outcome = vec![vec![]; 8];
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(1) == Some(&"STUCK") {
            continue;
        }
        let c: usize = f[0].parse().unwrap();
        let gnt: u64 = f[2].parse().unwrap();
        let data = u32::from_str_radix(f[4], 16).unwrap();
        o[c].push((gnt, data));
    }
    // reads only carry data
    for (c, ops) in s.cores.iter().enumerate() {
        for (k, r) in o[c].iter_mut().enumerate() {
            if matches!(ops[k].1, Op::W(..)) {
                r.1 = 0;
            }
        }
    }
    o
}

/// Kinds of random scripts, besides the software events, waits, masks and buffer clears
/// every script has: mutex locks and unlocks, barrier phases, dispatch phases.
const MUTEX: u32 = 1;
const BARRIER: u32 = 2;
const DISPATCH: u32 = 4;

/// A random script: masks, then per core accesses at random cycles (software events,
/// waits, masks, buffer clears, with `kinds`: the mutex), with `kinds`: phases in which
/// all cores arrive at barrier 0, and in which core 0 dispatches to the team.
// (per-core loops index the script and the cores' cycles alike)
#[allow(clippy::needless_range_loop)]
fn random(seed: u64, kinds: u32) -> Script {
    let mut g = XorShift(seed);
    let mut s = Script::new();
    let team = 0xFFu32;
    s.cores[0].push((0, Op::W(DX + 0x200, team))); // barrier 0 trigger mask
    s.cores[0].push((0, Op::W(DX + 0x20C, team))); // target mask
    s.cores[0].push((0, Op::W(DX + 0x84, team & !1))); // dispatch team: cores 1..7
    for c in 0..8 {
        let mask = (g.next_u64() as u32 & 0xFF) | 1 << 12 | 1 << 16 | 1 << 18;
        s.cores[c].push((0, Op::W(DX + 0x08, mask)));
        if g.below(2) == 0 {
            s.cores[c].push((0, Op::W(DX + 0x08, 1 << 17)));
        }
    }
    let mut at = [4u64; 8];
    for phase in 0..3 {
        for c in 0..8 {
            for _ in 0..g.below(6) {
                at[c] += g.below(5);
                let mut k = g.below(11);
                if kinds & MUTEX == 0 && (k == 8 || k == 9) {
                    k = 10;
                }
                let op = match k {
                    0 => Op::R(DX + 0x1C),
                    1 => Op::R(DX + 0x38),
                    2 => Op::R(DX + 0x3C),
                    3 => Op::W(DX + 0x28, g.next_u64() as u32 & 0xFF),
                    4 | 5 => Op::W(
                        DX + 0x100 + 4 * g.below(8) as u32,
                        g.next_u64() as u32 & 0xFF,
                    ),
                    6 => Op::W(DX + 0x08, 1 << g.below(8)),
                    7 => Op::W(DX + 0x04, 1 << g.below(8)),
                    8 => Op::R(DX + 0xC0),
                    9 => Op::W(DX + 0xC0, g.next_u64() as u32),
                    _ => Op::R(DX + 0x18),
                };
                s.cores[c].push((at[c], op));
            }
            if g.below(3) == 0 {
                s.events.push((at[c] + g.below(20), c as u32, 0));
            }
        }
        // everybody arrives at barrier 0 (wait-clear, or arrive-and-go for some)
        for c in (0..8).filter(|_| kinds & BARRIER != 0) {
            at[c] += g.below(8);
            let a = if g.below(4) == 0 { 0x214 } else { 0x21C };
            s.cores[c].push((at[c], Op::R(DX + a)));
        }
        // core 0 dispatches a value per phase; the team pops it
        if phase < 2 && kinds & DISPATCH != 0 {
            at[0] += g.below(6);
            s.cores[0].push((at[0], Op::W(DX + 0x80, 0x100 + phase)));
            for c in 1..8 {
                at[c] += g.below(6);
                s.cores[c].push((at[c], Op::R(DX + 0x80)));
            }
        }
    }
    s
}

/// A random script of cores using the mutex as firmware does: each waits on the mutex
/// event alone, locks, does a few writes (software events, buffer clears), and unlocks
/// with a message, a few times, at random cycles.
fn random_mutex_protocol(seed: u64) -> Script {
    let mut g = XorShift(seed);
    let mut s = Script::new();
    for c in 0..8 {
        s.cores[c].push((0, Op::W(DX, 1 << 17)));
        let mut at = g.below(10);
        for _ in 0..1 + g.below(3) {
            s.cores[c].push((at, Op::R(DX + 0xC0)));
            for _ in 0..g.below(4) {
                let op = match g.below(2) {
                    0 => Op::W(
                        DX + 0x100 + 4 * g.below(8) as u32,
                        g.next_u64() as u32 & 0xFF,
                    ),
                    _ => Op::W(DX + 0x28, g.next_u64() as u32 & 0xFF),
                };
                s.cores[c].push((0, op));
            }
            s.cores[c].push((0, Op::W(DX + 0xC0, g.next_u64() as u32)));
            at += g.below(30);
        }
    }
    s
}

/// Directed scripts (the model's tests in event_unit.rs, in this form).
fn directed() -> Vec<(&'static str, Script)> {
    let mut v = vec![];
    let mut s = Script::new();
    s.cores[0] = vec![
        (0, Op::W(DX + 0x08, 1 << 3)),
        (0, Op::R(DX + 0x38)),
        (0, Op::R(DX + 0x1C)),
    ];
    s.cores[1] = vec![(10, Op::W(DX + 0x10C, 1))];
    v.push(("software event", s.clone()));
    // the waiting core after the triggering one in port order
    s.cores.swap(0, 1);
    s.cores[0][0].1 = Op::W(DX + 0x10C, 2);
    v.push(("software event, waiting core 1", s));
    let mut s = Script::new();
    for c in 0..8 {
        if c == 0 {
            s.cores[0].extend([(0, Op::W(DX + 0x200, 0xFF)), (0, Op::W(DX + 0x20C, 0xFF))]);
        }
        s.cores[c].extend([
            (0, Op::W(DX + 0x08, 1 << 16)),
            (10 + 3 * c as u64, Op::R(DX + 0x21C)),
            (100, Op::R(DX + 0x21C)),
            (100, Op::R(DX + 0x1C)),
        ]);
    }
    v.push(("barrier, all cores", s));
    let mut s = Script::new();
    s.cores[0] = vec![
        (0, Op::W(DX + 0x08, 1 << 17)),
        (0, Op::R(DX + 0xC0)),
        (20, Op::W(DX + 0xC0, 0x55)),
    ];
    s.cores[1] = vec![
        (0, Op::W(DX + 0x08, 1 << 17)),
        (5, Op::R(DX + 0xC0)),
        (5, Op::W(DX + 0xC0, 0x66)),
    ];
    v.push(("mutex", s));
    let mut s = Script::new();
    s.cores[0] = vec![
        (0, Op::W(DX + 0x84, 0b110)),
        (10, Op::W(DX + 0x80, 0xAA)),
        (10, Op::W(DX + 0x80, 0xBB)),
    ];
    // (one pop each: the second pop's cycle is not modelled yet, see above)
    for c in 1..3 {
        s.cores[c] = vec![(0, Op::W(DX + 0x08, 1 << 18)), (0, Op::R(DX + 0x80))];
    }
    v.push(("dispatch", s));
    let mut s = Script::new();
    s.cores[0] = vec![
        (0, Op::W(DX + 0x08, 1 << 12)),
        (0, Op::R(DX + 0x1C)),
        (0, Op::R(DX + 0x3C)),
        (0, Op::R(DX + 0x1C)),
    ];
    s.events = vec![(40, 0, 0)];
    v.push(("accelerator event", s));
    v
}

#[test]
fn scripted_cores_are_granted_as_on_the_rtl() {
    let var = "EVENT_UNIT_SIM";
    let Some(sim) = rtl_sim(var, "components/event_unit/tests/rtl/build.sh") else {
        return;
    };
    let runs = env_count("EVENT_UNIT_RUNS", 200);
    let mut scripts = directed();
    for seed in 1..=runs {
        for (name, kinds) in [
            ("random: events", 0),
            ("random: events, mutex", MUTEX),
            ("random: events, barriers", BARRIER),
            ("random: events, dispatch", DISPATCH),
            ("random: all", MUTEX | BARRIER | DISPATCH),
        ] {
            scripts.push((name, random(seed, kinds)));
        }
        scripts.push(("random: mutex protocol", random_mutex_protocol(seed)));
    }
    let mut failures = vec![];
    let mut by_kind: std::collections::BTreeMap<&str, (u32, u32)> = Default::default();
    for (k, (name, s)) in scripts.iter().enumerate() {
        let (m, r) = (model(s), rtl(&sim, s));
        if std::env::var("EVENT_UNIT_SHOW").is_ok_and(|v| v == k.to_string()) {
            eprintln!("{}", s.text());
            for c in 0..8 {
                eprintln!("core {c}\n  model {:?}\n  RTL   {:?}", m[c], r[c]);
            }
        }
        let e = by_kind.entry(name).or_default();
        e.0 += 1;
        if m != r {
            e.1 += 1;
            let c = (0..8).find(|&c| m[c] != r[c]).unwrap();
            failures.push(format!(
                "script {k} ({name}), core {c}:\n  ops   {:?}\n  model {:?}\n  RTL   {:?}",
                s.cores[c], m[c], r[c]
            ));
        }
    }
    for (name, (n, bad)) in &by_kind {
        eprintln!("{name}: {bad} of {n} differ");
    }
    assert!(
        failures.is_empty(),
        "{} of {} scripts differ:\n{}",
        failures.len(),
        scripts.len(),
        failures.join("\n")
    );
}
