//! Cycle counts of small sequences, derived from the CV32E40P timing table
//! (docs/source/pipeline.rst, "Cycle counts per instruction type" and "Hazards").
//! Each program ends in an ebreak, which does not retire: `hart.cycle` at the stop
//! is the sum of the costs of the instructions before it.

mod common;
use common::asm::*;
use common::reg::*;
use common::*;
use vp_core::hart::div_cycles;
use vp_core::{Hart, Stop};

fn cycles(words: &[u32]) -> u64 {
    let (h, _) = exec(words);
    h.cycle
}

fn cycles_halves(hs: &[u16]) -> u64 {
    let (mut h, mut bus) = setup_halves(hs);
    let stop = run_until_stop(&mut h, &mut bus, 0);
    assert!(matches!(stop, Stop::Ebreak { .. }), "{stop:?}");
    h.cycle
}

#[test]
fn alu_instructions_take_one_cycle() {
    // 3 x ALU (1 each) + mul (1) = 4
    assert_eq!(
        cycles(&[
            addi(A0, A0, 1),
            add(A1, A0, A0),
            xori(A2, A1, 3),
            mul(A3, A2, A1),
            EBREAK
        ]),
        4
    );
}

#[test]
fn a_load_used_by_the_next_instruction_stalls_one_cycle() {
    let base = li(A0, RAM + 0x100); // 2 cycles
                                    // lw 1 + addi reading a1: 1 + 1 load-use stall = 2  ->  2 + 1 + 2 = 5
    assert_eq!(
        cycles(&prog(&[&base, &[lw(A1, A0, 0), addi(A1, A1, 1), EBREAK]])),
        5
    );
    // independent instruction after the load: 2 + 1 + 1 = 4
    assert_eq!(
        cycles(&prog(&[&base, &[lw(A1, A0, 0), addi(A2, A3, 1), EBREAK]])),
        4
    );
    // one instruction in between hides it: 2 + 1 + 1 + 1 = 5
    assert_eq!(
        cycles(&prog(&[
            &base,
            &[lw(A1, A0, 0), NOP, addi(A1, A1, 1), EBREAK]
        ])),
        5
    );
    // cv32e40p_controller.sv load_stall_o also covers a write of the same
    // register (WAW) by the next instruction: 2 + 1 + 2 = 5
    assert_eq!(
        cycles(&prog(&[&base, &[lw(A1, A0, 0), addi(A1, A2, 1), EBREAK]])),
        5
    );
    // a store of the loaded value stalls too: 2 + 1 + 2 = 5
    assert_eq!(
        cycles(&prog(&[&base, &[lw(A1, A0, 0), sw(A1, A0, 4), EBREAK]])),
        5
    );
}

#[test]
fn branches_cost_one_when_not_taken_and_three_when_taken() {
    // bne zero, zero: not taken, 1
    assert_eq!(cycles(&[bne(ZERO, ZERO, 8), EBREAK]), 1);
    // beq zero, zero, +8: taken, 3; lands on the ebreak at 8
    assert_eq!(cycles(&[beq(ZERO, ZERO, 8), NOP, EBREAK]), 3);
}

#[test]
fn a_taken_branch_to_a_misaligned_32_bit_instruction_costs_four() {
    // 0: beq zero, zero, +6 (3 + 1: the target at 6 is a 32-bit instruction at a
    // non-word-aligned address); 4: c.nop; 6: addi (1); 10: c.ebreak.  3 + 1 + 1 = 5
    let mut hs = halves(&[beq(ZERO, ZERO, 6)]);
    hs.push(0x0001);
    hs.extend(halves(&[addi(A0, A0, 1)]));
    hs.push(0x9002);
    assert_eq!(cycles_halves(&hs), 5);
    // Same layout with a compressed target (c.addi a0, 1 = 0x0505): 3 + 1 = 4
    let mut hs = halves(&[beq(ZERO, ZERO, 6)]);
    hs.extend([0x0001, 0x0505, 0x9002]);
    assert_eq!(cycles_halves(&hs), 4);
}

#[test]
fn a_loop_back_to_a_misaligned_target_pays_for_a_32_bit_one_every_time() {
    // 0: addi a1, zero, 3 (1); 4: c.nop (1); 6: addi a0, a0, 1; 10: addi a1, a1, -1;
    // 14: bne a1, zero, -8 (to 6); 18: c.ebreak. The first pass falls into the loop;
    // the second and third enter the 32-bit instruction at 6 through the branch (+1,
    // now decoded and cached): 2 + (1 + 1 + 3) + (2 + 1 + 3) + (2 + 1 + 1) = 17
    let mut hs = halves(&[addi(A1, ZERO, 3)]);
    hs.push(0x0001);
    hs.extend(halves(&[
        addi(A0, A0, 1),
        addi(A1, A1, -1),
        bne(A1, ZERO, -8),
    ]));
    hs.push(0x9002);
    assert_eq!(cycles_halves(&hs), 17);
    // The same loop around a compressed instruction at 6 (c.addi a0, 1; bne at 12, -6):
    // no extra cycle. 2 + (1 + 1 + 3) + (1 + 1 + 3) + (1 + 1 + 1) = 15
    let mut hs = halves(&[addi(A1, ZERO, 3)]);
    hs.extend([0x0001, 0x0505]);
    hs.extend(halves(&[addi(A1, A1, -1), bne(A1, ZERO, -6)]));
    hs.push(0x9002);
    assert_eq!(cycles_halves(&hs), 15);
}

