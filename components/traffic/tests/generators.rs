//! Traffic generators on the interconnect, with expected cycles derived by hand.

use std::path::Path;
use std::rc::Rc;

use vp_interconnect::{Interconnect, InterconnectConfig};
use vp_kernel::component::{parse_params, ElabCtx};
use vp_kernel::tlm::AddressMap;
use vp_kernel::{BuildCtx, Clock, Component, RunEnd, Sim};
use vp_traffic::{
    build_contention_bench, IntensityMode, Pattern, Traffic, TrafficConfig, TrafficParams,
    TrafficStats,
};

const B: u32 = 0x1000_0000;

/// A Sim, a clock, the default interconnect and the given generators (name, config).
fn run(gens: Vec<(&str, TrafficConfig)>) -> (Vec<TrafficStats>, Interconnect, RunEnd) {
    let sim = Sim::new();
    let clock = Clock::from_period_ps(1000);
    let domain = sim.add_clock("clk", clock);
    let mut ic = Interconnect::new("tcdm", InterconnectConfig::default(), clock);
    let mut ts = Vec::new();
    for (name, cfg) in gens {
        let mut t = Traffic::new(name, cfg).unwrap();
        let port = match t.config().width {
            vp_traffic::Width::Narrow => ("tcdm", ic.export("narrow").unwrap()),
            vp_traffic::Width::Wide => ("wide", ic.export("wide").unwrap()),
        };
        t.bind(port.0, port.1).unwrap();
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
    for t in ts.iter_mut() {
        t.elaborate(&mut cx).unwrap();
    }
    let r = sim.run(Some(clock.time_of(1_000_000)));
    assert!(ts.iter().all(|t| t.is_done()));
    (ts.iter().map(|t| t.stats_raw()).collect(), ic, r.end)
}

fn hammer(addr: u32, count: u64) -> TrafficConfig {
    let mut c = TrafficConfig::narrow(Pattern::HammerAddress { addr }, 1);
    c.count = Some(count);
    c
}

#[test]
fn two_hammers_on_one_bank_alternate_and_the_run_ends() {
    // Same bank (0), 10 requests each, issued back-to-back after each grant. The round
    // robin alternates: generator 0 granted at 0,2,..,18, generator 1 at 1,3,..,19.
    // Generator 0: first request waits 0, the other 9 wait 1 (presented at g+1 when it is
    // the other's turn): stall 9, latencies 1 + 9 x 2 = 19 -> mean 1.9, max 2.
    // Generator 1: every request waits 1: stall 10, mean latency 2.
    let (s, _, end) = run(vec![("g0", hammer(B, 10)), ("g1", hammer(B + 0x40, 10))]);
    assert_eq!(end, RunEnd::Finished);
    assert_eq!(
        (s[0].grants, s[0].stall_cycles, s[0].latency_max),
        (10, 9, 2)
    );
    assert_eq!(s[0].latency_mean(), 1.9);
    assert_eq!(s[0].last_grant, Some(18));
    assert_eq!(
        (s[1].grants, s[1].stall_cycles, s[1].latency_max),
        (10, 10, 2)
    );
    assert_eq!(s[1].latency_mean(), 2.0);
    assert_eq!(s[1].last_grant, Some(19));
}

#[test]
fn strided_generators_on_their_own_banks_never_stall() {
    // Generator i starts at bank i and strides by 16 banks * 4 bytes: it stays in bank i.
    // Eight of them never meet: 100 grants each at cycles 0..99, no stall, latency 1.
    let gens: Vec<(String, TrafficConfig)> = (0..8)
        .map(|i| {
            let mut c = TrafficConfig::narrow(Pattern::Strided { stride: 64 }, 1);
            c.range = (B + 4 * i, 0x1000);
            c.count = Some(100);
            (format!("g{i}"), c)
        })
        .collect();
    let (s, ic, _) = run(gens.iter().map(|(n, c)| (n.as_str(), c.clone())).collect());
    for st in &s {
        assert_eq!((st.grants, st.stall_cycles, st.latency_max), (100, 0, 1));
        assert_eq!(st.last_grant, Some(99));
    }
    let banks = ic.stats_raw().unwrap().bank_accesses;
    assert_eq!(&banks[..8], &[100; 8]);
    assert_eq!(&banks[8..], &[0; 8]);
}

#[test]
fn a_wide_stream_alone_sustains_one_access_per_cycle() {
    let mut c = TrafficConfig::wide(Pattern::Sequential, 9, 1);
    c.count = Some(50);
    let (s, ic, _) = run(vec![("hwpe", c)]);
    assert_eq!(
        (s[0].grants, s[0].stall_cycles, s[0].last_grant),
        (50, 0, Some(49))
    );
    // 50 x 9 = 450 word accesses spread over the 16 banks
    assert_eq!(
        ic.stats_raw().unwrap().bank_accesses.iter().sum::<u64>(),
        450
    );
}

#[test]
fn rate_mode_issues_at_the_configured_fraction_of_cycles() {
    // intensity 0.5, rate mode: acc += 0.5 per free cycle, issue when acc >= 1:
    // cycle 0: 0.5 no; 1: 1.0 issue (granted at once); 2: 0.5 no; 3: issue; ... 10 requests
    // at cycles 1, 3, ..., 19.
    let mut c = TrafficConfig::narrow(Pattern::Sequential, 1);
    c.intensity = 0.5;
    c.mode = IntensityMode::Rate;
    c.count = Some(10);
    let (s, _, _) = run(vec![("g", c)]);
    assert_eq!((s[0].first_issue, s[0].last_grant), (Some(1), Some(19)));
}

#[test]
fn duration_and_start_bound_the_run() {
    // start 100, duration 20: requests at cycles 100..119 (one per cycle, never refused).
    let mut c = TrafficConfig::narrow(Pattern::Random, 1);
    c.count = None;
    c.start = 100;
    c.duration = Some(20);
    c.write_ratio = 0.5;
    let (s, _, _) = run(vec![("g", c)]);
    assert_eq!(
        (s[0].requests, s[0].first_issue, s[0].last_grant),
        (20, Some(100), Some(119))
    );
    assert_eq!(s[0].reads + s[0].writes, 20);
    assert!(s[0].writes > 0 && s[0].reads > 0);
}

fn ctx_run<T>(dir: &Path, f: impl FnOnce(&BuildCtx<'_>) -> T) -> T {
    let sim = Sim::new();
    let clock = Clock::from_period_ps(1000);
    let pf = serde_json::Value::Null;
    let ctx = BuildCtx {
        sim: &sim,
        domain: sim.add_clock("clk", clock),
        clock,
        seed: 42,
        cores: 8,
        tcdm_base: B,
        tcdm_size: 128 * 1024,
        tcdm_banks: 16,
        platform: &pf,
        base_dir: dir,
    };
    f(&ctx)
}

fn build(yaml: &str, dir: &Path) -> Result<Traffic, String> {
    ctx_run(dir, |ctx| {
        Traffic::build(ctx, "cluster.gen", &serde_yaml::from_str(yaml).unwrap())
    })
}

#[test]
fn replay_presents_each_request_at_the_later_of_its_cycle_and_the_last_grant_plus_one() {
    // Requests: #0 earliest 5, #1 earliest 0 (-> presented at 6, after #0's grant at 5),
    // #2 earliest 20 (write), #3 earliest 20 (-> 21). Alone on the TCDM: grants 5, 6, 20, 21.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(
        dir.join("replay0.csv"),
        "index,cycle_issued_earliest,address,we\n0,5,0x10000000,0\n1,0,10000004,0\n\
         2,20,0x10000040,1\n3,20,0x10000044,0\n",
    )
    .unwrap();
    let t = build("pattern: replay\nfile: replay0.csv", dir).unwrap();
    let cfg = t.config().clone();
    let (s, ic, _) = run(vec![("r", cfg)]);
    assert_eq!((s[0].requests, s[0].writes), (4, 1));
    assert_eq!((s[0].first_issue, s[0].last_grant), (Some(5), Some(21)));
    assert_eq!(s[0].latency_max, 1);
    // the write of request #2 landed: data = addr ^ rotl(seq = 2, 16)
    assert_eq!(ic.tcdm().read_word(0x1000_0040), 0x1000_0040 ^ (2u32 << 16));
}

#[test]
fn bad_params_are_errors_naming_the_field() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let err = |y: &str| match build(y, dir) {
        Err(e) => e,
        Ok(_) => panic!("accepted: {y}"),
    };
    assert!(err("intensity: 1.5").contains("intensity"));
    assert!(err("intensity: 0").contains("intensity"));
    assert!(err("write_ratio: -1").contains("write_ratio"));
    assert!(err("width: medium").contains("width"));
    assert!(err("pattern: zigzag").contains("pattern"));
    assert!(err("pattern: strided").contains("stride"));
    assert!(err("pattern: strided\nstride: 6").contains("stride"));
    assert!(err("stride: 8").contains("stride"));
    assert!(err("pattern: hammer").contains("address"));
    assert!(err("pattern: hammer\naddress: 0x20000000").contains("address"));
    assert!(err("pattern: hammer\nbank: 16").contains("bank"));
    assert!(err("range: {base: 0x10000000, size: 0x40000}").contains("range"));
    assert!(err("range: {base: 0x0, size: 0x40}").contains("range"));
    assert!(err("width: wide\nwords: 17").contains("words"));
    assert!(err("words: 4").contains("words"));
    assert!(err("pattern: replay").contains("file"));
    assert!(err("pattern: replay\nfile: nope.csv").contains("file"));
    assert!(err("intensity_mode: sometimes").contains("intensity_mode"));
    assert!(err("colour: red").contains("colour"));
    std::fs::write(
        dir.join("bad.csv"),
        "index,cycle_issued_earliest,address,we\n0,1,0x10,0\n",
    )
    .unwrap();
    assert!(err("pattern: replay\nfile: bad.csv").contains("file"));
    // the request outside the TCDM is named by its line (a comment and a blank line before it)
    std::fs::write(
        dir.join("bad3.csv"),
        "# trace\nindex,cycle_issued_earliest,address,we\n0,1,0x10000000,0\n\n1,2,0x10000002,1\n",
    )
    .unwrap();
    let e = err("pattern: replay\nfile: bad3.csv");
    assert!(e.contains("file: line 5: address 0x10000002"), "{e}");
    std::fs::write(dir.join("bad2.csv"), "idx,cycle,address,we\n").unwrap();
    assert!(err("pattern: replay\nfile: bad2.csv").contains("header"));
}

