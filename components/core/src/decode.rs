//! Instruction decoding: RV32I + M + C + Zicsr + F (single precision).
//!
//! The decoder turns a raw instruction word into a compact [`Instr`] (16 bytes):
//! an [`Op`] plus pre-extracted register numbers and a sign-extended immediate.
//! Compressed (RVC) instructions are expanded into their 32-bit equivalents
//! (RISC-V unprivileged spec, chapter "C" Standard Extension, table 16.5-16.7), so
//! the executor sees one instruction set; only [`Instr::len`] remembers the size.
//!
//! [`DecodeCache`] is a direct-mapped cache of decoded instructions keyed by the
//! program counter, so hot loops are decoded once.

/// Operation of a decoded instruction.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Op {
    // RV32I
    Lui,
    Auipc,
    Jal,
    Jalr,
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    Lb,
    Lh,
    Lw,
    Lbu,
    Lhu,
    Sb,
    Sh,
    Sw,
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    Slli,
    Srli,
    Srai,
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Fence,
    FenceI,
    Ecall,
    Ebreak,
    Mret,
    Wfi,
    // M
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    // Zicsr (imm = CSR number; for the *i forms rs1 holds the 5-bit immediate)
    Csrrw,
    Csrrs,
    Csrrc,
    Csrrwi,
    Csrrsi,
    Csrrci,
    // F
    Flw,
    Fsw,
    FmaddS,
    FmsubS,
    FnmsubS,
    FnmaddS,
    FaddS,
    FsubS,
    FmulS,
    FdivS,
    FsqrtS,
    FsgnjS,
    FsgnjnS,
    FsgnjxS,
    FminS,
    FmaxS,
    FcvtWS,
    FcvtWuS,
    FmvXW,
    FeqS,
    FltS,
    FleS,
    FclassS,
    FcvtSW,
    FcvtSWu,
    FmvWX,
    /// Not a valid instruction (the raw bits are in [`Instr::raw`]).
    Illegal,
}

/// Operand-usage flags of an [`Instr`] (used by the hazard checks).
pub mod flags {
    /// `rs1` is read as an integer register.
    pub const XR1: u8 = 1 << 0;
    /// `rs2` is read as an integer register.
    pub const XR2: u8 = 1 << 1;
    /// `rd` is written as an integer register.
    pub const XW: u8 = 1 << 2;
    /// `rs1` is read as an FP register.
    pub const FR1: u8 = 1 << 3;
    /// `rs2` is read as an FP register.
    pub const FR2: u8 = 1 << 4;
    /// `rs3` is read as an FP register.
    pub const FR3: u8 = 1 << 5;
    /// `rd` is written as an FP register.
    pub const FW: u8 = 1 << 6;
    /// Executed by the FPU (dispatched through the APU interface).
    pub const FPU: u8 = 1 << 7;
}

/// A decoded instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instr {
    /// Operation.
    pub op: Op,
    /// Destination register number (integer or FP depending on `op`).
    pub rd: u8,
    /// First source register number (or the CSR immediate of `csrr*i`).
    pub rs1: u8,
    /// Second source register number.
    pub rs2: u8,
    /// Third source register (fused multiply-add only).
    pub rs3: u8,
    /// Rounding-mode field of FP instructions (`funct3`), 0 otherwise.
    pub rm: u8,
    /// Size in bytes: 2 for a compressed instruction, 4 otherwise.
    pub len: u8,
    /// Operand usage, see [`flags`].
    pub flags: u8,
    /// Sign-extended immediate (CSR number for Zicsr, shift amount for shifts).
    pub imm: i32,
    /// The raw bits as fetched (16 bits for a compressed instruction).
    pub raw: u32,
}

impl Instr {
    /// An illegal instruction carrying its raw bits.
    pub const fn illegal(raw: u32, len: u8) -> Self {
        Instr {
            op: Op::Illegal,
            rd: 0,
            rs1: 0,
            rs2: 0,
            rs3: 0,
            rm: 0,
            len,
            flags: 0,
            imm: 0,
            raw,
        }
    }

    /// Whether this instruction is a compressed (16-bit) one.
    pub fn is_compressed(&self) -> bool {
        self.len == 2
    }
}

/// Whether the low bits of an instruction word denote a 32-bit instruction.
#[inline]
pub fn is_32bit(low_half: u32) -> bool {
    low_half & 3 == 3
}

