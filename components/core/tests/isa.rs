//! Instruction semantics with hand-computed values (RISC-V unprivileged spec).

mod common;
use common::asm::*;
use common::reg::*;
use common::*;
use vp_core::hart::divide;
use vp_core::{Hart, Op, Stop};

/// Run `setup` + one instruction `op` + ebreak and return rd.
fn op2(a: u32, b: u32, op: fn(u32, u32, u32) -> u32) -> u32 {
    let p = prog(&[&li(A0, a), &li(A1, b), &[op(A2, A0, A1), EBREAK]]);
    let (h, _) = exec(&p);
    h.x[A2 as usize]
}

#[test]
fn add_and_sub_wrap_around() {
    assert_eq!(op2(0x7fff_ffff, 1, add), 0x8000_0000);
    assert_eq!(op2(0xffff_ffff, 1, add), 0);
    assert_eq!(op2(0x8000_0000, 1, sub), 0x7fff_ffff);
    assert_eq!(op2(0, 1, sub), 0xffff_ffff);
}

#[test]
fn register_shifts_use_only_the_low_five_bits() {
    assert_eq!(op2(1, 31, sll), 0x8000_0000);
    assert_eq!(op2(1, 32, sll), 1, "shift by 32 is a shift by 0");
    assert_eq!(op2(0x8000_0000, 31, srl), 1);
    assert_eq!(op2(0x8000_0000, 33, srl), 0x4000_0000);
    assert_eq!(op2(0x8000_0000, 31, sra), 0xffff_ffff);
    assert_eq!(op2(0x8000_0000, 32, sra), 0x8000_0000);
}

#[test]
fn immediate_shifts_by_31() {
    let p = prog(&[
        &li(A0, 0x8000_0001),
        &[slli(A1, A0, 31), srli(A2, A0, 31), srai(A3, A0, 31), EBREAK],
    ]);
    let (h, _) = exec(&p);
    assert_eq!(h.x[A1 as usize], 0x8000_0000);
    assert_eq!(h.x[A2 as usize], 1);
    assert_eq!(h.x[A3 as usize], 0xffff_ffff);
}

#[test]
fn slt_and_sltu_edge_cases() {
    assert_eq!(
        op2(0x8000_0000, 0x7fff_ffff, slt),
        1,
        "INT_MIN < INT_MAX signed"
    );
    assert_eq!(
        op2(0x8000_0000, 0x7fff_ffff, sltu),
        0,
        "0x80000000 > 0x7fffffff unsigned"
    );
    assert_eq!(op2(0xffff_ffff, 0, slt), 1, "-1 < 0");
    assert_eq!(op2(0xffff_ffff, 0, sltu), 0);
    assert_eq!(op2(5, 5, slt), 0);
    // sltu rd, x0, rs is "rs != 0"; sltiu rd, rs, -1 compares against 0xffffffff.
    let p = prog(&[
        &li(A0, 7),
        &[
            sltu(A1, ZERO, A0),
            sltiu(A2, A0, -1),
            slti(A3, A0, -1),
            EBREAK,
        ],
    ]);
    let (h, _) = exec(&p);
    assert_eq!(h.x[A1 as usize], 1);
    assert_eq!(h.x[A2 as usize], 1);
    assert_eq!(h.x[A3 as usize], 0);
}

#[test]
fn division_by_zero_and_overflow_follow_the_spec() {
    // Table 7.1 of the unprivileged spec.
    assert_eq!(op2(7, 0, div), u32::MAX);
    assert_eq!(op2(7, 0, divu), u32::MAX);
    assert_eq!(op2(7, 0, rem), 7);
    assert_eq!(op2(7, 0, remu), 7);
    assert_eq!(op2(0x8000_0000, 0xffff_ffff, div), 0x8000_0000);
    assert_eq!(op2(0x8000_0000, 0xffff_ffff, rem), 0);
    // Truncation towards zero.
    assert_eq!(op2(-7i32 as u32, 2, div), -3i32 as u32);
    assert_eq!(op2(-7i32 as u32, 2, rem), -1i32 as u32);
    assert_eq!(op2(7, -2i32 as u32, div), -3i32 as u32);
    assert_eq!(op2(7, -2i32 as u32, rem), 1);
    assert_eq!(op2(0xffff_fff9, 2, divu), 0x7fff_fffc);
    assert_eq!(divide(Op::Remu, 0xffff_fff9, 2), 1);
}