#[test]
fn jumps_cost_two_and_three_to_a_misaligned_32_bit_target() {
    // jal +8 (2) -> ebreak at 8
    assert_eq!(cycles(&[jal(RA, 8), NOP, EBREAK]), 2);
    // 0: jal +6 (2 + 1); 4: c.nop; 6: addi (1); 10: c.ebreak.  2 + 1 + 1 = 4
    let mut hs = halves(&[jal(ZERO, 6)]);
    hs.push(0x0001);
    hs.extend(halves(&[addi(A0, A0, 1)]));
    hs.push(0x9002);
    assert_eq!(cycles_halves(&hs), 4);
}

#[test]
fn jalr_on_the_previous_result_stalls() {
    // 0: auipc a0, 0 (1); 4: jalr zero, 12(a0) (2 + 1 jr_stall: a0 written by the
    // previous instruction); 12: ebreak.  1 + 3 = 4
    assert_eq!(cycles(&[auipc(A0, 0), jalr(ZERO, A0, 12), NOP, EBREAK]), 4);
    // With an instruction in between the forwarding hides it: 1 + 1 + 2 = 4
    assert_eq!(
        cycles(&[auipc(A0, 0), NOP, jalr(ZERO, A0, 16), NOP, EBREAK]),
        4
    );
    // A load feeding jalr: the load-use stall (load in EX) plus a jr_stall while
    // the load is in WB: lw 1 + jalr 2 + 2 = 5, after the 2-cycle li
    let mut bus = TestBus::new();
    bus.load_words(
        0,
        &prog(&[&li(A0, RAM + 0x100), &[lw(A1, A0, 0), jalr(ZERO, A1, 0)]]),
    );
    bus.load_words(0x100, &[RAM + 0x20]);
    bus.load_words(0x20, &[EBREAK]);
    let mut h = Hart::new(0, 0, RAM);
    assert!(matches!(
        run_until_stop(&mut h, &mut bus, 0),
        Stop::Ebreak { .. }
    ));
    assert_eq!(h.cycle, 2 + 1 + 4);
}

#[test]
fn mulh_takes_five_cycles() {
    // mulh 5, mulhsu 5, mulhu 5, mul 1 = 16
    assert_eq!(
        cycles(&[
            mulh(A0, A1, A2),
            mulhsu(A0, A1, A2),
            mulhu(A0, A1, A2),
            mul(A0, A1, A2),
            EBREAK
        ]),
        16
    );
}

#[test]
fn division_latency_depends_on_the_divisor_leading_zeros() {
    // cv32e40p_alu_div.sv: 3 + clz(divisor) (35 for zero)
    let run = |divisor: u32, op: fn(u32, u32, u32) -> u32| {
        cycles(&prog(&[&li(A2, divisor), &[op(A0, A1, A2), EBREAK]])) - 2
    };
    assert_eq!(run(1, divu), 3 + 31);
    assert_eq!(run(0, divu), 35);
    assert_eq!(run(0, div), 35);
    assert_eq!(run(0x8000_0000, divu), 3);
    assert_eq!(run(0x0001_0000, remu), 3 + 15);
    assert_eq!(run(7, rem), 3 + 29);
    // negative signed divisor: the count runs on the complement !b (cv32e40p_alu.sv:
    // operand_a_neg = ~operand_a_i), div_shift = clz(!b) - 1 without the +1:
    // -8 = 0xfffffff8, !b = 7, clz 29: 3 + 28; -7: !b = 6, also 3 + 28; -1: !b = 0 has
    // no ones, div_shift = 31: 3 + 31; INT_MIN: !b = 0x7fffffff, clz 1: 3 + 0.
    assert_eq!(run(-8i32 as u32, rem), 3 + 28);
    assert_eq!(run(-7i32 as u32, div), 3 + 28);
    assert_eq!(run(-1i32 as u32, div), 3 + 31);
    assert_eq!(run(0x8000_0000, div), 3);
    // signed, non-negative: as unsigned
    assert_eq!(run(7, div), 3 + 29);
    assert_eq!(div_cycles(0x8000_0000, false), 3);
    assert_eq!(div_cycles(0xf000_0000, true), 3 + 3);
}

#[test]
fn division_latency_uses_the_divisor_before_the_result_overwrites_it() {
    // div a2, a1, a2: the result lands in the divisor's register; the latency is still
    // the divisor's (1: 3 + 31), not the result's (0x40: 3 + 25).
    let (h, _) = exec(&prog(&[
        &li(A1, 0x40),
        &li(A2, 1),
        &[divu(A2, A1, A2), EBREAK],
    ]));
    assert_eq!(h.x[A2 as usize], 0x40);
    assert_eq!(h.cycle, 4 + 3 + 31);
}

#[test]
fn csr_accesses_cost_four_for_machine_state_and_counters() {
    // mstatus 4, mscratch 1, mcycle 4, mhartid 1 = 10
    assert_eq!(
        cycles(&[
            csrrs(A0, 0x300, ZERO),
            csrrs(A0, 0x340, ZERO),
            csrrs(A0, 0xB00, ZERO),
            csrrs(A0, 0xF14, ZERO),
            EBREAK
        ]),
        10
    );
}