/// Decode the instruction starting in `word` (little-endian bits fetched at pc;
/// for a compressed instruction only the low 16 bits matter).
pub fn decode(word: u32) -> Instr {
    if is_32bit(word) {
        decode32(word)
    } else {
        decode16(word as u16)
    }
}

#[inline]
fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}

/// Sign-extend the low `n` bits of `x`.
#[inline]
fn sext(x: u32, n: u32) -> i32 {
    ((x << (32 - n)) as i32) >> (32 - n)
}

struct B {
    i: Instr,
}

impl B {
    fn new(op: Op, raw: u32, len: u8) -> Self {
        B {
            i: Instr {
                op,
                rd: 0,
                rs1: 0,
                rs2: 0,
                rs3: 0,
                rm: 0,
                len,
                flags: 0,
                imm: 0,
                raw,
            },
        }
    }
    fn rd(mut self, r: u32) -> Self {
        self.i.rd = r as u8;
        self.i.flags |= flags::XW;
        self
    }
    fn rs1(mut self, r: u32) -> Self {
        self.i.rs1 = r as u8;
        self.i.flags |= flags::XR1;
        self
    }
    fn rs2(mut self, r: u32) -> Self {
        self.i.rs2 = r as u8;
        self.i.flags |= flags::XR2;
        self
    }
    fn frd(mut self, r: u32) -> Self {
        self.i.rd = r as u8;
        self.i.flags |= flags::FW;
        self
    }
    fn frs1(mut self, r: u32) -> Self {
        self.i.rs1 = r as u8;
        self.i.flags |= flags::FR1;
        self
    }
    fn frs2(mut self, r: u32) -> Self {
        self.i.rs2 = r as u8;
        self.i.flags |= flags::FR2;
        self
    }
    fn frs3(mut self, r: u32) -> Self {
        self.i.rs3 = r as u8;
        self.i.flags |= flags::FR3;
        self
    }
    fn fpu(mut self) -> Self {
        self.i.flags |= flags::FPU;
        self
    }
    fn imm(mut self, v: i32) -> Self {
        self.i.imm = v;
        self
    }
    fn rm(mut self, v: u32) -> Self {
        self.i.rm = v as u8;
        self
    }
    fn done(self) -> Instr {
        self.i
    }
}

/// Valid static rounding modes (RNE..RMM) and DYN (7).
#[inline]
fn rm_ok(rm: u32) -> bool {
    rm <= 4 || rm == 7
}