#[test]
fn mulh_sign_combinations() {
    // -1 * -1 = 1: high word 0 (signed), 0xfffffffe (unsigned: (2^32-1)^2 >> 32).
    assert_eq!(op2(u32::MAX, u32::MAX, mulh), 0);
    assert_eq!(op2(u32::MAX, u32::MAX, mulhu), 0xffff_fffe);
    // mulhsu: signed -1 times unsigned 0xffffffff = -(2^32 - 1): high word -1.
    assert_eq!(op2(u32::MAX, u32::MAX, mulhsu), 0xffff_ffff);
    // INT_MIN * INT_MIN = 2^62: high 0x40000000.
    assert_eq!(op2(0x8000_0000, 0x8000_0000, mulh), 0x4000_0000);
    // INT_MIN (signed) * 0x80000000 (unsigned) = -2^62: high 0xc0000000.
    assert_eq!(op2(0x8000_0000, 0x8000_0000, mulhsu), 0xc000_0000);
    assert_eq!(op2(0x8000_0000, 0x8000_0000, mulhu), 0x4000_0000);
    assert_eq!(
        op2(0x1234_5678, 0x9abc_def0, mul),
        0x1234_5678u32.wrapping_mul(0x9abc_def0)
    );
}

#[test]
fn x0_stays_zero() {
    let (h, _) = exec(&[addi(ZERO, ZERO, 5), add(A0, ZERO, ZERO), EBREAK]);
    assert_eq!(h.x[0], 0);
    assert_eq!(h.x[A0 as usize], 0);
}

#[test]
fn lui_auipc_and_jumps_link_correctly() {
    // 0: auipc a0, 1 -> RAM + 0x1000; 4: jal ra, +8 -> 12 (ra = RAM + 8);
    // 8: ebreak (reached last); 12: jalr a1, 0(ra) -> 8, a1 = RAM + 16.
    let p = [auipc(A0, 1), jal(RA, 8), EBREAK, jalr(A1, RA, 0)];
    let (h, _) = exec(&p);
    assert_eq!(h.x[A0 as usize], RAM + 0x1000);
    assert_eq!(h.x[RA as usize], RAM + 8);
    assert_eq!(h.x[A1 as usize], RAM + 16);
    assert_eq!(h.pc, RAM + 8);
}

#[test]
fn jalr_clears_bit_zero_of_the_target() {
    // 0, 4: li a0, RAM + 17; 8: jalr; 12: addi a1 (skipped); 16: ebreak
    let p = prog(&[
        &li(A0, RAM + 17),
        &[jalr(ZERO, A0, 0), addi(A1, A1, 1), EBREAK],
    ]);
    // target (RAM + 17) & !1 = RAM + 16: the ebreak
    let (h, _) = exec(&p);
    assert_eq!(h.pc, RAM + 16);
    assert_eq!(h.x[A1 as usize], 0);
}

#[test]
fn loads_extend_and_stores_merge_bytes() {
    let p = prog(&[
        &li(A0, RAM + 0x100),
        &li(A1, 0x8081_8283),
        &[
            sw(A1, A0, 0),
            lb(A2, A0, 0),  // 0x83 -> 0xffffff83
            lbu(A3, A0, 0), // 0x83
            lh(A4, A0, 2),  // 0x8081 -> 0xffff8081
            lhu(A5, A0, 2), // 0x8081
            sb(ZERO, A0, 1),
            lw(S0, A0, 0), // 0x80810083
            sh(A0, A0, 4), // low half of RAM+0x100 = 0x0100
            lw(S1, A0, 4),
            EBREAK,
        ],
    ]);
    let (h, _) = exec(&p);
    assert_eq!(h.x[A2 as usize], 0xffff_ff83);
    assert_eq!(h.x[A3 as usize], 0x83);
    assert_eq!(h.x[A4 as usize], 0xffff_8081);
    assert_eq!(h.x[A5 as usize], 0x8081);
    assert_eq!(h.x[S0 as usize], 0x8081_0083);
    assert_eq!(h.x[S1 as usize], 0x0100);
}

