//! The PULP performance counters (PCER 0xCC0, PCMR 0xCC1, PCCR 0x780..0x79F; see
//! `vp_core::perf`) on small programs, with the expected counts derived by hand from the
//! timing table (the comments add them up).

mod common;
use common::asm::*;
use common::reg::*;
use common::*;
use vp_core::perf::event::*;
use vp_core::Stop;

const PCER: u32 = 0xCC0;
const PCMR: u32 = 0xCC1;
const PCCR0: u32 = 0x780;
const PCCR_ALL: u32 = 0x79F;

/// Run with every timed (TCDM) access stalled `stall` cycles and `ram_wait` wait states on
/// RAM (external) accesses.
fn run(words: &[u32], stall: u64, ram_wait: u32) -> (vp_core::Hart, TestBus) {
    let (mut h, mut bus) = setup(words);
    bus.ram_wait = ram_wait;
    let stop = run_until_stop(&mut h, &mut bus, stall);
    assert!(matches!(stop, Stop::Ebreak { .. }), "{stop:?}");
    (h, bus)
}

#[test]
fn counters_reset_to_zero_with_no_event_enabled() {
    // Reset: PCER 0, PCMR 3 (active, saturate): nothing counts until PCER is written.
    let (h, _) = run(
        &[
            csrrs(A0, PCER, ZERO),
            csrrs(A1, PCMR, ZERO),
            NOP,
            csrrs(A2, PCCR0, ZERO),
            EBREAK,
        ],
        0,
        0,
    );
    assert_eq!(h.x[A0 as usize], 0);
    assert_eq!(h.x[A1 as usize], 3);
    assert_eq!(h.x[A2 as usize], 0);
    assert_eq!(h.perf.pccr, [0; 17]);
}

/// The counted region of [`every_event_of_a_small_program`]: the instructions between
/// `csrw PCER, all` and `csrwi PCMR, 0`.
fn counted_program() -> Vec<u32> {
    prog(&[
        &li(A0, TCDM + 0x40),
        &li(T0, 0x1_FFFF),
        &[csrrw(ZERO, PCER, T0)], // counting starts after this instruction
        &[
            lw(A1, A0, 0),         // TCDM load: 1 + 2 stall (lost arbitrations)
            addi(A1, A1, 1),       // load-use: 1 + 1
            sw(A1, A0, 4),         // TCDM store: 1 + 2
            beq(ZERO, ZERO, 8),    // taken: 3
            NOP,                   // skipped
            bne(ZERO, ZERO, 8),    // not taken: 1
            jal(RA, 8),            // 2
            NOP,                   // skipped
            lw(A2, SP, 0),         // RAM (external) load: 1 + 3 wait states
            csrrwi(ZERO, PCMR, 0), // stops counting; counted itself: 1
        ],
        &[
            csrrs(A3, PCCR0, ZERO),
            csrrs(A4, PCCR0 + INSTR as u32, ZERO),
            csrrs(A5, PCCR_ALL, ZERO),
            EBREAK,
        ],
    ])
}

#[test]
fn every_event_of_a_small_program() {
    let (h, bus) = run(&counted_program(), 2, 3);
    let p = h.perf.pccr;
    // cycles: lw 3 + addi 2 + sw 3 + beq 3 + bne 1 + jal 2 + lw 4 + csrwi 1 = 19
    assert_eq!(p[CYCLES], 19);
    // instructions: lw addi sw beq bne jal lw csrwi = 8
    assert_eq!(p[INSTR], 8);
    assert_eq!(p[LD_STALL], 1);
    assert_eq!(p[JMP_STALL], 0);
    assert_eq!(p[IMISS], 0);
    assert_eq!(p[LD], 2);
    assert_eq!(p[ST], 1);
    assert_eq!(p[JUMP], 1);
    assert_eq!(p[BRANCH], 2);
    assert_eq!(p[TAKEN_BRANCH], 1);
    assert_eq!(p[RVC], 0);
    assert_eq!(p[ELW], 0);
    // The RAM load is the only external access: 1 cycle + 3 wait states.
    assert_eq!(p[LD_EXT], 1);
    assert_eq!(p[ST_EXT], 0);
    assert_eq!(p[LD_EXT_CYC], 4);
    assert_eq!(p[ST_EXT_CYC], 0);
    // Two TCDM accesses that each lost 2 arbitrations.
    assert_eq!(p[TCDM_CONT], 4);
    // Reads through the CSRs: the same values; 0x79F reads 0.
    assert_eq!(h.x[A3 as usize], 19);
    assert_eq!(h.x[A4 as usize], 8);
    assert_eq!(h.x[A5 as usize], 0);
    let _ = bus;
}

#[test]
fn counting_does_not_change_timing() {
    // The same program with the PCER write replaced by a NOP takes the same cycles.
    let mut quiet = counted_program();
    let i = quiet
        .iter()
        .position(|&w| w == csrrw(ZERO, PCER, T0))
        .unwrap();
    quiet[i] = NOP;
    let (a, _) = run(&counted_program(), 2, 3);
    let (b, _) = run(&quiet, 2, 3);
    assert_eq!(a.cycle, b.cycle);
    assert_eq!(a.instret, b.instret);
    assert_eq!(b.perf.pccr, [0; 17]);
}