#[test]
fn yaml_params_resolve_with_defaults_and_the_component_seed() {
    let dir = Path::new(".");
    let t = build(
        "width: wide\npattern: random\nwrite_ratio: 0.25\nduration: 100",
        dir,
    )
    .unwrap();
    let c = t.config();
    assert_eq!((c.words, c.count, c.duration), (9, None, Some(100)));
    assert_eq!(c.range, (B, 128 * 1024));
    assert_eq!(c.seed, vp_kernel::rng::derive_seed(42, "cluster.gen"));
    let t = build(
        "pattern: hammer\naddress: 0x10000040\nrange: {base: 0x10000000, size: 0x1000}",
        dir,
    )
    .unwrap();
    assert_eq!(
        t.config().pattern,
        Pattern::HammerAddress { addr: 0x1000_0040 }
    );
    assert_eq!(t.config().range, (B, 0x1000));
    let p: TrafficParams = parse_params(&serde_yaml::Value::Null).unwrap();
    let t = ctx_run(dir, |ctx| TrafficConfig::resolve(ctx, "x", &p)).unwrap();
    assert_eq!(t.count, Some(1000));
    assert_eq!(t.pattern, Pattern::Sequential);
    assert_eq!(vp_traffic::kinds()[0].name, "traffic");
    assert_eq!(t.words, 1);
}

