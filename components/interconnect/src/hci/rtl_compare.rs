//! The pass against the HCI RTL under Verilator: random traffic from 16 narrow ports (the
//! LIC's 8 cores, 4 external and 4 DMA inputs, in the LIC's order) and the wide ports (one
//! of 9 words on 16 banks as in the cluster, or the shape `shape` reads) must be granted in
//! the same cycles, request for request, with the starvation guard at random settings,
//! sometimes rewritten during the run: the pinned guard (hci 2a5a508, as pulp_cluster pins
//! it) and the v2.4 one (1bcd802 on).
//!
//! The RTL is not part of this repository. `components/interconnect/tests/rtl/build.sh`
//! builds the simulators from checkouts of pulp-platform/hci and its dependencies; set
//! `HCI_SIM` (pinned) and `HCI_SIM_V24` to them. Without them the tests say they were
//! skipped.

use std::cell::Cell;
use std::path::Path;
use std::process::Command;
use std::rc::Rc;

use vp_kernel::port::{NarrowReq, WideReq};
use vp_kernel::testkit::{env_count, rtl_sim, XorShift};

use super::{ctrl_bits, Hci, HciSettings, HciVariant};
use crate::tcdm::{Tcdm, TcdmGeometry};

/// One request of a port: raised `gap` cycles after the cycle following the previous
/// one's grant (the first: from cycle `gap`), held until granted.
#[derive(Clone, Copy)]
struct Req {
    addr: u32,
    write: bool,
    gap: u64,
}

/// Narrow ports (the wide ones follow).
const NARROW: usize = 16;

/// The bank count, wide-port words and wide ports the simulators were built for
/// (`HCI_BANKS`, `HCI_WORDS`, `HCI_WIDE`; build.sh `--banks` / `--words` / `--wide`), the
/// cluster's 16, 9 and 1 by default.
fn shape() -> (u32, u8, usize) {
    let get = |k: &str, d: u32| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    (
        get("HCI_BANKS", 16),
        get("HCI_WORDS", 9) as u8,
        get("HCI_WIDE", 1) as usize,
    )
}

const BASE: u32 = 0x1000_0000;
const SIZE: u32 = 0x2_0000;

/// The guard setting of a run: max_stall (v2.4: the numerator), invert_prio, the v2.4
/// denominator; and writes of the control register during the run (cycle, max_stall,
/// invert_prio), as firmware makes them through cluster control 0x10200018. With those
/// the v2.4 window is the register's (max_stall, max_stall + 1), as in the model.
#[derive(Clone, Debug)]
struct Guard {
    max_stall: u32,
    invert: bool,
    den: u32,
    changes: Vec<(u64, u32, bool)>,
}

/// A random run: the guard setting and each port's requests.
fn stimulus(seed: u64) -> (Guard, Vec<Vec<Req>>) {
    let (banks, _, nw) = shape();
    let mut x = XorShift(seed);
    let max_stall = x.below(9) as u32;
    let invert = x.chance(25);
    let den = if x.chance(20) {
        x.below(max_stall as u64 + 1) as u32
    } else {
        max_stall + 1 + x.below(8) as u32
    };
    let hot = x.next_u64() | 1;
    let mut ports = vec![vec![]; NARROW + nw];
    for (p, reqs) in ports.iter_mut().enumerate() {
        let wide = p >= NARROW;
        if !wide && !x.chance(70) {
            continue;
        }
        let busy = x.below(100);
        for _ in 0..150 {
            let addr = if wide {
                BASE + 4 * x.below(SIZE as u64 / 4) as u32
            } else {
                let mut b = x.below(banks as u64) as u32;
                while hot >> b & 1 == 0 {
                    b = x.below(banks as u64) as u32;
                }
                let rows = (SIZE / 4 / banks) as u64;
                BASE + 4 * (banks * x.below(rows) as u32 + b)
            };
            let gap = if x.below(100) < busy { 0 } else { x.below(4) };
            reqs.push(Req {
                addr,
                write: x.chance(30),
                gap,
            });
        }
    }
    let mut changes = vec![];
    let mut den = den;
    if x.chance(30) {
        den = max_stall + 1;
        let mut at = 0;
        for _ in 0..1 + x.below(4) {
            at += 1 + x.below(150);
            changes.push((at, x.below(9) as u32, x.chance(30)));
        }
    }
    (
        Guard {
            max_stall,
            invert,
            den,
            changes,
        },
        ports,
    )
}

