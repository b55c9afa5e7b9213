//! Random RV32IMC(F) programs for the differential tests (qemu_diff.rs, rtl_compare.rs):
//! straight-line code with forward branches and jumps, so that every run ends, whichever
//! way the branches go.
#![allow(dead_code)]

/// The format encoders (R, I, S) of the tests' assembler.
pub use super::common::asm::{i, r, s};
use super::common::li;

/// What a program may contain.
pub struct Opts {
    /// F instructions (and the FP compressed forms).
    pub fp: bool,
    /// With `fp`: fdiv.s and fsqrt.s too.
    pub divsqrt: bool,
    /// Loads and stores at any byte offset (else naturally aligned).
    pub misaligned: bool,
    /// CSR accesses: (number, funct3, reads a source register / immediate).
    pub csrs: &'static [(u32, u32, bool)],
}

impl Opts {
    /// An offset from s11 in -0x400..0x400 for an access of `size` bytes.
    fn offset(&self, g: &mut Rng, size: i32) -> i32 {
        let off = g.below(0x800) as i32 - 0x400;
        if self.misaligned {
            off
        } else {
            off & !(size - 1)
        }
    }
}

/// Registers the generator never writes: x2 (sp, base of c.lwsp/c.swsp), x9 (s1, base
/// of c.lw/c.sw), x26 (s10, the counter of [`looped`]), x27 (s11, base of the other
/// loads and stores), x31 (left to the test: a dump or marker pointer). They are read
/// like any other.
pub const RESERVED: [u32; 5] = [2, 9, 26, 27, 31];

/// The loop counter of [`looped`].
pub const LOOP_REG: u32 = 26;

/// splitmix64: the test's own seeded generator.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u32) -> u32 {
        (self.next() % n as u64) as u32
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u32) as usize]
    }
    /// An integer register the program may write (x0 included: writes are dropped).
    pub fn xd(&mut self) -> u32 {
        loop {
            let r = self.below(32);
            if !RESERVED.contains(&r) {
                return r;
            }
        }
    }
    /// x8..x15 (a compressed register) the program may write.
    pub fn xd_c(&mut self) -> u32 {
        loop {
            let r = 8 + self.below(8);
            if !RESERVED.contains(&r) {
                return r;
            }
        }
    }
    pub fn rm(&mut self) -> u32 {
        self.pick(&[0, 1, 2, 3, 4, 7])
    }
    /// An FP operand: special values more often than their share of the bit patterns.
    pub fn fval(&mut self) -> u32 {
        const SPECIAL: [u32; 20] = [
            0x0000_0000, // +0
            0x8000_0000, // -0
            0x7f80_0000, // +inf
            0xff80_0000, // -inf
            0x7fc0_0000, // canonical qNaN
            0xffc0_1234, // qNaN with a payload
            0x7fa0_0000, // sNaN
            0x0000_0001, // smallest subnormal
            0x807f_ffff, // largest negative subnormal
            0x0080_0000, // smallest normal
            0x7f7f_ffff, // largest finite
            0x3f80_0000, // 1
            0xbf80_0000, // -1
            0x3f00_0000, // 0.5
            0x4040_0000, // 3
            0x4f00_0000, // 2^31
            0xcf00_0000, // -2^31
            0x4f80_0000, // 2^32
            0x3fc0_0000, // 1.5
            0xc020_0000, // -2.5
        ];
        match self.below(4) {
            0 | 1 => self.pick(&SPECIAL),
            // a value near a small integer (conversions and rounding)
            2 => ((self.below(200) as f32 - 100.0) + self.below(4) as f32 * 0.25).to_bits(),
            _ => self.next() as u32,
        }
    }
    pub fn xval(&mut self) -> u32 {
        match self.below(3) {
            0 => self.pick(&[0, 1, 2, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 0x8000_0001]),
            1 => self.below(64).wrapping_sub(32),
            _ => self.next() as u32,
        }
    }
}