#[test]
fn mcycle_reads_the_local_cycle_of_the_instruction() {
    // csrw mcountinhibit, zero at cycle 0 (4 cycles) starts the counter, which holds 0
    // at the start of the enabling write: from then on mcycle = cycle.
    // nop (1), then csrr a0, mcycle at cycle 5; then csrr a1, mcycle at 5 + 4
    let (h, _) = exec(&[
        csrrwi(ZERO, 0x320, 0),
        NOP,
        csrrs(A0, 0xB00, ZERO),
        csrrs(A1, 0xB00, ZERO),
        EBREAK,
    ]);
    assert_eq!(h.x[A0 as usize], 5);
    assert_eq!(h.x[A1 as usize], 9);
}

#[test]
fn mcycle_is_frozen_while_inhibited() {
    // Reset: mcountinhibit = 0b101 (cv32e40p_cs_registers.sv); mcycle reads 0.
    let (h, _) = exec(&[NOP, NOP, csrrs(A0, 0xB00, ZERO), EBREAK]);
    assert_eq!(h.x[A0 as usize], 0);
}

#[test]
fn misaligned_direct_accesses_take_two_cycles_and_wait_states_add() {
    let base = li(A0, RAM + 0x100);
    // lw at +2 crosses a word: 2; lh at +3 crosses: 2; lh at +1 does not: 1 -> 2 + 5
    assert_eq!(
        cycles(&prog(&[
            &base,
            &[lw(A1, A0, 2), lh(A2, A0, 3), lh(A3, A0, 1), EBREAK]
        ])),
        7
    );
    let (mut h, mut bus) = setup(&prog(&[&base, &[lw(A1, A0, 0), lw(A1, A0, 2), EBREAK]]));
    bus.ram_wait = 3;
    run_until_stop(&mut h, &mut bus, 0);
    // 2 + (1 + 3) + 2 x (1 + 3)
    assert_eq!(h.cycle, 2 + 4 + 8);
}

#[test]
fn wfi_and_fence_are_single_cycle_nops() {
    assert_eq!(cycles(&[WFI, 0x0ff0_000f, EBREAK]), 2);
}

#[test]
fn a_timed_access_is_issued_after_the_hazard_stall() {
    // li a0 (2); lw a1, 0(a0) from TCDM: timed, issued at 2, granted at once (1);
    // lw a2, 0(a1): load-use stall, issued at 2 + 1 + 1 = 4
    let p = prog(&[&li(A0, TCDM), &[lw(A1, A0, 0), lw(A2, A1, 0), EBREAK]]);
    let (mut h, mut bus) = setup(&p);
    let Stop::Timed(a) = h.run(&mut bus, u64::MAX) else {
        panic!()
    };
    assert_eq!(a.cycle, 2);
    h.complete_access(TCDM + 8, 0).unwrap();
    let Stop::Timed(b) = h.run(&mut bus, u64::MAX) else {
        panic!()
    };
    assert_eq!(b.cycle, 4);
    assert_eq!(b.req.addr, TCDM + 8);
}

mod fp {
    use super::*;

    fn fp_prog(body: &[u32]) -> Vec<u32> {
        // one = 1.0f in a0 -> fa0, fa1 (3 cycles: lui, fmv, fmv)
        prog(&[
            &[lui(A0, 0x3f800), fmv_w_x(10, A0), fmv_w_x(11, A0)],
            body,
            &[EBREAK],
        ])
    }

    #[test]
    fn a_dependent_fp_add_waits_for_the_result() {
        // C_LAT = 2: the result is usable 3 cycles after issue.
        // fadd fa2 (issue at 3) ; fadd fa3, fa2 waits until 6, then 1 cycle -> 7
        let (h, _) = exec(&fp_prog(&[fadd(12, 10, 11, RNE), fadd(13, 12, 10, RNE)]));
        assert_eq!(h.cycle, 7);
        assert_eq!(h.f[13], 3.0f32.to_bits());
    }

    #[test]
    fn independent_integer_work_hides_fp_latency() {
        // fadd at 3: its result is written back through the ALU port at 5 (usable at 6).
        // nop at 4; the nop at 5 wants the same port (cv32e40p_ex_stage.sv wb_contention)
        // and stays in EX until 6; the dependent fadd at 7 -> 8 (the RTL's count).
        let (h, _) = exec(&fp_prog(&[
            fadd(12, 10, 11, RNE),
            NOP,
            NOP,
            fadd(13, 12, 10, RNE),
        ]));
        assert_eq!(h.cycle, 8);
        // a store at 5 does not write a register: no contention, 7
        let (h, _) = exec(&fp_prog(&[
            lui(A2, 0x1c008),
            fadd(12, 10, 11, RNE),
            NOP,
            sw(A1, A2, 0),
            fadd(13, 12, 10, RNE),
        ]));
        assert_eq!(h.cycle, 1 + 7);
    }

    #[test]
    fn an_fp_op_writing_the_loaded_register_does_not_stall() {
        // li 2, flw fa2 1, fsgnj.s fa2 (WAW on the loaded register, no read) 1: FPU
        // results are not in load_stall_o's WAW term (the RTL's count) -> 3 + 4 = 7;
        // reading it (RAW) stalls: 8.
        let base = li(A0, RAM + 0x100);
        let sgnj = |rd, rs1| fop(0x10, rd, rs1, 11, 0);
        let (h, _) = exec(&fp_prog(
            &[&base[..], &[flw(12, A0, 0), sgnj(12, 10)]].concat(),
        ));
        assert_eq!(h.cycle, 7);
        let (h, _) = exec(&fp_prog(
            &[&base[..], &[flw(12, A0, 0), sgnj(13, 12)]].concat(),
        ));
        assert_eq!(h.cycle, 8);
    }