#[test]
fn misaligned_loads_and_stores_assemble_both_words() {
    let p = prog(&[
        &li(A0, RAM + 0x200),
        &li(A1, 0x4433_2211),
        &li(A2, 0x8877_6655),
        &[
            sw(A1, A0, 0),
            sw(A2, A0, 4),
            lw(A3, A0, 1),  // bytes 22 33 44 55 -> 0x55443322
            lh(A4, A0, 3),  // bytes 44 55 -> 0x5544
            lhu(A5, A0, 1), // 22 33 (no crossing)
            sw(A1, A0, 6),  // writes 11 22 at +6, 33 44 at +8
            lw(S0, A0, 4),  // 55 66 11 22
            lw(S1, A0, 8),  // 33 44 00 00
            EBREAK,
        ],
    ]);
    let (h, _) = exec(&p);
    assert_eq!(h.x[A3 as usize], 0x5544_3322);
    assert_eq!(h.x[A4 as usize], 0x5544);
    assert_eq!(h.x[A5 as usize], 0x3322);
    assert_eq!(h.x[S0 as usize], 0x2211_6655);
    assert_eq!(h.x[S1 as usize], 0x0000_4433);
}

#[test]
fn csr_reads_writes_and_hartid() {
    let mut bus = TestBus::new();
    bus.load_words(
        0,
        &[
            csrrs(A0, 0xF14, ZERO),  // mhartid
            csrrwi(ZERO, 0x340, 21), // mscratch = 21
            csrrs(A1, 0x340, ZERO),
            csrrs(A2, 0x301, ZERO), // misa
            csrrw(A3, 0x305, A1),   // old mtvec; mtvec = 21 -> base 0, mode 1
            csrrs(A4, 0xB02, ZERO), // minstret: inhibited at reset, reads 0
            csrrwi(ZERO, 0x320, 0), // mcountinhibit = 0: counters run
            NOP,
            csrrs(A5, 0xB02, ZERO), // minstret: 2 (the enabling csrrwi counts, then the nop)
            EBREAK,
        ],
    );
    let mut h = Hart::new(3, 5, RAM + 0x80);
    h.pc = RAM;
    let stop = run_until_stop(&mut h, &mut bus, 0);
    assert!(matches!(stop, Stop::Ebreak { .. }));
    assert_eq!(h.x[A0 as usize], (3 << 5) | 5);
    assert_eq!(h.x[A1 as usize], 21);
    assert_eq!(h.x[A2 as usize], 0x4000_1124, "RV32 I M C F");
    assert_eq!(
        h.x[A3 as usize],
        RAM | 1,
        "reset mtvec: boot address base, vectored"
    );
    assert_eq!(h.csrs.mtvec, 1);
    assert_eq!(h.x[A4 as usize], 0);
    assert_eq!(h.x[A5 as usize], 2);
}