/// The grants (cycle, port) of our pass, in cycle then port order.
fn ours(variant: HciVariant, g: &Guard, reqs: &[Vec<Req>]) -> Vec<(u64, usize)> {
    let (banks, words, nw) = shape();
    let ports = NARROW + nw;
    let geom = TcdmGeometry {
        base: BASE,
        size: SIZE,
        banks,
    };
    let tcdm = Rc::new(Tcdm::new(geom));
    let (narrow, wide) = super::test_ports(NARROW, nw);
    let word = |ms: u32, inv: bool| ms | if inv { ctrl_bits::INVERT_PRIO } else { 0 };
    let ctrl_reg = Rc::new(Cell::new(word(g.max_stall, g.invert)));
    let set = HciSettings {
        variant,
        prio: (variant == HciVariant::V2_4 && g.changes.is_empty())
            .then_some((g.max_stall as u16, g.den as u16)),
        wide_words: words,
    };
    let mut hci = Hci::new(
        "t".into(),
        tcdm,
        narrow.clone(),
        wide.clone(),
        ctrl_reg.clone(),
        set,
    );
    let mut next = vec![0usize; ports];
    let mut from: Vec<u64> = reqs
        .iter()
        .map(|r| r.first().map_or(0, |q| q.gap))
        .collect();
    let mut log = vec![];
    for c in 0..200_000u64 {
        if (0..ports).all(|p| next[p] >= reqs[p].len()) {
            break;
        }
        for p in 0..ports {
            let Some(r) = reqs[p].get(next[p]) else {
                continue;
            };
            if from[p] > c {
                continue;
            }
            if p < NARROW && !narrow[p].busy() {
                narrow[p].request(
                    c,
                    NarrowReq {
                        addr: r.addr,
                        write: r.write,
                        be: 0xF,
                        wdata: 0,
                    },
                );
            } else if p >= NARROW && !wide[p - NARROW].busy() {
                let mut w = WideReq::read(r.addr, words);
                w.write = r.write;
                wide[p - NARROW].request(c, w);
            }
        }
        for &(at, ms, inv) in &g.changes {
            if at == c {
                ctrl_reg.set(word(ms, inv));
            }
        }
        hci.pass_for_test(c);
        for p in 0..ports {
            let granted = if p < NARROW {
                narrow[p].take_response().is_some()
            } else {
                wide[p - NARROW].take_response().is_some()
            };
            if granted {
                log.push((c, p));
                next[p] += 1;
                if let Some(n) = reqs[p].get(next[p]) {
                    from[p] = c + 1 + n.gap;
                }
            }
        }
    }
    log
}

/// The grants of the RTL simulator `sim` (components/interconnect/tests/rtl/hci_tb.cpp).
fn rtl(sim: &Path, file: &Path, g: &Guard, reqs: &[Vec<Req>]) -> Vec<(u64, usize)> {
    let mut s = format!("{} {} {}\n", g.max_stall, g.invert as u32, g.den);
    for &(at, ms, inv) in &g.changes {
        s += &format!("C {at} {ms} {} {}\n", inv as u32, ms + 1);
    }
    for (p, rs) in reqs.iter().enumerate() {
        for r in rs {
            s += &format!("{p} {:x} {} {}\n", r.addr, r.write as u32, r.gap);
        }
    }
    std::fs::write(file, s).unwrap();
    let out = Command::new(sim).arg(file).output().unwrap();
    assert!(out.status.success(), "{}: {:?}", sim.display(), out.status);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.strip_prefix("G ")?.split(' ');
            Some((w.next()?.parse().ok()?, w.next()?.parse().ok()?))
        })
        .collect()
}

/// Compare `HCI_RUNS` (100) random runs on the simulator named by `var` with `variant`.
fn compare(var: &str, variant: HciVariant) {
    let Some(sim) = rtl_sim(var, "components/interconnect/tests/rtl/build.sh") else {
        return;
    };
    let runs = env_count("HCI_RUNS", 100);
    let file = std::env::temp_dir().join(format!("hci_rtl_{var}_{}.txt", std::process::id()));
    let mut failures = vec![];
    let mut grants = 0;
    for seed in 1..=runs {
        let (g, reqs) = stimulus(seed);
        let a = ours(variant, &g, &reqs);
        let b = rtl(Path::new(&sim), &file, &g, &reqs);
        grants += b.len();
        if a != b {
            let k = a
                .iter()
                .zip(&b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            failures.push(format!(
                "seed {seed} ({g:?}): first difference at grant {k}: ours {:?}, RTL {:?}",
                a.get(k),
                b.get(k)
            ));
        }
    }
    let _ = std::fs::remove_file(&file);
    assert!(
        failures.is_empty(),
        "{} of {runs} runs differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // (the runs do something)
    assert!(grants > 1000 * runs as usize, "{grants}");
}

#[test]
fn random_traffic_is_granted_as_by_the_rtl_pinned() {
    compare("HCI_SIM", HciVariant::Pinned);
}

#[test]
fn random_traffic_is_granted_as_by_the_rtl_v2_4() {
    compare("HCI_SIM_V24", HciVariant::V2_4);
}
