//! Exceptions are values: illegal instructions, bad fetches, unmapped accesses,
//! ecall/ebreak, and trap entry/return.

mod common;
use common::asm::*;
use common::reg::*;
use common::*;
use vp_core::{FaultKind, Hart, Stop};

fn fault_of(stop: Stop) -> vp_core::Fault {
    match stop {
        Stop::Fault(f) => f,
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn an_illegal_32_bit_instruction_reports_its_raw_bits() {
    let (mut h, mut bus) = setup(&[NOP, 0xffff_ffff]);
    let f = fault_of(run_until_stop(&mut h, &mut bus, 0));
    assert_eq!(f.kind, FaultKind::IllegalInstruction);
    assert_eq!((f.pc, f.raw, f.cycle), (RAM + 4, 0xffff_ffff, 1));
    assert_eq!(h.pc, RAM + 4, "the faulting instruction does not retire");
    assert_eq!(h.instret, 1);
}

#[test]
fn the_all_zero_parcel_is_illegal() {
    let (mut h, mut bus) = setup(&[0]);
    let f = fault_of(run_until_stop(&mut h, &mut bus, 0));
    assert_eq!(
        (f.kind, f.pc, f.raw),
        (FaultKind::IllegalInstruction, RAM, 0)
    );
}

#[test]
fn reserved_rounding_modes_make_fp_instructions_illegal() {
    // rm = 5 is reserved
    let (mut h, mut bus) = setup(&[fadd(1, 2, 3, 5)]);
    assert_eq!(
        fault_of(run_until_stop(&mut h, &mut bus, 0)).kind,
        FaultKind::IllegalInstruction
    );
    // dynamic rounding with frm = 6 (reserved)
    let (mut h, mut bus) = setup(&[csrrwi(ZERO, 0x002, 6), fadd(1, 2, 3, DYN)]);
    let f = fault_of(run_until_stop(&mut h, &mut bus, 0));
    assert_eq!((f.kind, f.pc), (FaultKind::IllegalInstruction, RAM + 4));
}

#[test]
fn unknown_csrs_are_illegal() {
    let (mut h, mut bus) = setup(&[csrrs(A0, 0x7C0, ZERO)]);
    assert_eq!(
        fault_of(run_until_stop(&mut h, &mut bus, 0)).kind,
        FaultKind::IllegalInstruction
    );
}

#[test]
fn fetching_from_nowhere_or_an_odd_pc_faults() {
    let (mut h, mut bus) = setup(&prog(&[&li(A0, 0x0000_1000), &[jalr(ZERO, A0, 0)]]));
    let f = fault_of(run_until_stop(&mut h, &mut bus, 0));
    assert_eq!((f.kind, f.pc, f.raw), (FaultKind::FetchUnmapped, 0x1000, 0));
    let mut h = Hart::new(0, 0, RAM + 1);
    let f = fault_of(h.run(&mut bus, 100));
    assert_eq!(f.kind, FaultKind::FetchMisaligned);
}

#[test]
fn unmapped_loads_and_stores_fault_with_the_address() {
    let (mut h, mut bus) = setup(&prog(&[&li(A0, 0x3000_0000), &[lw(A1, A0, 8)]]));
    let f = fault_of(run_until_stop(&mut h, &mut bus, 0));
    assert_eq!(f.kind, FaultKind::LoadUnmapped { addr: 0x3000_0008 });
    assert_eq!(f.pc, RAM + 8);
    let (mut h, mut bus) = setup(&prog(&[&li(A0, 0x3000_0000), &[sb(A1, A0, 3)]]));
    let f = fault_of(run_until_stop(&mut h, &mut bus, 0));
    assert_eq!(f.kind, FaultKind::StoreUnmapped { addr: 0x3000_0000 });
}

#[test]
fn ecall_and_ebreak_stop_without_retiring() {
    let (mut h, mut bus) = setup(&[ECALL, addi(A0, A0, 1), EBREAK]);
    assert_eq!(h.run(&mut bus, 100), Stop::Ecall { pc: RAM });
    assert_eq!(h.instret, 0);
    h.skip(&mut bus);
    assert_eq!(h.run(&mut bus, 100), Stop::Ebreak { pc: RAM + 8 });
    assert_eq!(h.x[A0 as usize], 1);
}

#[test]
fn a_trap_enters_mtvec_and_mret_returns_to_mepc_plus_four() {
    // Handler at RAM + 0x100 (mtvec bases are 256-byte aligned): mepc += 4; mret.
    let mut bus = TestBus::new();
    bus.load_words(
        0,
        &prog(&[
            &li(A0, RAM + 0x100),
            &[csrrw(ZERO, 0x305, A0), ECALL, addi(A1, A1, 7), EBREAK],
        ]),
    );
    bus.load_words(
        0x100,
        &[
            csrrs(T0, 0x341, ZERO),
            addi(T0, T0, 4),
            csrrw(ZERO, 0x341, T0),
            csrrs(T1, 0x342, ZERO),
            MRET,
        ],
    );
    let mut h = Hart::new(0, 0, RAM);
    let Stop::Ecall { pc } = h.run(&mut bus, 1000) else {
        panic!()
    };
    h.take_trap(11, 0); // environment call from M-mode
    assert_eq!(h.pc, RAM + 0x100);
    assert_eq!(h.csrs.mepc, pc);
    assert_eq!(h.run(&mut bus, 1000), Stop::Ebreak { pc: RAM + 20 });
    assert_eq!(h.x[A1 as usize], 7);
    assert_eq!(h.x[T1 as usize], 11);
}

#[test]
fn fp_instructions_are_illegal_while_mstatus_fs_is_off() {
    // Reset: FS = Off (cv32e40p_cs_registers.sv). flw, fadd and fcsr accesses trap.
    for instr in [flw(1, SP, 0), fadd(1, 2, 3, RNE), csrrs(A0, 0x003, ZERO)] {
        let mut bus = TestBus::new();
        bus.load_words(0, &[instr]);
        let mut h = Hart::new(0, 0, RAM);
        let f = fault_of(h.run(&mut bus, 100));
        assert_eq!((f.kind, f.raw), (FaultKind::IllegalInstruction, instr));
    }
    // csrs mstatus, (1 << 13) (FS = Initial), then fadd: FS becomes Dirty and SD reads 1.
    let mut bus = TestBus::new();
    bus.load_words(
        0,
        &prog(&[
            &li(T0, 1 << 13),
            &[
                csrrs(ZERO, 0x300, T0),
                fadd(1, 2, 3, RNE),
                csrrs(A0, 0x300, ZERO),
                EBREAK,
            ],
        ]),
    );
    let mut h = Hart::new(0, 0, RAM);
    assert!(matches!(h.run(&mut bus, 100), Stop::Ebreak { .. }));
    assert_eq!(h.x[A0 as usize], 0x8000_0000 | (3 << 13) | 0x1800);
}