#[test]
fn writing_a_read_only_csr_is_illegal() {
    let (mut h, mut bus) = setup(&[csrrw(ZERO, 0xF14, A0), EBREAK]);
    let stop = run_until_stop(&mut h, &mut bus, 0);
    match stop {
        Stop::Fault(f) => {
            assert_eq!(f.kind, vp_core::FaultKind::IllegalInstruction);
            assert_eq!(f.pc, RAM);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_store_over_cached_code_is_seen_by_the_next_execution() {
    // Loop body executed twice; the first pass patches the addi at 16 to add 100.
    // 0: li a1, <addi a0,a0,100>   (2 words)
    // 8: auipc t0, 0
    // 12: jal x0, +4                 (jump to 16: decodes and caches 16 before patching? no: patch first)
    // We execute 16 once, then patch it, then execute it again.
    let patched = addi(A0, A0, 100);
    let p = prog(&[
        &li(A1, patched),     // 0, 4
        &[auipc(T0, 0)],      // 8: t0 = RAM + 8
        &[addi(A0, A0, 1)],   // 12: executed twice
        &[bne(A2, ZERO, 16)], // 16: second pass -> 32
        &[addi(A2, A2, 1)],   // 20
        &[sw(A1, T0, 4)],     // 24: patch the instruction at 12
        &[jal(ZERO, -16)],    // 28: back to 12
        &[EBREAK],            // 32
    ]);
    let (h, _) = exec(&p);
    assert_eq!(h.x[A0 as usize], 101);
}

#[test]
fn a_bumped_code_generation_drops_decoded_instructions() {
    let (mut h, mut bus) = setup(&[addi(A0, A0, 1), EBREAK]);
    assert!(matches!(h.run(&mut bus, u64::MAX), Stop::Ebreak { .. }));
    bus.load_words(0, &[addi(A0, A0, 10), EBREAK]);
    bus.generation += 1;
    h.pc = RAM;
    assert!(matches!(h.run(&mut bus, u64::MAX), Stop::Ebreak { .. }));
    assert_eq!(h.x[A0 as usize], 11);
}

#[test]
fn timed_accesses_stop_the_core_with_the_request() {
    let p = prog(&[
        &li(A0, TCDM + 0x40),
        &li(A1, 0xdead_beef),
        &[sw(A1, A0, 0), lw(A2, A0, 0), EBREAK],
    ]);
    let (mut h, mut bus) = setup(&p);
    // 4 ALU instructions (cycles 0..3), then the store is issued at cycle 4.
    let Stop::Timed(st) = h.run(&mut bus, u64::MAX) else {
        panic!("expected a timed store")
    };
    assert_eq!(st.cycle, 4);
    assert_eq!(st.req.addr, TCDM + 0x40);
    assert!(st.req.write);
    assert_eq!(st.req.be, 0xf);
    assert_eq!(st.req.wdata, 0xdead_beef);
    bus.perform(&st.req);
    // Calling run again without completing returns the same access.
    assert_eq!(h.run(&mut bus, u64::MAX), Stop::Timed(st));
    assert_eq!(h.pending_access(), Some(st));
    h.complete_access(0, 2).unwrap(); // lost 2 arbitrations: 1 + 2 cycles
    let Stop::Timed(ld) = h.run(&mut bus, u64::MAX) else {
        panic!("expected a timed load")
    };
    assert_eq!(ld.cycle, 7);
    assert!(!ld.req.write);
    let v = bus.perform(&ld.req);
    h.complete_access(v, 0).unwrap();
    assert!(matches!(h.run(&mut bus, u64::MAX), Stop::Ebreak { .. }));
    assert_eq!(h.x[A2 as usize], 0xdead_beef);
    assert_eq!(h.cycle, 8);
    assert!(h.complete_access(0, 0).is_err());
}

#[test]
fn a_misaligned_timed_load_is_split_into_two_word_transactions() {
    let p = prog(&[&li(A0, TCDM + 0x41), &[lw(A1, A0, 0), EBREAK]]);
    let (mut h, mut bus) = setup(&p);
    bus.tcdm[0x40..0x48].copy_from_slice(&[0x10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]);
    let Stop::Timed(p0) = h.run(&mut bus, u64::MAX) else {
        panic!()
    };
    assert_eq!(
        (p0.req.addr, p0.req.be, p0.part, p0.parts, p0.cycle),
        (TCDM + 0x40, 0b1110, 0, 2, 2)
    );
    let v = bus.perform(&p0.req);
    h.complete_access(v, 1).unwrap();
    let Stop::Timed(p1) = h.run(&mut bus, u64::MAX) else {
        panic!()
    };
    // The upper transaction follows the first one's grant + 1 cycle: 2 + 1 + 1.
    assert_eq!(
        (p1.req.addr, p1.req.be, p1.part, p1.cycle),
        (TCDM + 0x44, 0b0001, 1, 4)
    );
    let v = bus.perform(&p1.req);
    h.complete_access(v, 0).unwrap();
    assert!(matches!(h.run(&mut bus, u64::MAX), Stop::Ebreak { .. }));
    assert_eq!(h.x[A1 as usize], 0x4433_2211);
    assert_eq!(h.cycle, 5);
}

#[test]
fn a_misaligned_timed_store_writes_its_bytes_in_two_lanes() {
    let p = prog(&[
        &li(A0, TCDM + 0x43),
        &li(A1, 0xaabb_ccdd),
        &[sw(A1, A0, 0), EBREAK],
    ]);
    let (mut h, mut bus) = setup(&p);
    let stop = run_until_stop(&mut h, &mut bus, 0);
    assert!(matches!(stop, Stop::Ebreak { .. }));
    assert_eq!(&bus.tcdm[0x40..0x48], &[0, 0, 0, 0xdd, 0xcc, 0xbb, 0xaa, 0]);
}

#[test]
fn the_run_stops_at_the_cycle_limit() {
    let p = [addi(A0, A0, 1), jal(ZERO, -4)];
    let (mut h, mut bus) = setup(&p);
    // Each iteration: addi 1 + jal 2 = 3 cycles.
    assert_eq!(h.run(&mut bus, 30), Stop::Limit);
    assert_eq!(h.cycle, 30);
    assert_eq!(h.x[A0 as usize], 10);
    assert_eq!(h.instret, 20);
}

#[test]
fn the_trace_hook_sees_every_retired_instruction() {
    let p = prog(&[&li(A0, TCDM), &[lw(A1, A0, 0), addi(A1, A1, 1), EBREAK]]);
    let (mut h, mut bus) = setup(&p);
    let mut seen = Vec::new();
    loop {
        let stop = h.run_traced(&mut bus, u64::MAX, &mut |r| {
            seen.push((r.pc - RAM, r.cycle, r.cycles))
        });
        match stop {
            Stop::Timed(_) => h.complete_access(5, 3).unwrap(),
            _ => break,
        }
    }
    // lui 0, addi 1, lw at 2 costs 1 + 3 stall, addi at 6 with load-use +1.
    assert_eq!(seen, vec![(0, 0, 1), (4, 1, 1), (8, 2, 4), (12, 6, 2)]);
    assert_eq!(h.x[A1 as usize], 6);
}

#[test]
fn disassembly_uses_abi_names() {
    use vp_core::{decode, disasm};
    assert_eq!(disasm(&decode(addi(A0, A0, 1)), 0), "addi a0, a0, 1");
    assert_eq!(disasm(&decode(lw(A5, SP, 8)), 0), "lw a5, 8(sp)");
    assert_eq!(disasm(&decode(sw(RA, SP, -4)), 0), "sw ra, -4(sp)");
    assert_eq!(
        disasm(&decode(jal(RA, 0x100)), 0x1c00_8000),
        "jal ra, 0x1c008100"
    );
    assert_eq!(
        disasm(&decode(bne(A0, ZERO, -8)), 0x100),
        "bne a0, zero, 0xf8"
    );
    assert_eq!(
        disasm(&decode(csrrs(A0, 0xF14, ZERO)), 0),
        "csrrs a0, mhartid, zero"
    );
    assert_eq!(
        disasm(&decode(fadd(10, 11, 12, DYN)), 0),
        "fadd.s fa0, fa1, fa2"
    );
    assert_eq!(
        disasm(&decode(fadd(10, 11, 12, RTZ)), 0),
        "fadd.s fa0, fa1, fa2, rtz"
    );
    assert_eq!(disasm(&decode(0x4501), 0), "addi a0, zero, 0"); // c.li a0, 0
    assert_eq!(disasm(&decode(0), 0), "illegal 0x0000");
}

#[test]
fn fence_i_drops_decoded_instructions() {
    // Like the patch test above but the store goes through a path the decode cache
    // cannot see (the test bus behind the core's back); fence.i makes it visible.
    let (mut h, mut bus) = setup(&[addi(A0, A0, 1), EBREAK]);
    assert!(matches!(h.run(&mut bus, u64::MAX), Stop::Ebreak { .. }));
    bus.load_words(0, &[addi(A0, A0, 10), EBREAK]); // no generation bump
    h.pc = RAM;
    assert!(matches!(h.run(&mut bus, u64::MAX), Stop::Ebreak { .. }));
    assert_eq!(
        h.x[A0 as usize], 2,
        "stale decoded instruction without fence.i"
    );
    bus.load_words(8, &[0x0000_100f, jal(ZERO, -12)]); // fence.i; j 0
    h.pc = RAM + 8;
    assert!(matches!(h.run(&mut bus, u64::MAX), Stop::Ebreak { .. }));
    assert_eq!(h.x[A0 as usize], 12);
}

#[test]
fn trace_lines_show_cycle_pc_raw_disassembly_and_cost() {
    use vp_core::disasm::trace_line;
    // addi a0, a0, 10; c.addi a0, 1 (0x0505) + c.nop (0x0001); ebreak
    let (mut h, mut bus) = setup(&[addi(A0, A0, 10), 0x0001_0505, EBREAK]);
    let mut lines = Vec::new();
    h.run_traced(&mut bus, u64::MAX, &mut |r| lines.push(trace_line(r, None)));
    assert_eq!(
        lines,
        [
            "         0 1c000000 00a50513  addi a0, a0, 10                1",
            "         1 1c000004     0505  addi a0, a0, 1                 1",
            "         2 1c000006     0001  addi zero, zero, 0             1",
        ]
    );
}

#[test]
fn the_bus_can_be_a_trait_object() {
    let (mut h, mut bus) = setup(&[addi(A0, A0, 3), EBREAK]);
    let dyn_bus: &mut dyn vp_core::DataBus = &mut bus;
    assert!(matches!(h.run(dyn_bus, 100), Stop::Ebreak { .. }));
    assert_eq!(h.x[A0 as usize], 3);
}