    // The write-back of a multicycle FPU result through the ALU port
    // (cv32e40p_ex_stage.sv apu_valid / wb_contention). Each count below was checked on
    // the RTL under Verilator as a difference between two sequences that differ in one
    // instruction; the absolute counts are this harness's (three setup instructions).

    #[test]
    fn a_mulh_holds_an_fp_write_back_until_it_ends() {
        // lui 3; fadd at 4 (offered at 6); mulh 5..9 refuses it from its second cycle
        // (mulh_active), so it is offered at 10: to a nop, which loses the port and stays
        // in EX until 11 -> ebreak at 12; to a store, which does not write a register ->
        // 11.
        let (h, _) = exec(&fp_prog(&[
            lui(A4, 0x1c008),
            fadd(12, 10, 11, RNE),
            mulh(A1, A2, A3),
            NOP,
        ]));
        assert_eq!(h.cycle, 12);
        let (h, _) = exec(&fp_prog(&[
            lui(A4, 0x1c008),
            fadd(12, 10, 11, RNE),
            mulh(A1, A2, A3),
            sw(A1, A4, 0),
        ]));
        assert_eq!(h.cycle, 11);
    }

    #[test]
    fn a_jump_held_by_an_fp_write_back_after_a_mulh_lets_the_next_jump_overlap() {
        // lui 3; fadd at 4 (offered after the mulh); mulh 5..9; jal ra at 10, decided in
        // ID during the mulh (1 cycle), loses the port to the result: 10..11; the jal at
        // its target, in ID since 10, is decided while the first holds EX and has its
        // own target fetched then: 1 cycle at 12 -> ebreak at 13, as without the FPU
        // result (jal ra 10, jal t0 11..12).
        let (h, _) = exec(&fp_prog(&[
            lui(A4, 0x1c008),
            fadd(12, 10, 11, RNE),
            mulh(A1, A2, A3),
            jal(RA, 4),
            jal(T0, 4),
        ]));
        assert_eq!(h.cycle, 13);
        let (h, _) = exec(&fp_prog(&[
            lui(A4, 0x1c008),
            NOP,
            mulh(A1, A2, A3),
            jal(RA, 4),
            jal(T0, 4),
        ]));
        assert_eq!(h.cycle, 13);
        // Not when the second jal is a 32-bit target at pc % 4 = 2: its second fetch takes
        // that cycle, and it costs 2 (+1 for the held cycle, as the RTL: 16 with the FPU
        // result, 15 without).
        let run = |first: u32| {
            let hs = [
                halves(&[lui(A0, 0x3f800), fmv_w_x(10, A0), fmv_w_x(11, A0)]),
                halves(&[lui(A4, 0x1c008), first, mulh(A1, A2, A3), jal(RA, 6)]),
                vec![0x0001], // c.nop, jumped over
                halves(&[jal(T0, 4), EBREAK]),
            ]
            .concat();
            let (mut h, mut bus) = setup_halves(&hs);
            assert!(matches!(
                run_until_stop(&mut h, &mut bus, 0),
                Stop::Ebreak { .. }
            ));
            h.cycle
        };
        assert_eq!(run(fadd(12, 10, 11, RNE)), 16);
        assert_eq!(run(NOP), 15);
    }

    #[test]
    fn an_fp_write_back_waits_while_a_data_response_arrives() {
        // lui 3; fadd at 4 (offered at 6); sw at 5; the nop at 6 writes through the port
        // while the store's response arrives (data_rvalid): refused, offered again at 7.
        // A nop at 7 loses the port -> 7..8, ebreak at 9; a store at 7 -> 8.
        let (h, _) = exec(&fp_prog(&[
            lui(A4, 0x1c008),
            fadd(12, 10, 11, RNE),
            sw(A1, A4, 0),
            NOP,
            NOP,
        ]));
        assert_eq!(h.cycle, 9);
        let (h, _) = exec(&fp_prog(&[
            lui(A4, 0x1c008),
            fadd(12, 10, 11, RNE),
            sw(A1, A4, 0),
            NOP,
            sw(A1, A4, 0),
        ]));
        assert_eq!(h.cycle, 8);
    }

    #[test]
    fn a_jump_writing_its_link_loses_the_port_to_an_fp_write_back() {
        // lui 3; fadd at 4 (offered at 6); nop 5; j at 6 (jumps write their link, rd =
        // x0 too, through the port): 3 cycles -> ebreak at 9. After a store instead of
        // the nop the result is refused at 6 (data_rvalid), taken at 7 in the jump's
        // bubble: 2 cycles -> 8.
        let (h, _) = exec(&fp_prog(&[
            lui(A4, 0x1c008),
            fadd(12, 10, 11, RNE),
            NOP,
            jal(ZERO, 4),
        ]));
        assert_eq!(h.cycle, 9);
        let (h, _) = exec(&fp_prog(&[
            lui(A4, 0x1c008),
            fadd(12, 10, 11, RNE),
            sw(A1, A4, 0),
            jal(ZERO, 4),
        ]));
        assert_eq!(h.cycle, 8);
    }