/// Decode a 32-bit instruction.
pub fn decode32(w: u32) -> Instr {
    let ill = Instr::illegal(w, 4);
    let rd = bits(w, 11, 7);
    let rs1 = bits(w, 19, 15);
    let rs2 = bits(w, 24, 20);
    let f3 = bits(w, 14, 12);
    let f7 = bits(w, 31, 25);
    let i_imm = sext(w >> 20, 12);
    let s_imm = sext((bits(w, 31, 25) << 5) | bits(w, 11, 7), 12);
    let b_imm = sext(
        (bits(w, 31, 31) << 12)
            | (bits(w, 7, 7) << 11)
            | (bits(w, 30, 25) << 5)
            | (bits(w, 11, 8) << 1),
        13,
    );
    let u_imm = (w & 0xffff_f000) as i32;
    let j_imm = sext(
        (bits(w, 31, 31) << 20)
            | (bits(w, 19, 12) << 12)
            | (bits(w, 20, 20) << 11)
            | (bits(w, 30, 21) << 1),
        21,
    );
    let n = |op| B::new(op, w, 4);
    match w & 0x7f {
        0x37 => n(Op::Lui).rd(rd).imm(u_imm).done(),
        0x17 => n(Op::Auipc).rd(rd).imm(u_imm).done(),
        0x6f => n(Op::Jal).rd(rd).imm(j_imm).done(),
        0x67 if f3 == 0 => n(Op::Jalr).rd(rd).rs1(rs1).imm(i_imm).done(),
        0x63 => {
            let op = match f3 {
                0 => Op::Beq,
                1 => Op::Bne,
                4 => Op::Blt,
                5 => Op::Bge,
                6 => Op::Bltu,
                7 => Op::Bgeu,
                _ => return ill,
            };
            n(op).rs1(rs1).rs2(rs2).imm(b_imm).done()
        }
        0x03 => {
            let op = match f3 {
                0 => Op::Lb,
                1 => Op::Lh,
                2 => Op::Lw,
                4 => Op::Lbu,
                5 => Op::Lhu,
                _ => return ill,
            };
            n(op).rd(rd).rs1(rs1).imm(i_imm).done()
        }
        0x23 => {
            let op = match f3 {
                0 => Op::Sb,
                1 => Op::Sh,
                2 => Op::Sw,
                _ => return ill,
            };
            n(op).rs1(rs1).rs2(rs2).imm(s_imm).done()
        }
        0x13 => {
            let op = match f3 {
                0 => Op::Addi,
                2 => Op::Slti,
                3 => Op::Sltiu,
                4 => Op::Xori,
                6 => Op::Ori,
                7 => Op::Andi,
                1 if f7 == 0 => Op::Slli,
                5 if f7 == 0 => Op::Srli,
                5 if f7 == 0x20 => Op::Srai,
                _ => return ill,
            };
            let imm = if matches!(op, Op::Slli | Op::Srli | Op::Srai) {
                rs2 as i32
            } else {
                i_imm
            };
            n(op).rd(rd).rs1(rs1).imm(imm).done()
        }
        0x33 => {
            let op = match (f7, f3) {
                (0, 0) => Op::Add,
                (0x20, 0) => Op::Sub,
                (0, 1) => Op::Sll,
                (0, 2) => Op::Slt,
                (0, 3) => Op::Sltu,
                (0, 4) => Op::Xor,
                (0, 5) => Op::Srl,
                (0x20, 5) => Op::Sra,
                (0, 6) => Op::Or,
                (0, 7) => Op::And,
                (1, 0) => Op::Mul,
                (1, 1) => Op::Mulh,
                (1, 2) => Op::Mulhsu,
                (1, 3) => Op::Mulhu,
                (1, 4) => Op::Div,
                (1, 5) => Op::Divu,
                (1, 6) => Op::Rem,
                (1, 7) => Op::Remu,
                _ => return ill,
            };
            n(op).rd(rd).rs1(rs1).rs2(rs2).done()
        }
        0x0f => match f3 {
            0 => n(Op::Fence).done(),
            1 => n(Op::FenceI).done(),
            _ => ill,
        },
        0x73 => match f3 {
            0 => match w {
                0x0000_0073 => n(Op::Ecall).done(),
                0x0010_0073 => n(Op::Ebreak).done(),
                0x3020_0073 => n(Op::Mret).done(),
                0x1050_0073 => n(Op::Wfi).done(),
                _ => ill,
            },
            1..=3 => {
                let op = [Op::Csrrw, Op::Csrrs, Op::Csrrc][(f3 - 1) as usize];
                n(op).rd(rd).rs1(rs1).imm((w >> 20) as i32).done()
            }
            5..=7 => {
                let op = [Op::Csrrwi, Op::Csrrsi, Op::Csrrci][(f3 - 5) as usize];
                let mut b = n(op).rd(rd).imm((w >> 20) as i32);
                b.i.rs1 = rs1 as u8; // immediate, not a register read
                b.done()
            }
            _ => ill,
        },
        // F extension
        0x07 if f3 == 2 => n(Op::Flw).frd(rd).rs1(rs1).imm(i_imm).done(),
        0x27 if f3 == 2 => n(Op::Fsw).rs1(rs1).frs2(rs2).imm(s_imm).done(),
        0x43 | 0x47 | 0x4b | 0x4f => {
            if bits(w, 26, 25) != 0 || !rm_ok(f3) {
                return ill;
            }
            let op = match w & 0x7f {
                0x43 => Op::FmaddS,
                0x47 => Op::FmsubS,
                0x4b => Op::FnmsubS,
                _ => Op::FnmaddS,
            };
            n(op)
                .fpu()
                .frd(rd)
                .frs1(rs1)
                .frs2(rs2)
                .frs3(bits(w, 31, 27))
                .rm(f3)
                .done()
        }
        0x53 => decode_op_fp(w, rd, rs1, rs2, f3, f7).unwrap_or(ill),
        _ => ill,
    }
}

