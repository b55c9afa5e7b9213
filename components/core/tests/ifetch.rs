//! The instruction-fetch hook (`vp_core::ifetch`): a model is consulted once per block
//! entered, its stalls delay the instruction and count as IMISS, decoded instructions follow
//! code generations. The model here charges 5 cycles for every 16-byte line entered, so the
//! expected cycles are the unhooked ones plus 5 per consultation.

mod common;
use std::cell::RefCell;
use std::rc::Rc;

use common::asm::*;
use common::reg::*;
use common::*;
use vp_core::ifetch::{FetchHook, LineFetch};
use vp_core::perf::event::IMISS;
use vp_core::Stop;

/// Records the pc of every consultation; 5 cycles each, 16-byte blocks.
struct Lines(Rc<RefCell<Vec<u32>>>);

impl LineFetch for Lines {
    fn fetch(&mut self, pc: u32, _cycle: u64) -> (u64, u8) {
        self.0.borrow_mut().push(pc);
        (5, 4)
    }
}

/// Run `words` to the ebreak with and without the hook: (hooked hart, consulted pcs,
/// unhooked cycles).
fn run(words: &[u32]) -> (vp_core::Hart, Vec<u32>, u64) {
    let (mut plain, mut bus) = setup(words);
    assert!(matches!(
        run_until_stop(&mut plain, &mut bus, 0),
        Stop::Ebreak { .. }
    ));
    let (mut h, mut bus) = setup(words);
    let seen = Rc::new(RefCell::new(Vec::new()));
    h.set_fetch_hook(Some(FetchHook::new(Box::new(Lines(seen.clone())))));
    assert!(matches!(
        run_until_stop(&mut h, &mut bus, 0),
        Stop::Ebreak { .. }
    ));
    let pcs = seen.borrow().clone();
    (h, pcs, plain.cycle)
}

#[test]
fn straight_code_asks_once_per_line() {
    // 8 nops (lines 0 and 1) and the ebreak (line 2): three consultations, 15 cycles.
    let mut w = vec![NOP; 8];
    w.push(EBREAK);
    let (h, pcs, plain) = run(&w);
    assert_eq!(pcs, [RAM, RAM + 16, RAM + 32]);
    assert_eq!(h.cycle, plain + 15);
    assert_eq!(h.fetch_hook().unwrap().stall_cycles, 15);
}

#[test]
fn a_loop_over_two_lines_asks_at_every_line_change() {
    // line 0: t0 = 3, 3 nops; line 1: loop: t0 -= 1, 3 nops; line 2: bne t0, loop; ebreak.
    // Lines entered: 0, 1, 2, then (taken branch) 1, 2, 1, 2: seven, 35 cycles.
    let w = [
        addi(T0, ZERO, 3),
        NOP,
        NOP,
        NOP,
        addi(T0, T0, -1),
        NOP,
        NOP,
        NOP,
        bne(T0, ZERO, -16),
        EBREAK,
    ];
    let (h, pcs, plain) = run(&w);
    let l = |k: u32| RAM + 16 * k;
    assert_eq!(pcs, [l(0), l(1), l(2), l(1), l(2), l(1), l(2)]);
    assert_eq!(h.cycle, plain + 35);
}

#[test]
fn stalls_count_as_imiss() {
    // line 0: PCER = IMISS (counting from the next instruction; PCMR resets active), nops;
    // line 1: nop, a0 = PCCR4, ebreak. Only line 1's 5 cycles are counted.
    let w = [
        addi(T0, ZERO, 1 << IMISS),
        csrrw(ZERO, 0xCC0, T0),
        NOP,
        NOP,
        NOP,
        csrrs(A0, 0x780 + IMISS as u32, ZERO),
        EBREAK,
    ];
    let (h, pcs, plain) = run(&w);
    assert_eq!(pcs.len(), 2);
    assert_eq!(h.x[A0 as usize], 5);
    assert_eq!(h.perf.pccr[IMISS], 5);
    assert_eq!(h.cycle, plain + 10);
}

#[test]
fn new_code_generations_are_decoded_again() {
    let (mut h, mut bus) = setup(&[addi(A0, ZERO, 1), EBREAK]);
    let seen = Rc::new(RefCell::new(Vec::new()));
    h.set_fetch_hook(Some(FetchHook::new(Box::new(Lines(seen.clone())))));
    run_until_stop(&mut h, &mut bus, 0);
    assert_eq!(h.x[A0 as usize], 1);
    // The code changes and the bus says so: the hook's decoded copy is dropped.
    bus.load_words(0, &[addi(A0, ZERO, 2)]);
    bus.generation += 1;
    h.pc = RAM;
    run_until_stop(&mut h, &mut bus, 0);
    assert_eq!(h.x[A0 as usize], 2);
    // Without the hook the hart behaves the same (its own cache).
    assert!(h.take_fetch_hook().is_some());
    bus.load_words(0, &[addi(A0, ZERO, 3)]);
    bus.generation += 1;
    h.pc = RAM;
    run_until_stop(&mut h, &mut bus, 0);
    assert_eq!(h.x[A0 as usize], 3);
}

/// `stall` cycles for every 32-byte block entered.
struct Blocks(u64);

impl LineFetch for Blocks {
    fn fetch(&mut self, _pc: u32, _cycle: u64) -> (u64, u8) {
        (self.0, 5)
    }
}

#[test]
fn a_branch_target_waiting_in_if_has_its_fetch_stall_overlap_the_wait() {
    // Block 0: fa0 = fa1 = 1.0; fdiv 1/1 at 3 (exact: usable at 9, CSR accesses wait
    // until 10); beq at 4 over a csrrs held in ID: the target, in block 1, is fetched with
    // the branch but waits in IF until it enters EX at 11 (hart.rs, the branch arm): 4
    // cycles past the branch's own 3. Hooked, with 5 cycles per block: +5 for block 0,
    // then block 1's 5 overlap those 4 -> +1; IMISS counts both whole (10).
    let w = [
        lui(A0, 0x3f800),
        fmv_w_x(10, A0),
        fmv_w_x(11, A0),
        fdiv(12, 10, 11, 0),
        beq(ZERO, ZERO, 16),
        csrrs(A1, 0x340, ZERO),
        NOP,
        NOP,
        EBREAK,
    ];
    let cycles = |stall: u64, held: bool| {
        let mut w = w;
        if !held {
            w[5] = NOP;
        }
        let (mut h, mut bus) = setup(&w);
        h.set_fetch_hook(Some(FetchHook::new(Box::new(Blocks(stall)))));
        h.perf.pcer = 1 << IMISS;
        assert!(matches!(
            run_until_stop(&mut h, &mut bus, 0),
            Stop::Ebreak { .. }
        ));
        let imiss = h.perf.pccr[IMISS] as u64;
        (h.cycle, imiss, h.fetch_hook().unwrap().stall_cycles)
    };
    assert_eq!(cycles(0, true).0, 11);
    assert_eq!(cycles(5, true), (17, 10, 6));
    // A longer stall shows past the wait: 9 -> +5 +5.
    assert_eq!(cycles(9, true), (11 + 9 + 5, 18, 14));
    // Over a nop the beq costs 3 and nothing overlaps: 7 + 5 + 5.
    assert_eq!(cycles(0, false).0, 7);
    assert_eq!(cycles(5, false), (17, 10, 10));
}
