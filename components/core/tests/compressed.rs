//! Every RV32C (+ RV32FC) form expands to its 32-bit equivalent.
//! The 16-bit encodings come from GNU as / llvm-mc (`-march=rv32imfc`).

mod common;
use common::asm::*;
use common::reg::*;
use common::*;
use vp_core::decode::{decode16, decode32, Instr};
use vp_core::{Op, Stop};

/// The expansion with the size and raw bits normalised away.
fn norm(mut i: Instr) -> Instr {
    i.len = 0;
    i.raw = 0;
    i
}

const T6: u32 = 31;
const FA0: u32 = 10;
const FS1: u32 = 9;
const FT0: u32 = 0;
const FA5: u32 = 15;

#[test]
fn every_compressed_form_expands_to_its_32_bit_equivalent() {
    let cases: &[(u16, u32, &str)] = &[
        (0x1fe8, addi(A0, SP, 1020), "c.addi4spn a0, sp, 1020"),
        (0x0044, addi(S1, SP, 4), "c.addi4spn s1, sp, 4"),
        (0x5f7c, lw(A5, A4, 124), "c.lw a5, 124(a4)"),
        (0xc120, sw(S0, A0, 64), "c.sw s0, 64(a0)"),
        (0x61c8, flw(FA0, A1, 4), "c.flw fa0, 4(a1)"),
        (0xffa4, fsw(FS1, A5, 120), "c.fsw fs1, 120(a5)"),
        (0x0001, addi(ZERO, ZERO, 0), "c.nop"),
        (0x1501, addi(A0, A0, -32), "c.addi a0, -32"),
        (0x0ffd, addi(T6, T6, 31), "c.addi t6, 31"),
        (0x3001, jal(RA, -2048), "c.jal -2048"),
        (0x2ffd, jal(RA, 2046), "c.jal 2046"),
        (0xa6e5, jal(ZERO, 1000), "c.j 1000"),
        (0xbffd, jal(ZERO, -2), "c.j -2"),
        (0x56fd, addi(A3, ZERO, -1), "c.li a3, -1"),
        (0x7101, addi(SP, SP, -512), "c.addi16sp sp, -512"),
        (0x617d, addi(SP, SP, 496), "c.addi16sp sp, 496"),
        (0x777d, lui(A4, 0xfffff), "c.lui a4, 0xfffff"),
        (0x647d, lui(S0, 0x1f), "c.lui s0, 0x1f"),
        (0x83fd, srli(A5, A5, 31), "c.srli a5, 31"),
        (0x8485, srai(S1, S1, 1), "c.srai s1, 1"),
        (0x9a01, andi(A2, A2, -32), "c.andi a2, -32"),
        (0x8c1d, sub(S0, S0, A5), "c.sub s0, a5"),
        (0x8d2d, xor(A0, A0, A1), "c.xor a0, a1"),
        (0x8e55, or(A2, A2, A3), "c.or a2, a3"),
        (0x8f7d, and(A4, A4, A5), "c.and a4, a5"),
        (0xd101, beq(A0, ZERO, -256), "c.beqz a0, -256"),
        (0xecfd, bne(S1, ZERO, 254), "c.bnez s1, 254"),
        (0xc389, beq(A5, ZERO, 2), "c.beqz a5, 2"),
        (0x02fe, slli(T0, T0, 31), "c.slli t0, 31"),
        (0x50fe, lw(RA, SP, 252), "c.lwsp ra, 252(sp)"),
        (0x6002, flw(FT0, SP, 0), "c.flwsp ft0, 0(sp)"),
        (0x8082, jalr(ZERO, RA, 0), "c.jr ra"),
        (0x852e, add(A0, ZERO, A1), "c.mv a0, a1"),
        (0x9002, EBREAK, "c.ebreak"),
        (0x9282, jalr(RA, T0, 0), "c.jalr t0"),
        (0x941a, add(S0, S0, T1), "c.add s0, t1"),
        (0xdffe, sw(T6, SP, 252), "c.swsp t6, 252(sp)"),
        (0xe43e, fsw(FA5, SP, 8), "c.fswsp fa5, 8(sp)"),
    ];
    for &(c, w, what) in cases {
        let short = decode16(c);
        assert_ne!(short.op, Op::Illegal, "{what}");
        assert_eq!(short.len, 2, "{what}");
        assert_eq!(short.raw, c as u32, "{what}");
        assert_eq!(norm(short), norm(decode32(w)), "{what}");
    }
}

#[test]
fn reserved_compressed_encodings_are_illegal() {
    let cases: &[(u16, &str)] = &[
        (0x0000, "all-zero parcel (defined illegal)"),
        (0x0004, "c.addi4spn with nzuimm = 0"),
        (0x4002, "c.lwsp with rd = x0"),
        (0x8002, "c.jr with rs1 = x0"),
        (0x6101, "c.addi16sp with nzimm = 0"),
        (0x6501, "c.lui with nzimm = 0"),
        (0x2000, "c.fld (no D extension)"),
        (0x9001, "c.srli with shamt[5] = 1 on RV32"),
        (0x9c01, "c.subw (RV64 only)"),
    ];
    for &(c, what) in cases {
        let i = decode16(c);
        assert_eq!(i.op, Op::Illegal, "{what}");
        assert_eq!(i.raw, c as u32, "{what}");
        assert_eq!(i.len, 2, "{what}");
    }
}

#[test]
fn mixed_16_and_32_bit_code_advances_the_pc_by_each_size() {
    // 0: c.li a0, 1 (0x4505); 2: addi a0, a0, 2 (32-bit at a halfword boundary);
    // 6: c.mv a1, a0 (0x85aa); 8: c.ebreak.
    let mut hs = vec![0x4505u16];
    hs.extend(halves(&[addi(A0, A0, 2)]));
    hs.extend([0x85aa, 0x9002]);
    let (mut h, mut bus) = setup_halves(&hs);
    assert_eq!(
        run_until_stop(&mut h, &mut bus, 0),
        Stop::Ebreak { pc: RAM + 8 }
    );
    assert_eq!(h.x[A0 as usize], 3);
    assert_eq!(h.x[A1 as usize], 3);
    assert_eq!(h.instret, 3);
}

#[test]
fn compressed_jal_links_pc_plus_two() {
    // 0: c.jal +4 (0x2011: jal ra, 4); 2: c.ebreak; 4: c.ebreak
    assert_eq!(norm(decode16(0x2011)), norm(decode32(jal(RA, 4))));
    let (mut h, mut bus) = setup_halves(&[0x2011, 0x9002, 0x9002]);
    assert_eq!(
        run_until_stop(&mut h, &mut bus, 0),
        Stop::Ebreak { pc: RAM + 4 }
    );
    assert_eq!(h.x[RA as usize], RAM + 2);
}

#[test]
fn every_parcel_decodes_and_disassembles_without_panicking() {
    use vp_core::{decode, disasm};
    for h in 0..=u16::MAX {
        if h & 3 == 3 {
            continue;
        }
        let i = decode(h as u32);
        assert_eq!(i.len, 2);
        assert!(i.rd < 32 && i.rs1 < 32 && i.rs2 < 32 && i.rs3 < 32);
        let _ = disasm(&i, 0x1c00_8000);
    }
    let mut s = 0x9e37_79b9u32;
    for _ in 0..200_000 {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        let i = decode(s | 3);
        assert_eq!(i.len, 4);
        assert!(i.rd < 32 && i.rs1 < 32 && i.rs2 < 32 && i.rs3 < 32);
        let _ = disasm(&i, 0);
    }
}