fn decode_op_fp(w: u32, rd: u32, rs1: u32, rs2: u32, f3: u32, f7: u32) -> Option<Instr> {
    let n = |op| B::new(op, w, 4).fpu();
    let arith = |op| {
        if rm_ok(f3) {
            Some(n(op).frd(rd).frs1(rs1).frs2(rs2).rm(f3).done())
        } else {
            None
        }
    };
    Some(match f7 {
        0x00 => arith(Op::FaddS)?,
        0x04 => arith(Op::FsubS)?,
        0x08 => arith(Op::FmulS)?,
        0x0c => arith(Op::FdivS)?,
        0x2c if rs2 == 0 && rm_ok(f3) => n(Op::FsqrtS).frd(rd).frs1(rs1).rm(f3).done(),
        0x10 => {
            let op = match f3 {
                0 => Op::FsgnjS,
                1 => Op::FsgnjnS,
                2 => Op::FsgnjxS,
                _ => return None,
            };
            n(op).frd(rd).frs1(rs1).frs2(rs2).done()
        }
        0x14 => {
            let op = match f3 {
                0 => Op::FminS,
                1 => Op::FmaxS,
                _ => return None,
            };
            n(op).frd(rd).frs1(rs1).frs2(rs2).done()
        }
        0x60 if rm_ok(f3) => {
            let op = match rs2 {
                0 => Op::FcvtWS,
                1 => Op::FcvtWuS,
                _ => return None,
            };
            n(op).rd(rd).frs1(rs1).rm(f3).done()
        }
        0x70 if rs2 == 0 => match f3 {
            0 => n(Op::FmvXW).rd(rd).frs1(rs1).done(),
            1 => n(Op::FclassS).rd(rd).frs1(rs1).done(),
            _ => return None,
        },
        0x50 => {
            let op = match f3 {
                0 => Op::FleS,
                1 => Op::FltS,
                2 => Op::FeqS,
                _ => return None,
            };
            n(op).rd(rd).frs1(rs1).frs2(rs2).done()
        }
        0x68 if rm_ok(f3) => {
            let op = match rs2 {
                0 => Op::FcvtSW,
                1 => Op::FcvtSWu,
                _ => return None,
            };
            n(op).frd(rd).rs1(rs1).rm(f3).done()
        }
        0x78 if rs2 == 0 && f3 == 0 => n(Op::FmvWX).frd(rd).rs1(rs1).done(),
        _ => return None,
    })
}