/// A program as 16-bit parcels.
#[derive(Default)]
pub struct Code(pub Vec<u16>);
impl Code {
    pub fn w(&mut self, w: u32) {
        self.0.extend([w as u16, (w >> 16) as u16]);
    }
    pub fn c(&mut self, h: u32) {
        debug_assert!(h & 3 != 3 && h >> 16 == 0);
        self.0.push(h as u16);
    }
    pub fn li(&mut self, rd: u32, v: u32) {
        for w in li(rd, v) {
            self.w(w);
        }
    }
}

/// One random 32-bit instruction.
pub fn full(g: &mut Rng, c: &mut Code, o: &Opts) {
    let (rs1, rs2) = (g.below(32), g.below(32));
    let (fs1, fs2, fs3, fd) = (g.below(32), g.below(32), g.below(32), g.below(32));
    let rd = g.xd();
    // (without F: the integer arms and compressed ones, in about the same proportions)
    let arm = if o.fp {
        g.below(20)
    } else {
        g.pick(&[0, 1, 1, 2, 3, 4, 4, 5, 5, 14, 15, 16, 17])
    };
    match arm {
        // OP: RV32I and M
        0 | 1 => {
            let (f7, f3) = g.pick(&[
                (0, 0),
                (0x20, 0),
                (0, 1),
                (0, 2),
                (0, 3),
                (0, 4),
                (0, 5),
                (0x20, 5),
                (0, 6),
                (0, 7),
                (1, 0),
                (1, 1),
                (1, 2),
                (1, 3),
                (1, 4),
                (1, 5),
                (1, 6),
                (1, 7),
            ]);
            c.w(r(f7, rs2, rs1, f3, rd, 0x33));
        }
        // OP-IMM
        2 => {
            let f3 = g.pick(&[0, 2, 3, 4, 6, 7, 1, 5]);
            let imm = match f3 {
                1 => g.below(32) as i32,
                5 => (g.below(32) | g.pick(&[0, 0x400])) as i32,
                _ => (g.below(4096) as i32) << 20 >> 20,
            };
            c.w(i(imm, rs1, f3, rd, 0x13));
        }
        3 => c.w((g.below(1 << 20) << 12) | (rd << 7) | g.pick(&[0x37, 0x17])),
        // loads and stores around s11, naturally aligned unless `o.misaligned`
        4 => {
            let (f3, size) = g.pick(&[(0, 1), (1, 2), (2, 4), (4, 1), (5, 2)]);
            let off = o.offset(g, size);
            c.w(i(off, 27, f3, rd, 0x03));
        }
        5 => {
            let (f3, size) = g.pick(&[(0, 1), (1, 2), (2, 4)]);
            let off = o.offset(g, size);
            c.w(s(off, rs2, 27, f3, 0x23));
        }
        6 => {
            let off = (g.below(0x800) as i32 - 0x400) & !3;
            if g.below(2) == 0 {
                c.w(i(off, 27, 2, fd, 0x07));
            } else {
                c.w(s(off, fs2, 27, 2, 0x27));
            }
        }
        // FP arithmetic with a rounding mode
        7 | 8 => {
            let f7 = if o.divsqrt {
                g.pick(&[0x00, 0x04, 0x08, 0x0c])
            } else {
                g.pick(&[0x00, 0x04, 0x08])
            };
            c.w(r(f7, fs2, fs1, g.rm(), fd, 0x53));
        }
        9 => {
            let op = g.pick(&[0x43, 0x47, 0x4b, 0x4f]);
            c.w((fs3 << 27) | r(0, fs2, fs1, g.rm(), fd, op));
        }
        10 if o.divsqrt => c.w(r(0x2c, 0, fs1, g.rm(), fd, 0x53)), // fsqrt
        10 => c.w(r(0x10, fs2, fs1, 0, fd, 0x53)),                 // (fsgnj.s instead)
        // sign injection, min/max
        11 => {
            let (f7, f3) = g.pick(&[(0x10, 0), (0x10, 1), (0x10, 2), (0x14, 0), (0x14, 1)]);
            c.w(r(f7, fs2, fs1, f3, fd, 0x53));
        }
        // to integer registers: conversions, moves, class, comparisons
        12 => match g.below(4) {
            0 => c.w(r(0x60, g.below(2), fs1, g.rm(), rd, 0x53)),
            1 => c.w(r(0x70, 0, fs1, g.below(2), rd, 0x53)),
            _ => c.w(r(0x50, fs2, fs1, g.below(3), rd, 0x53)),
        },
        // from integer registers
        13 => match g.below(2) {
            0 => c.w(r(0x68, g.below(2), rs1, g.rm(), fd, 0x53)),
            _ => c.w(r(0x78, 0, rs1, 0, fd, 0x53)),
        },
        // CSR accesses from `o.csrs`
        14 => {
            let (csr, f3, src) = g.pick(o.csrs);
            let src = if src { g.below(32) } else { 0 };
            c.w((csr << 20) | (src << 15) | (f3 << 12) | (rd << 7) | 0x73);
        }
        // a quarter compressed
        _ => compressed(g, c, o),
    }
}