fn bench_stats(seed: u64) -> String {
    let sim = Sim::new();
    let domain = sim.add_clock("clk", Clock::from_period_ps(1000));
    let b = build_contention_bench(&sim, domain, 5000, &vp_interconnect::kind(), seed).unwrap();
    let r = b.run(&sim);
    assert_eq!(r.end, RunEnd::Finished);
    serde_json::to_string(&b.stats()).unwrap()
}

#[test]
fn identical_runs_give_identical_statistics() {
    let a = bench_stats(7);
    assert_eq!(a, bench_stats(7));
    assert_ne!(a, bench_stats(8));
}

#[test]
fn the_contention_bench_runs_its_cycles() {
    let sim = Sim::new();
    let domain = sim.add_clock("clk", Clock::from_period_ps(1000));
    let b = build_contention_bench(&sim, domain, 2000, &vp_interconnect::kind(), 1).unwrap();
    b.run(&sim);
    // every generator issues until cycle 1999 and finishes its last response
    for t in &b.generators {
        let s = t.stats_raw();
        assert!(
            s.grants > 0 && s.requests == s.grants,
            "{}: {s:?}",
            t.name()
        );
        assert!(s.first_issue == Some(0));
    }
    // the wide port (low priority) is refused while cores hold any of its 9 banks, but the
    // guard (max_stall 4) gives it every 5th busy cycle at least: at least 2000 / 5 grants.
    let hwpe = b.generators[8].stats_raw();
    assert!(hwpe.stall_cycles > 0);
    assert!(hwpe.grants >= 400, "{hwpe:?}");
    let ic = b.interconnect.stats();
    assert!(ic["hci"]["guard_firings"].as_u64().unwrap() > 0);
}

