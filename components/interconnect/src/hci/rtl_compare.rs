//! The pass against the HCI RTL under Verilator: random traffic from 16 narrow ports (the
//! LIC's 8 cores, 4 external and 4 DMA inputs, in the LIC's order) and one 9-word wide
//! port on 16 banks must be granted in the same cycles, request for request, with the
//! pinned starvation guard at random settings.
//!
//! The RTL is not part of this repository. `components/interconnect/tests/rtl/build.sh`
//! builds the simulator from checkouts of pulp-platform/hci (2a5a508, as pinned by
//! pulp_cluster) and its dependencies; set `HCI_SIM` to it. Without it the test says it
//! was skipped.

use std::cell::Cell;
use std::path::Path;
use std::process::Command;
use std::rc::Rc;

use vp_kernel::port::{NarrowPort, NarrowReq, WidePort, WideReq};
use vp_kernel::testkit::XorShift;

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

/// Narrow ports, then the wide one.
const PORTS: usize = 17;
const BASE: u32 = 0x1000_0000;
const SIZE: u32 = 0x2_0000;

/// A random run: the guard setting (max_stall, invert_prio) and each port's requests.
fn stimulus(seed: u64) -> (u32, bool, Vec<Vec<Req>>) {
    let mut x = XorShift(seed);
    let max_stall = x.below(9) as u32;
    let invert = x.chance(25);
    let hot = x.next_u64() as u32 & 0xFFFF | 1;
    let mut ports = vec![vec![]; PORTS];
    for (p, reqs) in ports.iter_mut().enumerate() {
        let wide = p == 16;
        if !wide && !x.chance(70) {
            continue;
        }
        let busy = x.below(100);
        for _ in 0..150 {
            let addr = if wide {
                BASE + 4 * x.below(SIZE as u64 / 4) as u32
            } else {
                let mut b = x.below(16) as u32;
                while hot >> b & 1 == 0 {
                    b = x.below(16) as u32;
                }
                BASE + 4 * (16 * x.below(SIZE as u64 / 64) as u32 + b)
            };
            let gap = if x.below(100) < busy { 0 } else { x.below(4) };
            reqs.push(Req {
                addr,
                write: x.chance(30),
                gap,
            });
        }
    }
    (max_stall, invert, ports)
}

/// The grants (cycle, port) of our pass, in cycle then port order.
fn ours(max_stall: u32, invert: bool, reqs: &[Vec<Req>]) -> Vec<(u64, usize)> {
    let geom = TcdmGeometry {
        base: BASE,
        size: SIZE,
        banks: 16,
    };
    let tcdm = Rc::new(Tcdm::new(geom));
    let narrow: Vec<Rc<NarrowPort>> = (0..16)
        .map(|i| Rc::new(NarrowPort::new(format!("n{i}"))))
        .collect();
    let wide = vec![Rc::new(WidePort::new("w"))];
    let ctrl = max_stall | if invert { ctrl_bits::INVERT_PRIO } else { 0 };
    let set = HciSettings {
        variant: HciVariant::Pinned,
        prio: None,
        wide_words: 9,
    };
    let mut hci = Hci::new(
        "t".into(),
        tcdm,
        narrow.clone(),
        wide.clone(),
        Rc::new(Cell::new(ctrl)),
        set,
    );
    let mut next = vec![0usize; PORTS];
    let mut from: Vec<u64> = reqs
        .iter()
        .map(|r| r.first().map_or(0, |q| q.gap))
        .collect();
    let mut log = vec![];
    for c in 0..200_000u64 {
        if (0..PORTS).all(|p| next[p] >= reqs[p].len()) {
            break;
        }
        for p in 0..PORTS {
            let Some(r) = reqs[p].get(next[p]) else {
                continue;
            };
            if from[p] > c {
                continue;
            }
            if p < 16 && !narrow[p].busy() {
                narrow[p].request(
                    c,
                    NarrowReq {
                        addr: r.addr,
                        write: r.write,
                        be: 0xF,
                        wdata: 0,
                    },
                );
            } else if p == 16 && !wide[0].busy() {
                let mut w = WideReq::read(r.addr, 9);
                w.write = r.write;
                wide[0].request(c, w);
            }
        }
        hci.pass_for_test(c);
        for p in 0..PORTS {
            let granted = if p < 16 {
                narrow[p].take_response().is_some()
            } else {
                wide[0].take_response().is_some()
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
fn rtl(
    sim: &Path,
    file: &Path,
    max_stall: u32,
    invert: bool,
    reqs: &[Vec<Req>],
) -> Vec<(u64, usize)> {
    let mut s = format!("{max_stall} {}\n", invert as u32);
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

#[test]
fn random_traffic_is_granted_as_by_the_rtl() {
    let Some(sim) = std::env::var_os("HCI_SIM") else {
        eprintln!("skipped: HCI_SIM is not set (components/interconnect/tests/rtl/build.sh)");
        return;
    };
    let runs: u64 = std::env::var("HCI_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let file = std::env::temp_dir().join(format!("hci_rtl_{}.txt", std::process::id()));
    let mut failures = vec![];
    let mut grants = 0;
    for seed in 1..=runs {
        let (ms, inv, reqs) = stimulus(seed);
        let a = ours(ms, inv, &reqs);
        let b = rtl(Path::new(&sim), &file, ms, inv, &reqs);
        grants += b.len();
        if a != b {
            let k = a
                .iter()
                .zip(&b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            failures.push(format!(
                "seed {seed} (max_stall {ms}, invert {inv}): first difference at grant {k}: ours {:?}, RTL {:?}",
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
    assert!(grants > 1000 * runs as usize, "{grants}");
}