/// One random compressed instruction (RV32C, and RV32FC with `o.fp`; no control transfers).
pub fn compressed(g: &mut Rng, c: &mut Code, o: &Opts) {
    let rdp = g.xd_c() - 8;
    let rs2p = g.below(8);
    let rd = loop {
        let r = g.xd();
        if r != 0 {
            break r;
        }
    };
    // for the forms where rd = x0 is a HINT (executes, writes nothing)
    let rdh = g.xd();
    let imm6 = g.below(64);
    let nz6 = 1 + g.below(63);
    match g.below(14) {
        // c.addi4spn: rd' = sp + nzuimm (a multiple of 4, 4..1020)
        0 => {
            let u = 4 * (1 + g.below(255));
            let bits = (((u >> 4) & 3) << 11)
                | (((u >> 6) & 0xf) << 7)
                | (((u >> 2) & 1) << 6)
                | (((u >> 3) & 1) << 5);
            c.c(bits | (rdp << 2));
        }
        // c.lw / c.flw / c.sw / c.fsw around s1 (x9 = register 1 of x8..x15)
        1 => {
            let u = 4 * g.below(32);
            let f3 = if o.fp {
                g.pick(&[2, 3, 6, 7])
            } else {
                g.pick(&[2, 6])
            };
            let reg = if f3 == 6 || f3 == 7 {
                rs2p
            } else if f3 == 3 {
                g.below(8)
            } else {
                rdp
            };
            let bits = (((u >> 3) & 7) << 10) | (((u >> 2) & 1) << 6) | (((u >> 6) & 1) << 5);
            c.c((f3 << 13) | bits | (1 << 7) | (reg << 2));
        }
        // c.addi (non-zero immediate), c.li, c.lui (rd is never x2: that is c.addi16sp)
        2 => c.c((((nz6 >> 5) & 1) << 12) | (rdh << 7) | ((nz6 & 0x1f) << 2) | 1),
        3 => c.c((2 << 13) | (((imm6 >> 5) & 1) << 12) | (rdh << 7) | ((imm6 & 0x1f) << 2) | 1),
        4 => c.c((3 << 13) | (((nz6 >> 5) & 1) << 12) | (rdh << 7) | ((nz6 & 0x1f) << 2) | 1),
        // c.srli / c.srai (shamt 1..31) / c.andi
        5 => {
            let k = g.below(3);
            let v = if k == 2 { imm6 } else { 1 + g.below(31) };
            c.c((4 << 13)
                | (((v >> 5) & 1) << 12)
                | (k << 10)
                | (rdp << 7)
                | ((v & 0x1f) << 2)
                | 1);
        }
        // c.sub / c.xor / c.or / c.and
        6 => c.c((4 << 13) | (3 << 10) | (rdp << 7) | (g.below(4) << 5) | (rs2p << 2) | 1),
        // c.slli
        7 => c.c((rdh << 7) | ((1 + g.below(31)) << 2) | 2),
        // c.lwsp / c.flwsp
        8 => {
            let u = 4 * g.below(64);
            let bits = (((u >> 5) & 1) << 12) | (((u >> 2) & 7) << 4) | (((u >> 6) & 3) << 2);
            if !o.fp || g.below(2) == 0 {
                c.c((2 << 13) | bits | (rd << 7) | 2);
            } else {
                c.c((3 << 13) | bits | (g.below(32) << 7) | 2);
            }
        }
        // c.swsp / c.fswsp
        9 => {
            let u = 4 * g.below(64);
            let bits = (((u >> 2) & 0xf) << 9) | (((u >> 6) & 3) << 7);
            let f3 = if o.fp { g.pick(&[6, 7]) } else { 6 };
            c.c((f3 << 13) | bits | (g.below(32) << 2) | 2);
        }
        // c.mv / c.add (rs2 != 0)
        10 | 11 => {
            let rs2 = 1 + g.below(31);
            c.c((4 << 13) | (g.below(2) << 12) | (rdh << 7) | (rs2 << 2) | 2);
        }
        _ => c.c(1), // c.nop
    }
}

