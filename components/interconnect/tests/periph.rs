//! The cores' peripheral crossbar (`vp_interconnect::periph`): hand-derived cases, and
//! random scripts against pulp_cluster's RTL.
//!
//! The harness: scripted cores on the interconnect's `periph` ports, and two TLM targets
//! on the bus: the cluster peripherals' window and L2 (answering `ext_lat` cycles late).
//! A read answers its address mixed with the cycle the target performed it, so the data
//! tells that cycle too. Each core presents its accesses in order, the next one `gap`
//! cycles after the cycle following the previous grant.
//!
//! The RTL comparison needs pulp_cluster and common_cells (not part of this repository):
//! `tests/rtl/build_pe.sh [--ext-lat L] PULP_CLUSTER COMMON_CELLS OUT`, then
//! `PE_SIM=OUT/sim` (and `PE_EXT_LAT=L`); `PE_RUNS` random scripts (200 by default).

use std::cell::RefCell;
use std::rc::Rc;

use vp_interconnect::{Interconnect, InterconnectConfig};
use vp_kernel::clocked::{Clocked, DomainId, Next, TickCtx, PHASE_INITIATOR};
use vp_kernel::component::ElabCtx;
use vp_kernel::port::{NarrowPort, NarrowReq};
use vp_kernel::sim::WeakSim;
use vp_kernel::testkit::{env_count, pipe_through, rtl_sim, XorShift};
use vp_kernel::tlm::{AddressMap, Command, Payload, Response, Target};
use vp_kernel::{Clock, Component, RunEnd, Sim, SimTime};

const TIMER: u32 = 0x1020_0400;
const CTRL: u32 = 0x1020_0000;
const L2: u32 = 0x1C00_0000;

/// One access of a script: (gap, address, write).
type Access = (u64, u32, bool);

/// A target answering reads with `address ^ (cycle << 16)`, `lat` cycles late; before
/// cycle `busy_until` it cannot grant: it answers `Incomplete` and wakes the initiator then.
struct Echo {
    sim: WeakSim,
    domain: DomainId,
    clock: Clock,
    lat: u64,
    busy_until: u64,
}

impl Target for Echo {
    fn b_transport(&mut self, p: &mut Payload, delay: &mut SimTime) {
        let cycle = self.sim.upgrade().map_or(0, |s| s.cycle_now(self.domain));
        if cycle < self.busy_until {
            // (u64::MAX: never; nothing is woken)
            if let (Some(w), true) = (&p.sleeper, self.busy_until < u64::MAX) {
                w.at(self.busy_until);
            }
            p.response = Response::Incomplete;
            return;
        }
        if p.global_address == 0x1020_0000 + ERR_OFF {
            p.response = Response::GenericError;
            return;
        }
        if p.command == Command::Read {
            p.set_data_u32(p.global_address as u32 ^ ((cycle as u32) << 16));
        }
        *delay += self.clock.cycles(self.lat);
        p.response = Response::Ok;
    }
}

/// What a core saw: per access, the grant cycle and (reads) the data; an error response
/// as data `0xE77`.
type Log = Vec<(u64, Option<u32>)>;

/// Offset in the peripherals' window (the cluster DMA's, which the random scripts leave
/// alone) whose accesses the echo target refuses with an error.
const ERR_OFF: u64 = 0x1800;

struct Scripted {
    port: Rc<NarrowPort>,
    script: Vec<Access>,
    next: usize,
    log: Rc<RefCell<Log>>,
}

impl Clocked for Scripted {
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        if let Some(r) = self.port.take_response() {
            assert_eq!(cx.cycle, r.granted + 1);
            let read = !self.script[self.next - 1].2;
            self.log.borrow_mut().push((
                r.granted,
                (read || r.error).then_some(if r.error { 0xE77 } else { r.rdata }),
            ));
        } else if self.port.busy() {
            return Next::Sleep;
        }
        let Some(&(gap, addr, write)) = self.script.get(self.next) else {
            return Next::Sleep;
        };
        self.next += 1;
        self.port.request(
            cx.cycle + gap,
            NarrowReq {
                addr,
                write,
                be: 0xF,
                wdata: addr,
            },
        );
        Next::Sleep
    }

    fn blocked_on(&self) -> Option<String> {
        (self.port.busy() || self.next < self.script.len()).then(|| "an access".into())
    }
}

/// Run the scripts (core `i` the `i`-th) on the model: each core's log.
fn model(scripts: &[Vec<Access>], ext_lat: u64) -> Vec<Log> {
    model_ids(scripts, ext_lat, &[])
}

/// [`model`] with the ports' initiator ids (the cores' indices; none when empty).
fn model_ids(scripts: &[Vec<Access>], ext_lat: u64, ids: &[u32]) -> Vec<Log> {
    let (logs, end) = run_model(scripts, ext_lat, ids, 0);
    assert!(matches!(end, RunEnd::Finished), "{end:?}");
    logs
}

