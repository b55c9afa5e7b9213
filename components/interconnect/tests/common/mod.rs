//! A tiny harness: a Sim, one clock domain, the interconnect and scripted initiators that
//! present a list of requests, each at the later of its earliest cycle and the cycle after
//! the previous grant (the replay convention of the reference), and log every grant.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use vp_interconnect::{Interconnect, InterconnectConfig};
use vp_kernel::clocked::{Clocked, DomainId, Next, TickCtx, PHASE_INITIATOR};
use vp_kernel::port::{NarrowPort, NarrowReq, WidePort, WideReq, WIDE_MAX_WORDS};
use vp_kernel::{Clock, RunEnd, Sim};

pub const B: u32 = 0x1000_0000;

/// Byte address of (bank, row) in the default 16-bank TCDM.
pub fn at(bank: u32, row: u32) -> u32 {
    B + (row * 16 + bank) * 4
}

pub fn rd(addr: u32) -> NarrowReq {
    NarrowReq {
        addr,
        write: false,
        be: 0xF,
        wdata: 0,
    }
}
pub fn wr(addr: u32, wdata: u32, be: u8) -> NarrowReq {
    NarrowReq {
        addr,
        write: true,
        be,
        wdata,
    }
}
pub fn wide_rd(addr: u32) -> WideReq {
    WideReq::read(addr, 9)
}
pub fn wide_wr(addr: u32, data: &[u32], be: u64) -> WideReq {
    let mut wdata = [0; WIDE_MAX_WORDS];
    wdata[..data.len()].copy_from_slice(data);
    WideReq {
        addr,
        write: true,
        words: data.len() as u8,
        be,
        wdata,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub posted: u64,
    pub granted: u64,
    pub rdata: Vec<u32>,
    pub error: bool,
}

pub type Log = Rc<RefCell<Vec<Grant>>>;

enum Port {
    Narrow(Rc<NarrowPort>, Vec<(u64, NarrowReq)>),
    Wide(Rc<WidePort>, Vec<(u64, WideReq)>),
}

struct Script {
    port: Port,
    next: usize,
    posted: Option<u64>,
    log: Log,
    /// Post each request ahead, dated for its earliest cycle, as soon as the previous one is
    /// collected (an initiator running ahead of the interconnect), instead of in that cycle.
    ahead: bool,
    /// As `ahead`, but a request dated before the horizon is first offered to the port's
    /// alone grant (`Port::request_alone`), and the ones after it too while granted.
    alone: bool,
    /// Alone grants taken (shared by the bench's scripts).
    taken: Rc<std::cell::Cell<u64>>,
}

impl Script {
    fn len(&self) -> usize {
        match &self.port {
            Port::Narrow(_, v) => v.len(),
            Port::Wide(_, v) => v.len(),
        }
    }
    fn earliest(&self, i: usize) -> u64 {
        match &self.port {
            Port::Narrow(_, v) => v[i].0,
            Port::Wide(_, v) => v[i].0,
        }
    }
}

impl Clocked for Script {
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        if let Some(posted) = self.posted {
            let g = match &self.port {
                Port::Narrow(p, _) => p.take_response().map(|r| Grant {
                    posted,
                    granted: r.granted,
                    rdata: vec![r.rdata],
                    error: r.error,
                }),
                Port::Wide(p, v) => p.take_response().map(|r| Grant {
                    posted,
                    granted: r.granted,
                    rdata: r.rdata[..v[self.next - 1].1.words as usize].to_vec(),
                    error: r.error,
                }),
            };
            match g {
                Some(g) => {
                    self.log.borrow_mut().push(g);
                    self.posted = None;
                }
                None => return Next::Sleep,
            }
        }
        if self.next >= self.len() {
            return Next::Sleep;
        }
        let mut from = cx.cycle;
        while self.alone && self.next < self.len() {
            let at = self.earliest(self.next).max(from);
            if at >= cx.horizon() {
                break;
            }
            let g = match &self.port {
                Port::Narrow(p, v) => p.request_alone(at, v[self.next].1).map(|r| Grant {
                    posted: at,
                    granted: r.granted,
                    rdata: vec![r.rdata],
                    error: r.error,
                }),
                Port::Wide(p, v) => {
                    let q = v[self.next].1;
                    p.request_alone(at, q).map(|r| Grant {
                        posted: at,
                        granted: r.granted,
                        rdata: r.rdata[..q.words as usize].to_vec(),
                        error: r.error,
                    })
                }
            };
            let Some(g) = g else { break };
            // the replay convention: the next request from the cycle after the grant
            from = g.granted + 1;
            self.log.borrow_mut().push(g);
            self.next += 1;
            self.taken.set(self.taken.get() + 1);
        }
        if self.next >= self.len() {
            return Next::Sleep;
        }
        let e = self.earliest(self.next);
        if from < e && !self.ahead {
            return Next::At(e);
        }
        let at = e.max(from);
        match &self.port {
            Port::Narrow(p, v) => p.request(at, v[self.next].1),
            Port::Wide(p, v) => p.request(at, v[self.next].1),
        }
        self.next += 1;
        self.posted = Some(at);
        Next::Sleep
    }
    fn blocked_on(&self) -> Option<String> {
        self.posted.map(|c| format!("a grant (posted at {c})"))
    }
}