    #[test]
    fn an_fp_write_back_waits_while_a_jalr_is_in_id() {
        // fadd at 3 (offered at 5); auipc a5 at 4; addi a5 at 5 with the jalr on a5
        // behind it in ID: refused (BRANCH_JALR in decode), so the addi does not lose
        // the port; the jalr waits a cycle for a5 (jr_stall), the result is taken then:
        // jalr 6..8 -> ebreak (auipc + 16) at 9. With a nop between addi and jalr the
        // addi loses the port (5..6), nop 7, jalr 8..9 -> 10.
        let (h, _) = exec(&fp_prog(&[
            fadd(12, 10, 11, RNE),
            auipc(A5, 0),
            addi(A5, A5, 16),
            jalr(ZERO, A5, 0),
            NOP,
            EBREAK,
        ]));
        assert_eq!(h.cycle, 9);
        let (h, _) = exec(&fp_prog(&[
            fadd(12, 10, 11, RNE),
            auipc(A5, 0),
            addi(A5, A5, 16),
            NOP,
            jalr(ZERO, A5, 0),
            EBREAK,
        ]));
        assert_eq!(h.cycle, 10);
    }

    #[test]
    fn an_fp_write_back_waits_through_a_jalr_instead_of_holding_it() {
        // The decoder still holds the jalr in its EX cycle (the ID register keeps it until
        // the target arrives), so a result offered then waits (BRANCH_JALR in decode)
        // and is taken in the bubble after: auipc a5 3; fadd 4 (offered at 6); nop 5;
        // jalr 6..7 with either link -> ebreak (auipc + 16) at 8, as a jal would take 9.
        for link in [RA, ZERO] {
            let (h, _) = exec(&fp_prog(&[
                auipc(A5, 0),
                fadd(12, 10, 11, RNE),
                NOP,
                jalr(link, A5, 16),
                EBREAK,
            ]));
            assert_eq!(h.cycle, 8, "link x{link}");
        }
        // Offered while a nop is in EX and a jalr linking its own base register in ID:
        // the nop keeps the port (6), the result waits through the jalr (7..9, +1 for
        // the link) -> ebreak (auipc + 20) at 10.
        let (h, _) = exec(&fp_prog(&[
            auipc(A5, 0),
            fadd(12, 10, 11, RNE),
            NOP,
            NOP,
            jalr(A5, A5, 20),
            EBREAK,
        ]));
        assert_eq!(h.cycle, 10);
    }

    #[test]
    fn a_taken_branch_flushing_a_held_csr_access_waits_for_it() {
        // The flush leaves the csrrs in the ID register (not valid), where csr_apu_stall
        // still holds id_ready low: the branch's target enters ID when the csrrs would
        // have entered EX, and EX a cycle later (seen in the RTL's waveform).
        // fadd at 3 (CSR accesses wait until 7); beq at 4 taken over the csrrs: the
        // target enters EX at 8, not 7 -> ebreak at 8. Over a nop: 3 -> 7.
        let (h, _) = exec(&fp_prog(&[
            fadd(12, 10, 11, RNE),
            beq(ZERO, ZERO, 8),
            csrrs(A1, 0x340, ZERO),
        ]));
        assert_eq!(h.cycle, 8);
        let (h, _) = exec(&fp_prog(&[fadd(12, 10, 11, RNE), beq(ZERO, ZERO, 8), NOP]));
        assert_eq!(h.cycle, 7);
        // fdiv 1/1 at 3: exact, 6 cycles, usable at 9, CSR accesses wait until 10. A
        // beq at 4 over the csrrs: the target enters EX at 11, wherever the beq is (the
        // RTL's cycles for 0 to 4 nops before it); over a nop, the beq costs its 3.
        let div = fdiv(12, 10, 11, RNE);
        for nops in 0..=4 {
            let mut body = vec![div];
            body.extend(std::iter::repeat_n(NOP, nops));
            body.extend([beq(ZERO, ZERO, 8), csrrs(A1, 0x340, ZERO)]);
            let (h, _) = exec(&fp_prog(&body));
            assert_eq!(h.cycle, 11.max(4 + nops as u64 + 3), "{nops} nops");
        }
        let (h, _) = exec(&fp_prog(&[div, beq(ZERO, ZERO, 8), NOP]));
        assert_eq!(h.cycle, 7);
    }

    #[test]
    fn fclass_waits_on_a_result_to_f0_through_its_unused_rs2_field() {
        // fadd to f0 at 3 (usable at 6); fclass a1, fa0 (rs2 field 0 = f0, checked
        // though unused) waits in ID until 6; j 7..8 -> 9. To fa2 instead, fclass waits
        // for the busy FPU in EX (6) and the j behind it overlaps the wait: 1 -> 8.
        let (h, _) = exec(&fp_prog(&[
            fadd(0, 10, 11, RNE),
            fclass(A1, 10),
            jal(ZERO, 4),
        ]));
        assert_eq!(h.cycle, 9);
        let (h, _) = exec(&fp_prog(&[
            fadd(12, 10, 11, RNE),
            fclass(A1, 10),
            jal(ZERO, 4),
        ]));
        assert_eq!(h.cycle, 8);
    }