/// [`model_ids`] with the peripherals' window unable to grant before cycle `busy_until`.
fn run_model(
    scripts: &[Vec<Access>],
    ext_lat: u64,
    ids: &[u32],
    busy_until: u64,
) -> (Vec<Log>, RunEnd) {
    let sim = Sim::new();
    let clock = Clock::from_period_ps(1000);
    let domain = sim.add_clock("clk", clock);
    let mut ic = Interconnect::new("tcdm", InterconnectConfig::default(), clock);
    let ports: Vec<_> = (0..8).map(|_| ic.periph_port().unwrap()).collect();
    for (p, &id) in ports.iter().zip(ids) {
        p.set_initiator_id(id);
    }
    let mut bus = AddressMap::new();
    let echo = |lat, busy_until| {
        Rc::new(RefCell::new(Echo {
            sim: sim.downgrade(),
            domain,
            clock,
            lat,
            busy_until,
        }))
    };
    bus.add("periph", 0x1020_0000, 0x4000, echo(0, busy_until))
        .unwrap();
    bus.add("l2", L2 as u64, 0x10_0000, echo(ext_lat, 0))
        .unwrap();
    let bus = Rc::new(bus);
    let mut cx = ElabCtx {
        sim: &sim,
        domain,
        clock,
        bus: &bus,
    };
    ic.elaborate(&mut cx).unwrap();
    let mut logs = vec![];
    for (i, s) in scripts.iter().enumerate() {
        let log = Rc::new(RefCell::new(vec![]));
        let c = Rc::new(RefCell::new(Scripted {
            port: ports[i].clone(),
            script: s.clone(),
            next: 0,
            log: log.clone(),
        }));
        let w = sim.add_clocked(domain, format!("core{i}"), PHASE_INITIATOR, false, c);
        ports[i].set_initiator_wake(w.clone());
        w.at(0);
        logs.push(log);
    }
    let r = sim.run(Some(clock.time_of(100_000)));
    (logs.iter().map(|l| l.borrow().clone()).collect(), r.end)
}

#[test]
fn an_access_is_granted_three_cycles_after_its_request() {
    // data_periph_demux.sv: pushed into the FIFO in cycle 0 (TRANS_IDLE), out of it in 1,
    // where the target grants and performs it; its response in 2 (TRANS_PENDING ->
    // TRANS_GRANTED); the core's grant in 3, the response in 4.
    let got = model(&[vec![(0, TIMER, false)]], 0);
    assert_eq!(got[0], vec![(3, Some(TIMER ^ 1 << 16))]);
    // A store waits the same; the next access, presented in 4, is granted in 7.
    let got = model(&[vec![(0, CTRL, true), (0, CTRL, false)]], 0);
    assert_eq!(got[0], vec![(3, None), (7, Some(CTRL ^ 5 << 16))]);
}

#[test]
fn a_late_target_delays_the_grant() {
    // L2 (per2axi) answering 4 cycles late: response in 2 + 4, grant in 3 + 4.
    let got = model(&[vec![(0, L2 + 8, false)]], 4);
    assert_eq!(got[0], vec![(7, Some((L2 + 8) ^ 1 << 16))]);
}

#[test]
fn cores_on_one_target_take_turns_and_others_pass() {
    // Cores 0, 1 and 2 read the timer in cycle 0, core 3 the cluster control: the timer's
    // rr_arb_tree grants 0, 1, 2 in cycles 1, 2, 3 (rr_q from 0; each grant moves it past
    // the winner), the control is free in 1. Grants 2 cycles after the target's.
    let s = |a| vec![(0, a, false)];
    let got = model(&[s(TIMER), s(TIMER), s(TIMER), s(CTRL)], 0);
    let g: Vec<u64> = got.iter().map(|l| l[0].0).collect();
    assert_eq!(g, [3, 4, 5, 3]);
    // Then core 0 again, with core 2 (presented in 4 and 6): 0's request reaches the
    // arbiter in 5 alone; 2's in 7.
    let got = model(
        &[
            vec![(0, TIMER, false), (0, TIMER, false)],
            vec![(0, TIMER, false)],
            vec![(0, TIMER, false), (0, TIMER, false)],
        ],
        0,
    );
    assert_eq!(
        got[0],
        vec![(3, Some(TIMER ^ 1 << 16)), (7, Some(TIMER ^ 5 << 16))]
    );
    assert_eq!(got[1], vec![(4, Some(TIMER ^ 2 << 16))]);
    assert_eq!(
        got[2],
        vec![(5, Some(TIMER ^ 3 << 16)), (9, Some(TIMER ^ 7 << 16))]
    );
}

#[test]
fn the_arbiters_inputs_are_the_cores_indices() {
    // Ports in the order of cores 5, 2, 0, 1, ... (only 5 and 2 request): the arbiters'
    // inputs are the cores' indices, and rr_arb_tree (rr_q 0) grants the first requester
    // from input 0 up, core 2, whatever the ports' order.
    let s = || vec![(0, TIMER, false)];
    let got = model_ids(&[s(), s()], 0, &[5, 2, 0, 1, 3, 4, 6, 7]);
    assert_eq!((got[0][0].0, got[1][0].0), (4, 3));
    // without ids, the ports' order
    let got = model(&[s(), s()], 0);
    assert_eq!((got[0][0].0, got[1][0].0), (3, 4));
}

