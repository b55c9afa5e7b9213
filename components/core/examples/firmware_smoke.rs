//! Run a firmware ELF on 8 harts with an *ideal* cluster: every timed access is
//! granted at once (no interconnect contention), barrier 0 and the event-unit sleep
//! are the only blocking targets, RedMulE is absent. A smoke test of the core on
//! real compiled code and a sketch of how a platform drives [`Hart::run`].
//!
//! ```text
//!            +---------+ run(limit) / Stop::Timed(p)  +-----------------------------+
//!  hart 0..7 |  Hart   |----------------------------->| IdealCluster                |
//!            |  (ISS)  |<-----------------------------|  L2 (Direct)                |
//!            +---------+  complete_access(rdata, k)   |  TCDM, stdout, EU (Timed)   |
//!                                                     +-----------------------------+
//! ```
//!
//! The scheduler serves timed accesses in global time order: it always picks the
//! hart whose next event (its pending access, or its local cycle) is earliest, and
//! lets a running hart go ahead only up to the next hart's event.
//!
//! Run with `cargo run -p vp-core --release --example firmware_smoke -- firmware/prebuilt/hello.elf`.

use std::error::Error;
use vp_core::{disasm, BusRequest, DataBus, Elf, Hart, Route, Stop};

const L2: u32 = 0x1c00_0000;
const L2_SIZE: u32 = 0x10_0000;
const TCDM: u32 = 0x1000_0000;
/// TCDM size; 0x10000000-0x100FFFFF aliases into it (reference sheet, section 5).
const TCDM_SIZE: u32 = 0x2_0000;
const STDOUT: u32 = 0x4000_0000;
const CLUSTER_RETURN: u32 = 0x1020_0100;
const CLUSTER_EOC: u32 = 0x1020_0000;
const EU_BARRIER0_WAIT: u32 = 0x1020_421c;
const EU_EVENT_WAIT: u32 = 0x1020_4038;
const CORES: usize = 8;

/// L2 and TCDM contents.
struct IdealCluster {
    l2: Vec<u8>,
    tcdm: Vec<u8>,
}

impl IdealCluster {
    fn slot(&mut self, a: u32) -> Option<(&mut [u8], usize)> {
        if a.wrapping_sub(L2) < L2_SIZE {
            Some((&mut self.l2, (a - L2) as usize))
        } else if a.wrapping_sub(TCDM) < 0x10_0000 {
            Some((&mut self.tcdm, ((a - TCDM) % TCDM_SIZE) as usize))
        } else {
            None
        }
    }
}