    #[test]
    fn an_fp_op_waiting_for_the_busy_fpu_waits_in_ex() {
        // fadd at 3 (FPU busy until 6); fmin waits for the FPU in EX (the dispatcher sits
        // there) and issues at 6; the jal behind it waited in ID meanwhile, its target
        // fetch overlapped: 1 cycle -> 8 (the RTL's count; 9 if it waited in ID).
        let (h, _) = exec(&fp_prog(&[
            fadd(12, 10, 11, RNE),
            fmin(13, 10, 11),
            jal(ZERO, 4),
        ]));
        assert_eq!(h.cycle, 8);
        // waiting on an operand is in ID: fadd at 3, fmin reading fa2 at 6, jal 2 -> 9
        let (h, _) = exec(&fp_prog(&[
            fadd(12, 10, 11, RNE),
            fmin(13, 12, 11),
            jal(ZERO, 4),
        ]));
        assert_eq!(h.cycle, 9);
        // writing it (WAW) is not: an FPU instruction's write dependency does not hold
        // it in ID (apu_stall_o = read_dep | write_dep & ~apu_en), the busy FPU holds it
        // in EX as above -> 8
        let (h, _) = exec(&fp_prog(&[
            fadd(12, 10, 11, RNE),
            fmin(12, 10, 11),
            jal(ZERO, 4),
        ]));
        assert_eq!(h.cycle, 8);
    }

    #[test]
    fn a_csr_access_waits_for_an_outstanding_multicycle_fp_result() {
        // cv32e40p_id_stage.sv csr_apu_stall: fadd at 3 (written back at 5), csrr
        // mscratch holds in ID until 7 -> 8 (the RTL's count), wherever it follows.
        let (h, _) = exec(&fp_prog(&[fadd(12, 10, 11, RNE), csrrs(A1, 0x340, ZERO)]));
        assert_eq!(h.cycle, 8);
        let (h, _) = exec(&fp_prog(&[
            fadd(12, 10, 11, RNE),
            NOP,
            csrrs(A1, 0x340, ZERO),
        ]));
        assert_eq!(h.cycle, 8);
        // after a single-cycle FP op (fmin): no wait, 5
        let (h, _) = exec(&fp_prog(&[fmin(12, 10, 11), csrrs(A1, 0x340, ZERO)]));
        assert_eq!(h.cycle, 5);
    }

    #[test]
    fn back_to_back_independent_fp_ops_wait_for_the_fpu() {
        // pipeline.rst: following instructions proceed "as long as they are not
        // FPU ones": fmul at 3, fmul at 6 (FPU busy), ebreak at 7
        let (h, _) = exec(&fp_prog(&[fmul(12, 10, 11, RNE), fmul(13, 11, 11, RNE)]));
        assert_eq!(h.cycle, 7);
    }

    /// Cycles of `li a0, A; li a1, B; fmv fa0, a0; fmv fa1, a1; OP fa2; fmv.x.w a2, fa2`
    /// (the fmv.x.w waits for the result), and the result read.
    fn divsqrt_after(a: f32, b: f32, op: u32) -> (u64, u32) {
        let p = prog(&[
            &li(A0, a.to_bits()),
            &li(A1, b.to_bits()),
            &[
                fmv_w_x(10, A0),
                fmv_w_x(11, A1),
                op,
                fmv_x_w(A2, 12),
                EBREAK,
            ],
        ]);
        let (h, _) = exec(&p);
        (h.cycle, h.x[A2 as usize])
    }

    #[test]
    fn fdiv_and_fsqrt_take_as_long_as_their_operands_need() {
        // fpu::divsqrt_cycles (the unit's latency + 1, measured on the RTL): li, li (2
        // each), fmv, fmv; OP issues at 6, its result is usable `n` cycles later, when
        // fmv.x.w reads it: ebreak at 6 + n + 1.
        let div = fdiv(12, 10, 11, RNE);
        let sqrt = fsqrt(12, 10, RNE);
        // 1/3: inexact, all 15 SRT rounds: 19 -> 26
        assert_eq!(divsqrt_after(1.0, 3.0, div), (26, (1.0f32 / 3.0).to_bits()));
        // 1/1 = 1.0 exact, no fraction bits: 6 -> 13
        assert_eq!(divsqrt_after(1.0, 1.0, div), (13, 1.0f32.to_bits()));
        // 6/4 = 1.5 = 1.1b, one fraction bit: 6 + 1 -> 14
        assert_eq!(divsqrt_after(6.0, 4.0, div), (14, 1.5f32.to_bits()));
        // 1/1.25 = 0.8: inexact -> 26
        assert_eq!(divsqrt_after(1.0, 1.25, div).0, 26);
        // 1/0: decided from the operands, 3, like an add -> 10 (inf)
        assert_eq!(divsqrt_after(1.0, 0.0, div), (10, f32::INFINITY.to_bits()));
        // 2^127 / 2^-2: the exponents differ by 129, overflow without iterating: 5 -> 12
        let big = f32::from_bits(0x7f00_0000);
        assert_eq!(divsqrt_after(big, 0.25, div), (12, f32::INFINITY.to_bits()));
        // 2^-130 / 2^-140 = 2^10, exact: 6; the subnormal divisor delays the unit's grant
        // a cycle, which the fdiv waits in EX (fpu::divsqrt_grant_wait): 6 + 1 + 6 + 1
        let (a, b) = (f32::from_bits(0x0002_0000), f32::from_bits(0x80));
        assert_eq!(divsqrt_after(a, b, div), (14, 1024.0f32.to_bits()));
        // sqrt(2.25) = 1.5 exact: 7 -> 14; sqrt(2): 19 -> 26; sqrt(-1): NaN at once, 3 -> 10
        assert_eq!(divsqrt_after(2.25, 0.0, sqrt), (14, 1.5f32.to_bits()));
        assert_eq!(divsqrt_after(2.0, 0.0, sqrt).0, 26);
        assert_eq!(divsqrt_after(-1.0, 0.0, sqrt), (10, 0x7fc0_0000));
    }