#[test]
fn a_target_that_cannot_grant_yet_is_asked_again_when_it_says() {
    // The timer cannot grant before cycle 6: the request reaching it in 1 is answered
    // Incomplete, the target wakes the crossbar in 6, which asks again: granted there, the
    // core 2 cycles later. The L2 access of another core passes meanwhile.
    let (got, end) = run_model(&[vec![(0, TIMER, false)], vec![(0, L2, false)]], 0, &[], 6);
    assert!(matches!(end, RunEnd::Finished), "{end:?}");
    assert_eq!(got[0], vec![(8, Some(TIMER ^ 6 << 16))]);
    assert_eq!(got[1], vec![(3, Some(L2 ^ 1 << 16))]);
    // One that never wakes the crossbar: a deadlock naming the waiting core, not a run to
    // the cycle limit.
    let (got, end) = run_model(&[vec![(0, TIMER, false)]], 0, &[], u64::MAX);
    assert!(got[0].is_empty());
    match end {
        RunEnd::Deadlock(who) => assert!(who.iter().any(|w| w.contains("core0")), "{who:?}"),
        e => panic!("{e:?}"),
    }
}

#[test]
fn an_error_response_comes_with_the_grant() {
    // A register refusing the access: its error travels back as its response would, the
    // core granted in 3 with the error flag; core 1's store to it, served after, in 4.
    let a = 0x1020_0000 + ERR_OFF as u32;
    let got = model(&[vec![(0, a, false)], vec![(0, a, true)]], 0);
    assert_eq!(got[0], vec![(3, Some(0xE77))]);
    assert_eq!(got[1], vec![(4, Some(0xE77))]);
}

#[test]
fn the_event_units_two_plugs_are_one_target() {
    // xbar_pe_wrap.sv addr_to_pe_idx: indices 2 and 3 (0x800-0xFFF) are SPER_EVENT_U_ID.
    let got = model(
        &[vec![(0, 0x1020_0800, false)], vec![(0, 0x1020_0C00, false)]],
        0,
    );
    assert_eq!((got[0][0].0, got[1][0].0), (3, 4));
}

/// A random script for each of the 8 cores.
fn random_scripts(x: &mut XorShift) -> Vec<Vec<Access>> {
    const TARGETS: [u32; 7] = [
        CTRL,
        TIMER,
        0x1020_0800,
        0x1020_0C00,
        0x1020_1000,
        0x1020_1400,
        L2,
    ];
    (0..8)
        .map(|_| {
            let n = x.below(10) as usize;
            (0..n)
                .map(|_| {
                    let gap = if x.chance(60) { 0 } else { x.below(4) };
                    let t = TARGETS[x.below(TARGETS.len() as u64) as usize];
                    let off = if t == L2 {
                        x.below(0x1000)
                    } else {
                        x.below(0x100)
                    };
                    (gap, t + 4 * off as u32, x.chance(30))
                })
                .collect()
        })
        .collect()
}

/// The RTL's logs of `scripts` (pe_tb.cpp's "G" and "R" lines).
fn rtl(sim: &std::path::Path, scripts: &[Vec<Access>]) -> Vec<Log> {
    let mut input = String::new();
    for (i, s) in scripts.iter().enumerate() {
        for &(gap, a, w) in s {
            input += &format!("{i} {gap} {a:x} {}\n", w as u32);
        }
    }
    let out = pipe_through(sim, input);
    assert!(out.status.success(), "the RTL did not grant every access");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut logs: Vec<Log> = vec![vec![]; 8];
    let mut k = [0usize; 8];
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f[0] {
            "G" => {
                let c: usize = f[1].parse().unwrap();
                logs[c].push((f[2].parse().unwrap(), None));
            }
            "R" => {
                let c: usize = f[1].parse().unwrap();
                let cycle: u64 = f[2].parse().unwrap();
                let e = &mut logs[c][k[c]];
                assert_eq!(cycle, e.0 + 1, "core {c}: the response follows the grant");
                if !scripts[c][k[c]].2 {
                    e.1 = Some(u32::from_str_radix(f[3], 16).unwrap());
                }
                k[c] += 1;
            }
            _ => {}
        }
    }
    logs
}

#[test]
fn random_scripts_are_granted_as_by_the_rtl() {
    let Some(sim) = rtl_sim("PE_SIM", "tests/rtl/build_pe.sh") else {
        return;
    };
    let lat = env_count("PE_EXT_LAT", 0);
    let runs = env_count("PE_RUNS", 200);
    let mut x = XorShift(0x005e_ed0f_9e7e_u64 ^ lat);
    for run in 0..runs {
        let scripts = random_scripts(&mut x);
        let want = rtl(&sim, &scripts);
        let got = model(&scripts, lat);
        assert_eq!(got, want, "run {run}: {scripts:?}");
    }
    eprintln!("{runs} random scripts agree with the RTL (external latency {lat})");
}