impl DataBus for IdealCluster {
    fn route(&mut self, addr: u32, _write: bool) -> Route {
        if addr.wrapping_sub(L2) < L2_SIZE {
            Route::Direct { wait_cycles: 0 }
        } else {
            Route::Timed // TCDM and every peripheral: served by the scheduler below
        }
    }
    fn read(&mut self, addr: u32, _be: u8) -> u32 {
        match self.slot(addr) {
            Some((m, o)) if o + 4 <= m.len() => {
                u32::from_le_bytes([m[o], m[o + 1], m[o + 2], m[o + 3]])
            }
            _ => 0,
        }
    }
    fn write(&mut self, addr: u32, be: u8, data: u32) {
        if let Some((m, o)) = self.slot(addr) {
            for k in 0..4 {
                if be & (1 << k) != 0 {
                    if let Some(b) = m.get_mut(o + k) {
                        *b = (data >> (8 * k)) as u8;
                    }
                }
            }
        }
    }
    fn fetch(&mut self, pc: u32) -> Option<u32> {
        let (m, o) = self.slot(pc)?;
        let b = |k: usize| m.get(o + k).copied().unwrap_or(0) as u32;
        Some(b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24))
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: firmware_smoke <elf>")?;
    let elf = Elf::parse(&std::fs::read(&path)?)?;
    elf.check_fits(&[(L2, L2_SIZE), (TCDM, TCDM_SIZE)])?;
    let mut mem = IdealCluster {
        l2: vec![0; L2_SIZE as usize],
        tcdm: vec![0; TCDM_SIZE as usize],
    };
    for s in &elf.segments {
        for (k, b) in s.data.iter().enumerate() {
            if let Some((m, o)) = mem.slot(s.paddr.wrapping_add(k as u32)) {
                m[o] = *b;
            }
        }
    }
    let mut harts: Vec<Hart> = (0..CORES as u32)
        .map(|c| Hart::new(0, c, elf.entry))
        .collect();
    let mut at_barrier: Vec<Option<u64>> = vec![None; CORES];
    let mut asleep = [false; CORES];
    let mut stdout = vec![String::new(); CORES];
    let mut pending: Vec<Option<vp_core::PendingAccess>> = vec![None; CORES];
    let mut ret = None;
    loop {
        let next_event = |c: usize, h: &Hart| pending[c].map_or(h.cycle, |p| p.cycle);
        let mut order: Vec<usize> = (0..CORES)
            .filter(|&c| at_barrier[c].is_none() && !asleep[c])
            .collect();
        order.sort_by_key(|&c| (next_event(c, &harts[c]), c));
        let Some(&c) = order.first() else {
            println!("every core is asleep or blocked");
            break;
        };
        // Run ahead at most until the next hart's event.
        let limit = order
            .get(1)
            .map_or(u64::MAX, |&o| next_event(o, &harts[o]) + 1);
        let h = &mut harts[c];
        let stop = match pending[c].take() {
            Some(p) => Stop::Timed(p),
            None => match h.run(&mut mem, limit) {
                Stop::Timed(p) if p.cycle >= limit => {
                    pending[c] = Some(p); // issued later than another hart's event
                    continue;
                }
                other => other,
            },
        };
        match stop {
            Stop::Limit => {}
            Stop::Timed(p) => {
                let BusRequest {
                    addr,
                    be,
                    write,
                    wdata,
                } = p.req;
                match addr {
                    EU_BARRIER0_WAIT if !write => {
                        at_barrier[c] = Some(p.cycle);
                        if at_barrier.iter().all(Option::is_some) {
                            // The barrier fires one cycle after the last arrival.
                            let fire = at_barrier.iter().flatten().max().copied().unwrap_or(0) + 1;
                            for (k, slot) in at_barrier.iter_mut().enumerate() {
                                if let Some(at) = slot.take() {
                                    harts[k].complete_access(1 << 16, fire - at)?;
                                }
                            }
                        }
                        continue;
                    }
                    EU_EVENT_WAIT if !write => {
                        asleep[c] = true; // nothing will ever wake it in this sketch
                        continue;
                    }
                    CLUSTER_RETURN if write => ret = Some(wdata & 0x7fff_ffff),
                    a if write && a.wrapping_sub(STDOUT) < 0x1000 => {
                        stdout[((a >> 3) & 0xf) as usize].push(char::from(wdata as u8));
                    }
                    _ => {}
                }
                let rdata = if write {
                    mem.write(addr, be, wdata);
                    0
                } else {
                    mem.read(addr, be)
                };
                h.complete_access(rdata, 0)?;
                if addr == CLUSTER_EOC && write {
                    break;
                }
            }
            other => {
                println!("core {c} stopped: {other:?}");
                if let Stop::Fault(f) = other {
                    println!(
                        "  {:#010x}: {}",
                        f.pc,
                        disasm(&vp_core::decode(f.raw), f.pc)
                    );
                }
                break;
            }
        }
    }
    for (c, text) in stdout.iter().enumerate() {
        for line in text.lines() {
            println!("[core {c}] {line}");
        }
    }
    let instret: u64 = harts.iter().map(|h| h.instret).sum();
    println!(
        "return {ret:?}; core 0 at cycle {}; {instret} instructions on {CORES} cores",
        harts[0].cycle
    );
    Ok(())
}