    #[test]
    fn an_fp_load_feeding_an_fp_op_has_the_load_use_stall() {
        // lui a0 (1) + addi (1) [li RAM+0x100], flw (1), fadd reading it (1 + 1) = 5
        let p = prog(&[
            &li(A0, RAM + 0x100),
            &[flw(12, A0, 0), fadd(13, 12, 12, RNE), EBREAK],
        ]);
        assert_eq!(cycles(&p), 5);
    }
}

#[test]
fn jalr_on_a_load_two_instructions_back_stalls_once() {
    // li a0 (2); lw a1 (1); nop (1: the load is in WB while jalr is in ID);
    // jalr a1 (2 + 1) -> 2 + 1 + 1 + 3 = 7
    let mut bus = TestBus::new();
    bus.load_words(
        0,
        &prog(&[
            &li(A0, RAM + 0x100),
            &[lw(A1, A0, 0), NOP, jalr(ZERO, A1, 0)],
        ]),
    );
    bus.load_words(0x100, &[RAM + 0x20]);
    bus.load_words(0x20, &[EBREAK]);
    let mut h = Hart::new(0, 0, RAM);
    assert!(matches!(
        run_until_stop(&mut h, &mut bus, 0),
        Stop::Ebreak { .. }
    ));
    assert_eq!(h.cycle, 7);
}

/// A program exercising every kind of timing rule, including timed accesses.
fn mixed_program() -> Vec<u32> {
    prog(&[
        &li(A0, TCDM + 0x10),
        &li(S0, RAM + 0x200),
        &li(A1, 0x3f80_0000),
        &[
            fmv_w_x(10, A1),
            addi(T0, ZERO, 20), // loop counter
            // loop:
            sw(T0, A0, 0),         // timed store
            lw(A2, A0, 0),         // timed load
            add(A3, A3, A2),       // load-use
            lw(A4, S0, 1),         // misaligned direct load
            divu(A5, A3, T0),      // divisor-dependent latency
            mulh(A6, A5, A3),      // 5 cycles
            fadd(11, 11, 10, RNE), // FP chain: stalls on the next iteration's use
            sw(A3, A0, 3),         // misaligned timed store (two transactions)
            addi(T0, T0, -1),
            bne(T0, ZERO, -36),
            EBREAK,
        ],
    ])
}

