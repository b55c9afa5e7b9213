//! Scripted cores for the event unit's tests (event_unit.rs, rtl_compare.rs): each issues
//! its accesses in order, one per cycle at most, as a core does: it sleeps on a load
//! answered Incomplete and issues it again when woken, and takes an annotated delay as
//! that many cycles more before the grant. Its loads take data settled after the grant
//! ([`Settle`]), as the cores' do.

#![allow(dead_code)] // (each test crate uses part of it)

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use vp_kernel::clocked::{DomainId, Next, TickCtx};
use vp_kernel::tlm::{AddressMap, Payload, Response, Settle};
use vp_kernel::{Clock, Clocked, Sim, SimTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Load (issued again after a wake while Incomplete).
    R(u64),
    W(u64, u32),
    /// Idle until this cycle.
    Until(u64),
}

/// A completed access: the cycle it was granted, its address, whether it was a write,
/// the data it loaded (0 for a write).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub cycle: u64,
    pub addr: u64,
    pub write: bool,
    pub data: u32,
}

/// The accesses a scripted core completed, in order.
#[derive(Clone, Default)]
pub struct Log(Rc<RefCell<Vec<Access>>>);

impl Log {
    pub fn accesses(&self) -> Vec<Access> {
        self.0.borrow().clone()
    }
    /// (cycle, address, data) of the completed loads.
    pub fn loads(&self) -> Vec<(u64, u64, u32)> {
        let log = self.0.borrow();
        log.iter()
            .filter(|a| !a.write)
            .map(|a| (a.cycle, a.addr, a.data))
            .collect()
    }
}

struct ScriptCore {
    id: u32,
    ops: VecDeque<Op>,
    bus: Rc<AddressMap>,
    log: Log,
    period_ps: u64,
    /// The cycle the load being collected was granted in (its data settles).
    granted: Option<u64>,
}

impl Clocked for ScriptCore {
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        loop {
            let Some(op) = self.ops.front().copied() else {
                return Next::Sleep;
            };
            let mut p = match op {
                Op::Until(c) => {
                    if cx.cycle < c {
                        return Next::At(c);
                    }
                    self.ops.pop_front();
                    continue;
                }
                Op::R(a) => Payload::read_u32(a)
                    .with_sleeper(cx.wake.clone())
                    .with_settle(),
                Op::W(a, v) => Payload::write_u32(a, v),
            }
            .with_initiator(self.id);
            let mut d = SimTime::ZERO;
            self.bus.b_transport(&mut p, &mut d);
            if p.response == Response::Incomplete {
                if let Settle::Granted(t) = p.settle {
                    let g = t.ps() / self.period_ps;
                    self.granted = Some(g);
                    return Next::At(g + 1);
                }
                return Next::Sleep;
            }
            assert!(p.response.is_ok(), "{:?} at {op:?}", p.response);
            let settled = self.granted.take();
            let cycle = settled.unwrap_or(cx.cycle + d.ps().div_ceil(self.period_ps));
            let (addr, write, data) = match op {
                Op::R(a) => (a, false, p.data_u32()),
                Op::W(a, _) => (a, true, 0),
                Op::Until(_) => unreachable!(),
            };
            self.log.0.borrow_mut().push(Access {
                cycle,
                addr,
                write,
                data,
            });
            self.ops.pop_front();
            if settled.is_some() {
                continue; // collected in the cycle after the grant: the next op's turn
            }
            return Next::At(cycle + 1);
        }
    }
}

/// Add scripted core `id`, running `ops` on `bus` from cycle 0.
pub fn script_core(
    sim: &Sim,
    domain: DomainId,
    clock: Clock,
    bus: &Rc<AddressMap>,
    id: u32,
    ops: &[Op],
) -> Log {
    let log = Log::default();
    let c = ScriptCore {
        id,
        ops: ops.iter().copied().collect(),
        bus: bus.clone(),
        log: log.clone(),
        period_ps: clock.period_ps(),
        granted: None,
    };
    let w = sim.add_clocked(
        domain,
        format!("core{id}"),
        0,
        false,
        Rc::new(RefCell::new(c)),
    );
    w.at(0);
    log
}
