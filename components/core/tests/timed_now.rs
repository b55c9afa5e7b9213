//! `DataBus::timed_now`: a bus that performs a timed access at once, inside the run, gives
//! the same run as one that lets the run stop with `Stop::Timed` and completes the access
//! with `Hart::complete_access` (same stall), then runs on with the limit the bus named:
//! registers, memory, pc, cycle and retired count agree, for every load and store width,
//! load-use hazards and a jalr on a loaded register; and an access the bus holds
//! (`TimedNow::Held`) stops the run as usual.

mod common;
use common::asm::*;
use common::reg::*;
use common::*;
use vp_core::{BusRequest, DataBus, Hart, Route, Stop, TimedNow};

/// How the bus answers `timed_now`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Now {
    /// Never: every timed access stops the run.
    Off,
    /// Performs every TCDM access at once.
    Done,
    /// Performs every TCDM access at once but holds its completion (the run stops).
    Held,
}

struct NowBus {
    inner: TestBus,
    mode: Now,
    /// Stall cycles of every timed access.
    stall: u64,
    /// The run's limit after an access of cycle `c`: `c + 1 + quantum`.
    quantum: u64,
    /// Accesses performed inside a run.
    performed: u64,
    /// Read data of a held access.
    held: Option<u32>,
}

impl DataBus for NowBus {
    fn route(&mut self, addr: u32, write: bool) -> Route {
        self.inner.route(addr, write)
    }
    fn read(&mut self, addr: u32, be: u8) -> u32 {
        self.inner.read(addr, be)
    }
    fn write(&mut self, addr: u32, be: u8, data: u32) {
        self.inner.write(addr, be, data)
    }
    fn fetch(&mut self, pc: u32) -> Option<u32> {
        self.inner.fetch(pc)
    }
    fn is_tcdm(&self, addr: u32) -> bool {
        self.inner.is_tcdm(addr)
    }
    fn timed_now(&mut self, cycle: u64, req: &BusRequest) -> TimedNow {
        if self.mode == Now::Off || !self.inner.is_tcdm(req.addr) {
            return TimedNow::No;
        }
        let rdata = self.inner.perform(req);
        self.performed += 1;
        if self.mode == Now::Held {
            self.held = Some(rdata);
            return TimedNow::Held;
        }
        TimedNow::Done {
            rdata,
            stall_cycles: self.stall,
            limit: cycle + 1 + self.quantum,
        }
    }
}

/// Run `words` with timed accesses answered per `mode`, each stalling `stall` cycles, the
/// limit moving to `c + 1 + quantum` after an access of cycle `c` (from `quantum`, at
/// least 10, at the start); stop at the first stop that is not a timed access.
fn run(words: &[u32], mode: Now, stall: u64, quantum: u64) -> (Stop, Hart, NowBus) {
    let (mut hart, inner) = setup(words);
    let mut bus = NowBus {
        inner,
        mode,
        stall,
        quantum,
        performed: 0,
        held: None,
    };
    let mut limit = quantum.max(10);
    loop {
        match hart.run(&mut bus, limit) {
            Stop::Timed(p) => {
                let v = match bus.held.take() {
                    Some(v) => v,
                    None => bus.inner.perform(&p.req),
                };
                hart.complete_access(v, stall).expect("pending access");
                limit = p.cycle + 1 + quantum;
            }
            other => return (other, hart, bus),
        }
    }
}

/// Stores and loads of every width on the TCDM, load-use stalls, a jalr on a loaded
/// register, in a counted loop.
fn program() -> Vec<u32> {
    let base = li(A0, 0x1000_0100);
    let pattern = li(A1, 0x8765_F0A1);
    // jalr target: the `addi a4` after the jalr (pc of the jalr + 4).
    prog(&[
        &base,
        &pattern,
        &[
            addi(A5, ZERO, 3), // loop count
            // loop:
            sw(A1, A0, 0),
            sh(A1, A0, 6),
            sb(A1, A0, 9),
            lw(A2, A0, 0),
            add(A3, A2, A2), // load-use
            lb(A2, A0, 0),
            lh(A3, A0, 6),
            lbu(A4, A0, 9),
            lhu(A2, A0, 2),
            xor(A3, A3, A4),
            add(A1, A1, A3),
            auipc(T0, 0),
            sw(T0, A0, 12),
            lw(T1, A0, 12),
            jalr(RA, T1, 16), // to the addi after it (auipc + 16): jalr on a loaded register
            addi(A4, A4, 1),
            addi(A5, A5, -1),
            bne(A5, ZERO, -68), // to the first sw
            EBREAK,
        ],
    ])
}

fn same_run(a: &(Stop, Hart, NowBus), b: &(Stop, Hart, NowBus)) {
    assert_eq!(a.0, b.0, "stop");
    assert_eq!(a.1.x, b.1.x, "registers");
    assert_eq!(a.1.pc, b.1.pc, "pc");
    assert_eq!(a.1.cycle, b.1.cycle, "cycle");
    assert_eq!(a.1.instret, b.1.instret, "instret");
    assert_eq!(a.2.inner.tcdm, b.2.inner.tcdm, "TCDM contents");
}

#[test]
fn accesses_performed_inside_the_run_give_the_same_run_as_stopping_for_them() {
    let words = program();
    for stall in [0, 2] {
        let off = run(&words, Now::Off, stall, u64::MAX / 4);
        assert!(matches!(off.0, Stop::Ebreak { .. }), "{:?}", off.0);
        let now = run(&words, Now::Done, stall, u64::MAX / 4);
        same_run(&off, &now);
        assert_eq!(now.2.performed, 3 * 10, "every TCDM access inside the run");
        let held = run(&words, Now::Held, stall, u64::MAX / 4);
        same_run(&off, &held);
    }
}

#[test]
fn an_access_performed_inside_the_run_moves_its_limit_as_the_platform_would() {
    // A short quantum: the run stops at the limit set after the last access before it.
    let words = program();
    for quantum in [1, 3, 7] {
        let off = run(&words, Now::Off, 1, quantum);
        assert_eq!(off.0, Stop::Limit, "quantum {quantum}");
        let now = run(&words, Now::Done, 1, quantum);
        same_run(&off, &now);
        assert!(now.2.performed > 0);
    }
}