/// A one-port responder that grants the posted request on every `every`-th cycle, either
/// through the initiator's grant hook (`Port::deliver`) or the plain way (`Port::grant`,
/// the initiator collects on its next tick).
struct Responder {
    port: Rc<vp_kernel::port::NarrowPort>,
    hook: bool,
    every: u64,
}

impl vp_kernel::Clocked for Responder {
    fn tick(&mut self, cx: &mut vp_kernel::TickCtx<'_>) -> vp_kernel::Next {
        match self.port.pending_at(cx.cycle) {
            Ok(Some(_)) if cx.cycle.is_multiple_of(self.every) => {
                if self.hook {
                    self.port.deliver(cx.cycle, 7, false);
                } else {
                    self.port.grant(cx.cycle, 7, false);
                }
                vp_kernel::Next::Sleep
            }
            Ok(Some(_)) => vp_kernel::Next::Cycle,
            Ok(None) => vp_kernel::Next::Sleep,
            Err(at) => vp_kernel::Next::At(at),
        }
    }
}

/// Run one generator against a [`Responder`]; statistics at `limit` and the end time.
fn run_responder(cfg: &TrafficConfig, hook: bool, every: u64, limit: u64) -> (TrafficStats, u64) {
    let sim = Sim::new();
    let clock = Clock::from_period_ps(1000);
    let domain = sim.add_clock("clk", clock);
    let port = Rc::new(vp_kernel::port::NarrowPort::new("p"));
    let mut t = Traffic::new("g", cfg.clone()).unwrap();
    t.bind("tcdm", vp_kernel::PortRef::new("narrow", port.clone()))
        .unwrap();
    let r = std::cell::RefCell::new(Responder {
        port: port.clone(),
        hook,
        every,
    });
    let w = sim.add_clocked(
        domain,
        "responder",
        vp_kernel::clocked::PHASE_INTERCONNECT,
        true,
        Rc::new(r),
    );
    port.set_target_wake(w);
    t.start(&sim, domain).unwrap();
    let r = sim.run(Some(clock.time_of(limit)));
    (t.stats_raw(), r.time.0)
}

#[test]
fn the_grant_hook_and_the_next_cycle_tick_see_the_same_traffic() {
    let mut cfgs = Vec::new();
    for (i, (intensity, mode)) in [
        (1.0, IntensityMode::Bernoulli),
        (0.35, IntensityMode::Bernoulli),
        (0.6, IntensityMode::Rate),
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = TrafficConfig::narrow(Pattern::Random, 40 + i as u64);
        c.intensity = intensity;
        c.mode = mode;
        c.write_ratio = 0.3;
        c.count = Some(400);
        c.start = 5;
        cfgs.push(c.clone());
        c.count = None;
        c.duration = Some(900);
        cfgs.push(c);
    }
    let replay = (0..200u64)
        .map(|k| vp_traffic::ReplayEntry {
            earliest: k * k % 1500,
            addr: B + 4 * (k as u32 % 97),
            write: k % 3 == 0,
            line: 0,
        })
        .collect();
    cfgs.push(TrafficConfig::narrow(Pattern::Replay(replay), 3));
    for c in &cfgs {
        for every in [1, 3] {
            // run to the end, and stop mid-run (statistics read between a grant and
            // the cycle the generator would have collected it)
            for limit in [1_000_000, 301, 302, 650] {
                let a = run_responder(c, true, every, limit);
                let b = run_responder(c, false, every, limit);
                assert_eq!(a, b, "{c:?}, every {every}, limit {limit}");
            }
        }
    }
}