/// Decode (expand) a 16-bit compressed instruction (RV32C + RV32FC).
pub fn decode16(h: u16) -> Instr {
    let w = h as u32;
    let ill = Instr::illegal(w, 2);
    let n = |op| B::new(op, w, 2);
    let f3 = bits(w, 15, 13);
    // Full register numbers (rd/rs1 in [11:7], rs2 in [6:2]) and the
    // popular-register forms rd'/rs1' in [9:7], rs2'/rd' in [4:2] (x8..x15).
    let r_full = bits(w, 11, 7);
    let r2_full = bits(w, 6, 2);
    let rp1 = bits(w, 9, 7) + 8;
    let rp2 = bits(w, 4, 2) + 8;
    match (w & 3, f3) {
        (0, 0) => {
            // c.addi4spn: nzuimm[5:4|9:6|2|3]
            let imm = (bits(w, 12, 11) << 4)
                | (bits(w, 10, 7) << 6)
                | (bits(w, 6, 6) << 2)
                | (bits(w, 5, 5) << 3);
            if imm == 0 {
                return ill; // includes the all-zero instruction
            }
            n(Op::Addi).rd(rp2).rs1(2).imm(imm as i32).done()
        }
        (0, 2) | (0, 3) | (0, 6) | (0, 7) => {
            // c.lw / c.flw / c.sw / c.fsw: uimm[5:3] at 12:10, uimm[2|6] at 6:5
            let imm = ((bits(w, 12, 10) << 3) | (bits(w, 6, 6) << 2) | (bits(w, 5, 5) << 6)) as i32;
            match f3 {
                2 => n(Op::Lw).rd(rp2).rs1(rp1).imm(imm).done(),
                3 => n(Op::Flw).frd(rp2).rs1(rp1).imm(imm).done(),
                6 => n(Op::Sw).rs1(rp1).rs2(rp2).imm(imm).done(),
                _ => n(Op::Fsw).rs1(rp1).frs2(rp2).imm(imm).done(),
            }
        }
        (1, 0) => {
            // c.addi (c.nop when rd = 0)
            let imm = sext((bits(w, 12, 12) << 5) | bits(w, 6, 2), 6);
            n(Op::Addi).rd(r_full).rs1(r_full).imm(imm).done()
        }
        (1, 1) | (1, 5) => {
            // c.jal (RV32 only) / c.j: imm[11|4|9:8|10|6|7|3:1|5]
            let imm = sext(
                (bits(w, 12, 12) << 11)
                    | (bits(w, 11, 11) << 4)
                    | (bits(w, 10, 9) << 8)
                    | (bits(w, 8, 8) << 10)
                    | (bits(w, 7, 7) << 6)
                    | (bits(w, 6, 6) << 7)
                    | (bits(w, 5, 3) << 1)
                    | (bits(w, 2, 2) << 5),
                12,
            );
            n(Op::Jal).rd(if f3 == 1 { 1 } else { 0 }).imm(imm).done()
        }
        (1, 2) => {
            let imm = sext((bits(w, 12, 12) << 5) | bits(w, 6, 2), 6);
            n(Op::Addi).rd(r_full).rs1(0).imm(imm).done() // c.li
        }
        (1, 3) => {
            if r_full == 2 {
                // c.addi16sp: nzimm[9|4|6|8:7|5]
                let imm = sext(
                    (bits(w, 12, 12) << 9)
                        | (bits(w, 6, 6) << 4)
                        | (bits(w, 5, 5) << 6)
                        | (bits(w, 4, 3) << 7)
                        | (bits(w, 2, 2) << 5),
                    10,
                );
                if imm == 0 {
                    return ill;
                }
                n(Op::Addi).rd(2).rs1(2).imm(imm).done()
            } else {
                // c.lui: nzimm[17|16:12]
                let imm = sext((bits(w, 12, 12) << 17) | (bits(w, 6, 2) << 12), 18);
                if imm == 0 {
                    return ill;
                }
                n(Op::Lui).rd(r_full).imm(imm).done()
            }
        }
        (1, 4) => {
            let shamt = (bits(w, 12, 12) << 5) | bits(w, 6, 2);
            match bits(w, 11, 10) {
                0 | 1 => {
                    if shamt >= 32 {
                        return ill; // RV32C: shamt[5] must be 0
                    }
                    let op = if bits(w, 11, 10) == 0 {
                        Op::Srli
                    } else {
                        Op::Srai
                    };
                    n(op).rd(rp1).rs1(rp1).imm(shamt as i32).done()
                }
                2 => {
                    let imm = sext((bits(w, 12, 12) << 5) | bits(w, 6, 2), 6);
                    n(Op::Andi).rd(rp1).rs1(rp1).imm(imm).done()
                }
                _ => {
                    if bits(w, 12, 12) != 0 {
                        return ill; // c.subw/c.addw: RV64 only
                    }
                    let op = [Op::Sub, Op::Xor, Op::Or, Op::And][bits(w, 6, 5) as usize];
                    n(op).rd(rp1).rs1(rp1).rs2(rp2).done()
                }
            }
        }
        (1, 6) | (1, 7) => {
            // c.beqz / c.bnez: offset[8|4:3|7:6|2:1|5]
            let imm = sext(
                (bits(w, 12, 12) << 8)
                    | (bits(w, 11, 10) << 3)
                    | (bits(w, 6, 5) << 6)
                    | (bits(w, 4, 3) << 1)
                    | (bits(w, 2, 2) << 5),
                9,
            );
            let op = if f3 == 6 { Op::Beq } else { Op::Bne };
            n(op).rs1(rp1).rs2(0).imm(imm).done()
        }
        (2, 0) => {
            let shamt = (bits(w, 12, 12) << 5) | bits(w, 6, 2);
            if shamt >= 32 {
                return ill;
            }
            n(Op::Slli).rd(r_full).rs1(r_full).imm(shamt as i32).done()
        }
        (2, 2) | (2, 3) => {
            // c.lwsp / c.flwsp: uimm[5] at 12, uimm[4:2|7:6] at 6:2
            let imm = ((bits(w, 12, 12) << 5) | (bits(w, 6, 4) << 2) | (bits(w, 3, 2) << 6)) as i32;
            if f3 == 2 {
                if r_full == 0 {
                    return ill;
                }
                n(Op::Lw).rd(r_full).rs1(2).imm(imm).done()
            } else {
                n(Op::Flw).frd(r_full).rs1(2).imm(imm).done()
            }
        }
        (2, 4) => {
            let b12 = bits(w, 12, 12);
            match (b12, r_full, r2_full) {
                (0, 0, 0) => ill,
                (0, rs1, 0) => n(Op::Jalr).rd(0).rs1(rs1).imm(0).done(), // c.jr
                (0, rd, rs2) => n(Op::Add).rd(rd).rs1(0).rs2(rs2).done(), // c.mv
                (1, 0, 0) => n(Op::Ebreak).done(),                       // c.ebreak
                (1, rs1, 0) => n(Op::Jalr).rd(1).rs1(rs1).imm(0).done(), // c.jalr
                (_, rd, rs2) => n(Op::Add).rd(rd).rs1(rd).rs2(rs2).done(), // c.add
            }
        }
        (2, 6) | (2, 7) => {
            // c.swsp / c.fswsp: uimm[5:2|7:6] at 12:7
            let imm = ((bits(w, 12, 9) << 2) | (bits(w, 8, 7) << 6)) as i32;
            if f3 == 6 {
                n(Op::Sw).rs1(2).rs2(r2_full).imm(imm).done()
            } else {
                n(Op::Fsw).rs1(2).frs2(r2_full).imm(imm).done()
            }
        }
        _ => ill, // c.fld/c.fsd/c.fldsp/c.fsdsp (D) and reserved encodings
    }
}