pub struct Bench {
    pub sim: Sim,
    pub domain: DomainId,
    pub ic: Interconnect,
    /// Requests granted through `Port::request_alone` by the `*_alone` initiators.
    pub alone_taken: Rc<std::cell::Cell<u64>>,
}

impl Bench {
    pub fn new(cfg: InterconnectConfig) -> Bench {
        let sim = Sim::new();
        let clock = Clock::from_period_ps(1000);
        let domain = sim.add_clock("clk", clock);
        Bench {
            sim,
            domain,
            ic: Interconnect::new("cluster.tcdm", cfg, clock),
            alone_taken: Rc::default(),
        }
    }
    pub fn default_cfg() -> Bench {
        Bench::new(InterconnectConfig::default())
    }

    fn add(&mut self, port: Port, ahead: bool) -> Log {
        self.add_mode(port, ahead, false)
    }

    fn add_mode(&mut self, port: Port, ahead: bool, alone: bool) -> Log {
        let log: Log = Rc::new(RefCell::new(Vec::new()));
        let first = match &port {
            Port::Narrow(p, v) => {
                let _ = p;
                v.first().map(|x| x.0)
            }
            Port::Wide(_, v) => v.first().map(|x| x.0),
        };
        let s = Rc::new(RefCell::new(Script {
            port,
            next: 0,
            posted: None,
            log: log.clone(),
            ahead,
            alone,
            taken: self.alone_taken.clone(),
        }));
        let wake = self
            .sim
            .add_clocked(self.domain, "script", PHASE_INITIATOR, false, s.clone());
        match &s.borrow().port {
            Port::Narrow(p, _) => p.set_initiator_wake(wake.clone()),
            Port::Wide(p, _) => p.set_initiator_wake(wake.clone()),
        }
        if let Some(c) = first {
            wake.at(if ahead { 0 } else { c });
        }
        log
    }

    /// A narrow initiator presenting `reqs` (earliest cycle, request).
    pub fn narrow(&mut self, reqs: Vec<(u64, NarrowReq)>) -> Log {
        let p = self.ic.narrow_port().unwrap();
        self.add(Port::Narrow(p, reqs), false)
    }
    /// A narrow initiator posting `reqs` ahead, each dated for its earliest cycle.
    pub fn narrow_ahead(&mut self, reqs: Vec<(u64, NarrowReq)>) -> Log {
        let p = self.ic.narrow_port().unwrap();
        self.add(Port::Narrow(p, reqs), true)
    }
    /// A wide initiator presenting `reqs`.
    pub fn wide(&mut self, reqs: Vec<(u64, WideReq)>) -> Log {
        let p = self.ic.wide_port().unwrap();
        self.add(Port::Wide(p, reqs), false)
    }
    /// A wide initiator posting `reqs` ahead, each dated for its earliest cycle.
    pub fn wide_ahead(&mut self, reqs: Vec<(u64, WideReq)>) -> Log {
        let p = self.ic.wide_port().unwrap();
        self.add(Port::Wide(p, reqs), true)
    }

    /// A narrow initiator as `narrow_ahead` that takes alone grants before its horizon.
    pub fn narrow_alone(&mut self, reqs: Vec<(u64, NarrowReq)>) -> Log {
        let p = self.ic.narrow_port().unwrap();
        self.add_mode(Port::Narrow(p, reqs), true, true)
    }
    /// A wide initiator as `wide_ahead` that takes alone grants before its horizon.
    pub fn wide_alone(&mut self, reqs: Vec<(u64, WideReq)>) -> Log {
        let p = self.ic.wide_port().unwrap();
        self.add_mode(Port::Wide(p, reqs), true, true)
    }

    pub fn run(&mut self) {
        self.ic.start(&self.sim, self.domain).unwrap();
        let r = self
            .sim
            .run(Some(Clock::from_period_ps(1000).time_of(100_000)));
        assert_eq!(r.end, RunEnd::Finished, "run did not finish: {:?}", r.end);
    }
}

/// Grant cycles of a log.
pub fn granted(l: &Log) -> Vec<u64> {
    l.borrow().iter().map(|g| g.granted).collect()
}

/// `n` requests all with earliest cycle `e`.
pub fn burst<R: Copy>(e: u64, reqs: impl IntoIterator<Item = R>) -> Vec<(u64, R)> {
    reqs.into_iter().map(|r| (e, r)).collect()
}