#[test]
fn a_read_sees_the_events_before_it_and_the_cycles_up_to_its_own() {
    let (h, _) = run(
        &prog(&[
            &li(T0, 0b11), // cycles and instructions
            &[
                csrrw(ZERO, PCER, T0), // counting starts after it
                NOP,                   // 1
                mulh(A1, A1, A1),      // 5
                csrrs(A0, PCCR0, ZERO),
                csrrs(A2, PCCR0 + 1, ZERO),
                EBREAK,
            ],
        ]),
        0,
        0,
    );
    // The first read: nop 1 + mulh 5 = 6 cycles, 2 instructions.
    assert_eq!(h.x[A0 as usize], 6);
    // The second: the first read counted too (one more instruction, one more cycle).
    assert_eq!(h.x[A2 as usize], 3);
}

#[test]
fn compressed_instructions_and_jump_register_stalls() {
    // 0: csrw PCER, t0 (t0 = all, set by the li before it)
    // then c.addi a0, 1 (0x0505), c.nop (0x0001), auipc a1, 0; jalr zero, 14(a1) (+1 stall:
    // a1 written by the previous instruction), landing on csrwi PCMR, 0.
    let mut hs = halves(&li(T0, 0x1_FFFF));
    hs.extend(halves(&[csrrw(ZERO, PCER, T0)]));
    hs.extend([0x0505, 0x0001]);
    // auipc is at byte offset 16; jalr at 20; the target at 16 + 12 = 28.
    hs.extend(halves(&[auipc(A1, 0), jalr(ZERO, A1, 12), NOP]));
    hs.extend(halves(&[csrrwi(ZERO, PCMR, 0), EBREAK]));
    let (mut h, mut bus) = setup_halves(&hs);
    let stop = run_until_stop(&mut h, &mut bus, 0);
    assert!(matches!(stop, Stop::Ebreak { .. }), "{stop:?}");
    let p = h.perf.pccr;
    // c.addi 1 + c.nop 1 + auipc 1 + jalr 3 + csrwi 1 = 7 cycles, 5 instructions.
    assert_eq!(p[CYCLES], 7);
    assert_eq!(p[INSTR], 5);
    assert_eq!(p[RVC], 2);
    assert_eq!(p[JUMP], 1);
    assert_eq!(p[JMP_STALL], 1);
}

#[test]
fn writing_0x79f_sets_every_counter_and_saturation_is_optional() {
    let (h, _) = run(
        &prog(&[
            &li(T0, 0xFFFF_FFFE),
            &li(T1, 0b10), // instructions only
            &[
                csrrwi(ZERO, PCMR, 0),
                csrrw(ZERO, PCCR_ALL, T0), // every counter = 0xFFFFFFFE
                csrrw(ZERO, PCER, T1),
                csrrwi(ZERO, PCMR, 3), // active + saturate
                NOP,
                NOP,
                NOP,
                csrrwi(ZERO, PCMR, 0), // 4 instructions counted: saturates at 0xFFFFFFFF
                csrrs(A0, PCCR0 + 1, ZERO),
                csrrs(A1, PCCR0 + 5, ZERO), // loads: not enabled, still the written value
                csrrs(A2, PCCR0 + 20, ZERO), // no event 20: reads 0
                csrrw(ZERO, PCCR_ALL, T0),
                csrrwi(ZERO, PCMR, 1), // active, wrapping
                NOP,
                NOP,
                NOP,
                csrrwi(ZERO, PCMR, 0), // 4 counted: 0xFFFFFFFE + 4 wraps to 2
                csrrs(A3, PCCR0 + 1, ZERO),
                EBREAK,
            ],
        ]),
        0,
        0,
    );
    assert_eq!(h.x[A0 as usize], 0xFFFF_FFFF);
    assert_eq!(h.x[A1 as usize], 0xFFFF_FFFE);
    assert_eq!(h.x[A2 as usize], 0);
    assert_eq!(h.x[A3 as usize], 2);
}

#[test]
fn clock_gated_cycles_are_not_counted() {
    // A load the platform answers after 10 cycles, all of them with the clock gated (an
    // event-unit wait): the cycle counter skips them.
    let (mut h, mut bus) = setup(&prog(&[
        &li(A0, TCDM + 0x40),
        &li(T0, 1), // cycles only
        &[
            csrrw(ZERO, PCER, T0),
            lw(A1, A0, 0), // 1 + 10, 10 gated
            NOP,           // 1
            csrrwi(ZERO, PCMR, 0),
            EBREAK,
        ],
    ]));
    loop {
        match h.run(&mut bus, u64::MAX) {
            Stop::Timed(p) => {
                let v = bus.perform(&p.req);
                h.clock_gated(10);
                h.complete_access(v, 10).unwrap();
            }
            Stop::Ebreak { .. } => break,
            s => panic!("{s:?}"),
        }
    }
    // lw 1 (of 11) + nop 1 + csrwi 1 = 3
    assert_eq!(h.perf.pccr[CYCLES], 3);
}