/// Bytes of a [`transfer`] of `form`.
pub fn transfer_len(form: u32) -> usize {
    match form {
        0 | 1 | 3 => 4,
        2 | 4 => 2,
        5 => 8,
        6 => 10,
        7 => 12,
        _ => 14,
    }
}

/// A forward branch or jump over the next `skip` bytes (conditional branches, jal, jalr
/// through an auipc, and the compressed forms), linking into a writable register; `form`
/// (0..9) picks which. Forms 7 and 8 are jalrs that link their own base register, one
/// instruction after it was written (cv32e40p_controller.sv's jalr stall rules).
pub fn transfer(g: &mut Rng, c: &mut Code, form: u32, skip: i32) {
    let (rs1, rs2, rd) = (g.below(32), g.below(32), g.xd());
    let rt = loop {
        let r = g.xd();
        if r != 0 {
            break r;
        }
    };
    let at = c.0.len();
    match form {
        0 | 1 => {
            // beq bne blt bge bltu bgeu: imm[12|10:5] rs2 rs1 f3 imm[4:1|11]
            let o = (4 + skip) as u32;
            let f3 = g.pick(&[0, 1, 4, 5, 6, 7]);
            c.w((((o >> 12) & 1) << 31)
                | (((o >> 5) & 0x3f) << 25)
                | (rs2 << 20)
                | (rs1 << 15)
                | (f3 << 12)
                | (((o >> 1) & 0xf) << 8)
                | (((o >> 11) & 1) << 7)
                | 0x63);
        }
        2 => {
            // c.beqz / c.bnez: imm[8|4:3] rs1' imm[7:6|2:1|5]
            let o = (2 + skip) as u32;
            c.c((g.pick(&[6, 7]) << 13)
                | (((o >> 8) & 1) << 12)
                | (((o >> 3) & 3) << 10)
                | (g.below(8) << 7)
                | (((o >> 6) & 3) << 5)
                | (((o >> 1) & 3) << 3)
                | (((o >> 5) & 1) << 2)
                | 1);
        }
        3 => {
            // jal: imm[20|10:1|11|19:12]
            let o = (4 + skip) as u32;
            c.w((((o >> 20) & 1) << 31)
                | (((o >> 1) & 0x3ff) << 21)
                | (((o >> 11) & 1) << 20)
                | (((o >> 12) & 0xff) << 12)
                | (rd << 7)
                | 0x6f);
        }
        4 => {
            // c.j / c.jal (links x1): imm[11|4|9:8|10|6|7|3:1|5]
            let o = (2 + skip) as u32;
            c.c((g.pick(&[1, 5]) << 13)
                | (((o >> 11) & 1) << 12)
                | (((o >> 4) & 1) << 11)
                | (((o >> 8) & 3) << 9)
                | (((o >> 10) & 1) << 8)
                | (((o >> 6) & 1) << 7)
                | (((o >> 7) & 1) << 6)
                | (((o >> 1) & 7) << 3)
                | (((o >> 5) & 1) << 2)
                | 1);
        }
        5 => {
            // auipc rt, 0; jalr rd, 8 + skip (rt)
            c.w((rt << 7) | 0x17);
            c.w(i(8 + skip, rt, 0, rd, 0x67));
        }
        6 => {
            // auipc rt, 0; addi rt, rt, 10 + skip; c.jr rt / c.jalr rt (links x1)
            c.w((rt << 7) | 0x17);
            c.w(i(10 + skip, rt, 0, rt, 0x13));
            c.c((4 << 13) | (g.below(2) << 12) | (rt << 7) | 2);
        }
        7 => {
            // auipc rt, 0; addi ry, ry, 1 (ry != rt, or a nop); jalr rt, 12 + skip (rt)
            c.w((rt << 7) | 0x17);
            let ry = loop {
                let r = g.xd();
                if r != rt {
                    break r;
                }
            };
            c.w(i(1, ry, 0, ry, 0x13));
            c.w(i(12 + skip, rt, 0, rt, 0x67));
        }
        _ => {
            // auipc ra, 0; addi ra, ra, 14 + skip; nop; c.jalr ra
            c.w((1 << 7) | 0x17);
            c.w(i(14 + skip, 1, 0, 1, 0x13));
            c.w(i(0, 0, 0, 0, 0x13));
            c.c((4 << 13) | (1 << 12) | (1 << 7) | 2);
        }
    }
    debug_assert_eq!(2 * (c.0.len() - at), transfer_len(form));
}