fn run_sliced(slice: u64, stall: u64) -> Hart {
    let (mut h, mut bus) = setup(&mixed_program());
    loop {
        let limit = h.cycle + slice;
        match h.run(&mut bus, limit) {
            Stop::Limit => {}
            Stop::Timed(p) => {
                assert!(p.cycle < limit, "a timed access is issued before the limit");
                let v = bus.perform(&p.req);
                h.complete_access(v, stall).unwrap();
            }
            Stop::Ebreak { .. } => return h,
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn slicing_the_run_does_not_change_timing_or_results() {
    let whole = run_sliced(u64::MAX / 2, 2);
    for slice in [1, 2, 3, 7, 40] {
        let h = run_sliced(slice, 2);
        assert_eq!(
            (h.cycle, h.instret, h.x, h.f),
            (whole.cycle, whole.instret, whole.x, whole.f),
            "slice {slice}"
        );
    }
    assert_eq!(whole.instret, 8 + 20 * 10);
    assert_eq!(whole.f[11], 20.0f32.to_bits());
}

#[test]
fn each_lost_arbitration_adds_one_cycle() {
    let a = run_sliced(u64::MAX / 2, 0);
    let b = run_sliced(u64::MAX / 2, 3);
    // 20 iterations x (store + load + 2 halves of the misaligned store) x 3 stalls
    assert_eq!(b.cycle - a.cycle, 20 * 4 * 3);
}

#[test]
fn timing_parameters_load_from_a_scenario_with_defaults() {
    let t: vp_core::Timing = serde_yaml::from_str("fpu_addmul_lat: 1\n").expect("valid");
    assert_eq!(
        (t.fpu_addmul_lat, t.fpu_others_lat, t.fpu_divsqrt_cycles),
        (1, 0, None)
    );
    // a fixed divider latency instead of the unit's operand-dependent one
    let t: vp_core::Timing = serde_yaml::from_str("fpu_divsqrt_cycles: 12\n").expect("valid");
    assert_eq!(t.fpu_divsqrt_cycles, Some(12));
    assert!(
        serde_yaml::from_str::<vp_core::Timing>("fpu_lat: 1\n").is_err(),
        "unknown field"
    );
}

#[test]
fn mret_costs_five_cycles() {
    // li t0 (2); csrw mepc, t0 (4); mret (5, controller FSM, inferred) -> ebreak at 16
    let p = prog(&[&li(T0, RAM + 16), &[csrrw(ZERO, 0x341, T0), MRET, EBREAK]]);
    let (h, _) = exec(&p);
    assert_eq!(h.pc, RAM + 16);
    assert_eq!(h.cycle, 2 + 4 + 5);
}

// The rules below were found by running random programs on the CV32E40P RTL under
// Verilator beside this model (0-wait OBI memories; grant delays injected); each test
// is a directed pair from that comparison, with the RTL's count.

/// Cycles to the ebreak, with every timed (TCDM) access granted after `stall` cycles.
fn cycles_stalled(words: &[u32], stall: u64) -> u64 {
    let (mut h, mut bus) = setup(words);
    let stop = run_until_stop(&mut h, &mut bus, stall);
    assert!(matches!(stop, Stop::Ebreak { .. }), "{stop:?}");
    h.cycle
}

#[test]
fn a_load_into_x0_stalls_a_following_alu_write_to_x0() {
    // load_stall_o's WAW term compares register addresses without excluding x0 (its RAW
    // terms do exclude it): li 2, lb zero 1, nop 1 + 1 stall = 5; add to a1 instead: 4.
    let base = li(A0, RAM + 0x100);
    assert_eq!(cycles(&prog(&[&base, &[lb(ZERO, A0, 0), NOP, EBREAK]])), 5);
    assert_eq!(
        cycles(&prog(&[&base, &[lb(ZERO, A0, 0), addi(A1, A1, 1), EBREAK]])),
        4
    );
    // A jump's link write does not count: lw a2 1, jal a2 (+4) 2 = 2 + 3, like jal a3.
    assert_eq!(
        cycles(&prog(&[&base, &[lw(A2, A0, 0), jal(A2, 4), EBREAK]])),
        5
    );
    assert_eq!(
        cycles(&prog(&[&base, &[lb(ZERO, A0, 0), jal(ZERO, 4), EBREAK]])),
        5
    );
}

#[test]
fn a_jump_after_an_instruction_holding_ex_costs_one() {
    // The jump waits in ID while the instruction before it holds EX, and its target is
    // fetched meanwhile: li a2 = 1 (1), divu 3 + clz(1) = 34, jal 1 (not 2) = 36.
    assert_eq!(
        cycles(&[addi(A2, ZERO, 1), divu(A0, A1, A2), jal(ZERO, 4), EBREAK]),
        36
    );
    // mulh 5, jal 1
    assert_eq!(cycles(&[mulh(A0, A1, A2), jal(RA, 4), EBREAK]), 6);
    // with an instruction between them: mulh 5, addi 1, jal 2
    assert_eq!(cycles(&[mulh(A0, A1, A2), NOP, jal(RA, 4), EBREAK]), 8);
    // a misaligned load (2 transactions): li 2, lw 2, jal 1
    let base = li(A0, RAM + 0x101);
    assert_eq!(
        cycles(&prog(&[&base, &[lw(A1, A0, 0), jal(ZERO, 4), EBREAK]])),
        5
    );
    // a jalr on the instruction's own result waits for it instead: auipc 1, addi 1
    // (a2 = 1), divu a3 = a1 / 1 with a1 = the target (3 + 31 = 34), jalr a3 2 + 1 (jr
    // stall on the previous result) = 39.
    let words = [
        auipc(A1, 0),
        addi(A1, A1, 20), // -> the ebreak
        addi(A2, ZERO, 1),
        divu(A3, A1, A2),
        jalr(ZERO, A3, 0),
        EBREAK,
    ];
    assert_eq!(cycles(&words), 1 + 1 + 1 + 34 + 3);
}

#[test]
fn a_jump_after_a_stalled_access_costs_one_unless_it_links_the_loaded_register() {
    // li 2 (a0 = TCDM), then an access granted after 2 lost cycles: 1 + 2.
    let base = li(A0, TCDM + 0x100);
    // store, then jal: 1
    assert_eq!(
        cycles_stalled(&prog(&[&base, &[sw(A1, A0, 0), jal(ZERO, 4), EBREAK]]), 2),
        2 + 3 + 1
    );
    // load into a1, jal linking a3: 1
    assert_eq!(
        cycles_stalled(&prog(&[&base, &[lw(A1, A0, 0), jal(A3, 4), EBREAK]]), 2),
        2 + 3 + 1
    );
    // load into a1, jal linking a1 (the load-use WAW holds it): 2; x0 likewise
    assert_eq!(
        cycles_stalled(&prog(&[&base, &[lw(A1, A0, 0), jal(A1, 4), EBREAK]]), 2),
        2 + 3 + 2
    );
    assert_eq!(
        cycles_stalled(&prog(&[&base, &[lb(ZERO, A0, 0), jal(ZERO, 4), EBREAK]]), 2),
        2 + 3 + 2
    );
    // not stalled: 2
    assert_eq!(
        cycles_stalled(&prog(&[&base, &[sw(A1, A0, 0), jal(ZERO, 4), EBREAK]]), 0),
        2 + 1 + 2
    );
}

#[test]
fn a_jalr_linking_its_own_base_register_costs_one_more() {
    // auipc a1 1, nop 1, jalr a1, 12(a1) 2 + 1 -> the ebreak: 5; linking a2: 4.
    assert_eq!(cycles(&[auipc(A1, 0), NOP, jalr(A1, A1, 12), EBREAK]), 5);
    assert_eq!(cycles(&[auipc(A1, 0), NOP, jalr(A2, A1, 12), EBREAK]), 4);
    // on the previous instruction's result as well: auipc 1, jalr 2 + 1 + 1 = 5
    assert_eq!(cycles(&[auipc(A1, 0), jalr(A1, A1, 8), EBREAK]), 5);
}