/// Number of entries of the [`DecodeCache`] (one per 2-byte slot of 8 KiB of code).
pub const DECODE_CACHE_ENTRIES: usize = 4096;

#[derive(Clone, Copy)]
struct Entry {
    /// pc of the cached instruction; `u32::MAX` (odd, never a valid pc) when empty.
    tag: u32,
    instr: Instr,
}

/// Direct-mapped cache of decoded instructions keyed by pc (index = `pc[12:1]`).
///
/// The cache never changes what the hart executes: entries are invalidated when the
/// hart itself stores over code ([`DecodeCache::invalidate_range`]) and flushed
/// whenever the memory system reports a new code generation (see
/// [`crate::DataBus::code_generation`]).
pub struct DecodeCache {
    /// Fixed-size so that the masked index needs no bounds check.
    entries: Box<[Entry; DECODE_CACHE_ENTRIES]>,
}

impl Default for DecodeCache {
    fn default() -> Self {
        Self::new()
    }
}

impl DecodeCache {
    const EMPTY: Entry = Entry {
        tag: u32::MAX,
        instr: Instr::illegal(0, 4),
    };

    /// An empty cache.
    pub fn new() -> Self {
        // Built in place on the heap: `Box::new([EMPTY; N])` built the 80 KiB array on the
        // stack and copied it, for every hart made (several per core and run).
        let entries: Box<[Entry]> = vec![Self::EMPTY; DECODE_CACHE_ENTRIES].into_boxed_slice();
        let Ok(entries) = entries.try_into() else {
            unreachable!("a slice of DECODE_CACHE_ENTRIES entries");
        };
        DecodeCache { entries }
    }

    #[inline(always)]
    fn index(pc: u32) -> usize {
        ((pc >> 1) as usize) & (DECODE_CACHE_ENTRIES - 1)
    }

    /// The cached decoding of the instruction at `pc`, if any.
    #[inline(always)]
    pub fn get(&self, pc: u32) -> Option<&Instr> {
        let e = &self.entries[Self::index(pc)];
        if e.tag == pc {
            Some(&e.instr)
        } else {
            None
        }
    }

    /// Remember the decoding of the instruction at `pc`.
    #[inline]
    pub fn insert(&mut self, pc: u32, instr: Instr) {
        self.entries[Self::index(pc)] = Entry { tag: pc, instr };
    }

    /// Drop every cached instruction overlapping bytes `[addr, addr + len)`.
    #[inline]
    pub fn invalidate_range(&mut self, addr: u32, len: u32) {
        // An instruction starting at pc covers at most [pc, pc + 4).
        let mut pc = addr.wrapping_sub(2) & !1;
        let end = addr.wrapping_add(len);
        for _ in 0..(len / 2 + 3) {
            let i = Self::index(pc);
            if self.entries[i].tag == pc {
                self.entries[i].tag = u32::MAX;
            }
            pc = pc.wrapping_add(2);
            if pc == end {
                break;
            }
        }
    }

    /// Drop everything.
    pub fn flush(&mut self) {
        for e in self.entries.iter_mut() {
            e.tag = u32::MAX;
        }
    }
}