/// A loop run 1 to 3 times: `li s10, k`, 1 to 3 random instructions, `addi s10, s10,
/// -1` and `bne s10, x0` back to the first of them (a backward branch, taken k - 1
/// times).
pub fn looped(g: &mut Rng, c: &mut Code, o: &Opts) {
    let k = 1 + g.below(3);
    c.w(i(k as i32, 0, 0, LOOP_REG, 0x13));
    let start = c.0.len();
    for _ in 0..1 + g.below(3) {
        full(g, c, o);
    }
    c.w(i(-1, LOOP_REG, 0, LOOP_REG, 0x13));
    // bne: imm[12|10:5] rs2 rs1 f3 imm[4:1|11], back to `start`
    let off = (-2 * (c.0.len() - start) as i32) as u32;
    c.w((((off >> 12) & 1) << 31)
        | (((off >> 5) & 0x3f) << 25)
        | (LOOP_REG << 15)
        | (1 << 12)
        | (((off >> 1) & 0xf) << 8)
        | (((off >> 11) & 1) << 7)
        | 0x63);
}

/// `n` random instructions with a forward branch or jump over the next 0..3 units
/// (instructions, loops or transfers) before about every eighth one, and a loop
/// ([`looped`]) in place of about every sixteenth. A transfer's own size depends only
/// on its form, known before the offsets are.
pub fn body(g: &mut Rng, n: usize, o: &Opts) -> Code {
    enum Unit {
        Body(Vec<u16>),
        Transfer(u32, usize),
    }
    let mut units = Vec::new();
    for _ in 0..n {
        let mut it = Code::default();
        if g.below(16) == 0 {
            looped(g, &mut it, o);
        } else {
            full(g, &mut it, o);
        }
        if g.below(8) == 0 {
            units.push(Unit::Transfer(g.below(9), g.below(4) as usize));
        }
        units.push(Unit::Body(it.0));
    }
    let size = |u: &Unit| match u {
        Unit::Body(it) => 2 * it.len(),
        Unit::Transfer(form, _) => transfer_len(*form),
    };
    let mut c = Code::default();
    for (k, u) in units.iter().enumerate() {
        match u {
            Unit::Body(it) => c.0.extend(it),
            Unit::Transfer(form, over) => {
                let skip: usize = units[k + 1..(k + 1 + over).min(units.len())]
                    .iter()
                    .map(size)
                    .sum();
                transfer(g, &mut c, *form, skip as i32);
            }
        }
    }
    c
}
