//! Differential test of the instruction semantics against QEMU (`qemu-riscv32`, user mode),
//! an implementation written independently of ours: random RV32IMFC programs (ALU, M, loads
//! and stores, F with every rounding mode and NaN, infinity, subnormal and saturating
//! operands, the compressed forms, forward branches and jumps) run on our hart and under
//! QEMU, and must end
//! with the same integer and FP registers, `fcsr` (flags and rounding mode) and memory.
//! Timing is not compared (QEMU has none).
//!
//! Needs `qemu-riscv32` (Debian's `qemu-user`). Without it the test says so and passes,
//! unless `REDMULE_VP_REQUIRE_QEMU` is set, as `.ci/run` does after installing it.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use vp_core::Stop;

/// Where the program runs (the test harness's RAM, also the ELF's text address).
const CODE: u32 = RAM;
/// Scratch memory for loads and stores (the harness's timed TCDM; the ELF's data segment).
const SCRATCH: u32 = TCDM;
const SCRATCH_LEN: usize = 0x800;
/// Register dump of the QEMU run, right after the scratch memory.
const DUMP: u32 = SCRATCH + SCRATCH_LEN as u32;
const DUMP_WORDS: usize = 30 + 32 + 1;

/// Registers the generator never writes: x2 (sp, base of c.lwsp/c.swsp), x9 (s1, base
/// of c.lw/c.sw), x27 (s11, base of the other loads and stores), x31 (the dump pointer of
/// the QEMU epilogue). They are read like any other.
const SP_BASE: u32 = SCRATCH + 0x100;
const S1_BASE: u32 = SCRATCH + 0x200;
const S11_BASE: u32 = SCRATCH + 0x400;
const RESERVED: [u32; 4] = [2, 9, 27, 31];

/// splitmix64: the test's own seeded generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % n as u64) as u32
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u32) as usize]
    }
    /// An integer register the program may write (x0 included: writes are dropped).
    fn xd(&mut self) -> u32 {
        loop {
            let r = self.below(32);
            if !RESERVED.contains(&r) {
                return r;
            }
        }
    }
    /// x8..x15 (a compressed register) the program may write.
    fn xd_c(&mut self) -> u32 {
        loop {
            let r = 8 + self.below(8);
            if !RESERVED.contains(&r) {
                return r;
            }
        }
    }
    fn rm(&mut self) -> u32 {
        self.pick(&[0, 1, 2, 3, 4, 7])
    }
    /// An FP operand: special values more often than their share of the bit patterns.
    fn fval(&mut self) -> u32 {
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
    fn xval(&mut self) -> u32 {
        match self.below(3) {
            0 => self.pick(&[0, 1, 2, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 0x8000_0001]),
            1 => self.below(64).wrapping_sub(32),
            _ => self.next() as u32,
        }
    }
}

fn r(f7: u32, rs2: u32, rs1: u32, f3: u32, rd: u32, op: u32) -> u32 {
    (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op
}
fn i(imm: i32, rs1: u32, f3: u32, rd: u32, op: u32) -> u32 {
    (((imm as u32) & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op
}
fn s(imm: i32, rs2: u32, rs1: u32, f3: u32, op: u32) -> u32 {
    let imm = imm as u32;
    (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | op
}

/// A program as 16-bit parcels.
#[derive(Default)]
struct Code(Vec<u16>);
impl Code {
    fn w(&mut self, w: u32) {
        self.0.extend([w as u16, (w >> 16) as u16]);
    }
    fn c(&mut self, h: u32) {
        debug_assert!(h & 3 != 3 && h >> 16 == 0);
        self.0.push(h as u16);
    }
    fn li(&mut self, rd: u32, v: u32) {
        for w in li(rd, v) {
            self.w(w);
        }
    }
}

/// One random 32-bit instruction.
fn full(g: &mut Rng, c: &mut Code) {
    let (rs1, rs2) = (g.below(32), g.below(32));
    let (fs1, fs2, fs3, fd) = (g.below(32), g.below(32), g.below(32), g.below(32));
    let rd = g.xd();
    match g.below(20) {
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
        // loads and stores around s11, naturally aligned
        4 => {
            let (f3, size) = g.pick(&[(0, 1), (1, 2), (2, 4), (4, 1), (5, 2)]);
            let off = (g.below(0x800) as i32 - 0x400) & !(size - 1);
            c.w(i(off, 27, f3, rd, 0x03));
        }
        5 => {
            let (f3, size) = g.pick(&[(0, 1), (1, 2), (2, 4)]);
            let off = (g.below(0x800) as i32 - 0x400) & !(size - 1);
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
            let f7 = g.pick(&[0x00, 0x04, 0x08, 0x0c]);
            c.w(r(f7, fs2, fs1, g.rm(), fd, 0x53));
        }
        9 => {
            let op = g.pick(&[0x43, 0x47, 0x4b, 0x4f]);
            c.w((fs3 << 27) | r(0, fs2, fs1, g.rm(), fd, op));
        }
        10 => c.w(r(0x2c, 0, fs1, g.rm(), fd, 0x53)), // fsqrt
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
        // fflags / frm / fcsr reads; fflags set and cleared by immediates
        14 => {
            let (csr, f3, src) = g.pick(&[
                (0x001, 2, 0),
                (0x002, 2, 0),
                (0x003, 2, 0),
                (0x001, 6, 1),
                (0x001, 7, 1),
            ]);
            let src = if src == 1 { g.below(32) } else { 0 };
            c.w(((csr as u32) << 20) | (src << 15) | (f3 << 12) | (rd << 7) | 0x73);
        }
        // a quarter compressed
        _ => compressed(g, c),
    }
}

/// One random compressed instruction (RV32FC, no control transfers).
fn compressed(g: &mut Rng, c: &mut Code) {
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
            let f3 = g.pick(&[2, 3, 6, 7]);
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
            if g.below(2) == 0 {
                c.c((2 << 13) | bits | (rd << 7) | 2);
            } else {
                c.c((3 << 13) | bits | (g.below(32) << 7) | 2);
            }
        }
        // c.swsp / c.fswsp
        9 => {
            let u = 4 * g.below(64);
            let bits = (((u >> 2) & 0xf) << 9) | (((u >> 6) & 3) << 7);
            c.c((g.pick(&[6, 7]) << 13) | bits | (g.below(32) << 2) | 2);
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
fn transfer_len(form: u32) -> usize {
    match form {
        0 | 1 | 3 => 4,
        2 | 4 => 2,
        5 => 8,
        _ => 10,
    }
}

/// A forward branch or jump over the next `skip` bytes (conditional branches, jal, jalr
/// through an auipc, and the compressed forms), linking into a writable register; `form`
/// (0..7) picks which.
fn transfer(g: &mut Rng, c: &mut Code, form: u32, skip: i32) {
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
        _ => {
            // auipc rt, 0; addi rt, rt, 10 + skip; c.jr rt / c.jalr rt (links x1)
            c.w((rt << 7) | 0x17);
            c.w(i(10 + skip, rt, 0, rt, 0x13));
            c.c((4 << 13) | (g.below(2) << 12) | (rt << 7) | 2);
        }
    }
    debug_assert_eq!(2 * (c.0.len() - at), transfer_len(form));
}

/// Prologue (registers, rounding mode), `n` random instructions; returns the code and
/// the initial scratch memory.
fn program(seed: u64, n: usize) -> (Code, Vec<u8>) {
    let mut g = Rng(seed);
    let mut c = Code::default();
    // FP registers through x5, then fcsr (frm random, flags clear), then x registers.
    for f in 0..32 {
        let v = g.fval();
        c.li(5, v);
        c.w(r(0x78, 0, 5, 0, f, 0x53));
    }
    c.li(5, g.below(5) << 5);
    c.w((0x003 << 20) | (5 << 15) | (1 << 12) | 0x73); // csrrw x0, fcsr, x5
    for x in 1..32 {
        let v = match x {
            2 => SP_BASE,
            9 => S1_BASE,
            27 => S11_BASE,
            _ => g.xval(),
        };
        c.li(x, v);
    }
    let items: Vec<Vec<u16>> = (0..n)
        .map(|_| {
            let mut it = Code::default();
            full(&mut g, &mut it);
            it.0
        })
        .collect();
    // Forward control transfers over the next 0..3 units (instructions or transfers),
    // one before about every eighth instruction: taken or not, both runs go on in the
    // same stream. A transfer's own size depends only on its form, known before the
    // offsets are.
    enum Unit {
        Body(Vec<u16>),
        Transfer(u32, usize),
    }
    let mut units = Vec::new();
    for it in items {
        if g.below(8) == 0 {
            units.push(Unit::Transfer(g.below(7), g.below(4) as usize));
        }
        units.push(Unit::Body(it));
    }
    let size = |u: &Unit| match u {
        Unit::Body(it) => 2 * it.len(),
        Unit::Transfer(form, _) => transfer_len(*form),
    };
    for (k, u) in units.iter().enumerate() {
        match u {
            Unit::Body(it) => c.0.extend(it),
            Unit::Transfer(form, over) => {
                let skip: usize = units[k + 1..(k + 1 + over).min(units.len())]
                    .iter()
                    .map(size)
                    .sum();
                transfer(&mut g, &mut c, *form, skip as i32);
            }
        }
    }
    let scratch = (0..SCRATCH_LEN).map(|_| g.next() as u8).collect();
    (c, scratch)
}

/// The final state: x1..x30, f0..f31, fcsr, then the scratch memory.
#[derive(Debug, PartialEq)]
struct State {
    regs: Vec<u32>,
    mem: Vec<u8>,
}

fn run_ours(code: &Code, scratch: &[u8]) -> Result<State, String> {
    let mut parcels = code.0.clone();
    parcels.extend([0x0073, 0x0010]); // ebreak
    let (mut h, mut bus) = setup_halves(&parcels);
    bus.tcdm[..SCRATCH_LEN].copy_from_slice(scratch);
    // (a bound, so that a wrong jump cannot hang the test)
    loop {
        match h.run(&mut bus, 1_000_000) {
            Stop::Timed(p) => {
                let v = bus.perform(&p.req);
                h.complete_access(v, 0).map_err(|e| e.to_string())?;
            }
            Stop::Ebreak { .. } => break,
            other => return Err(format!("stopped with {other:?} at pc {:#x}", h.pc)),
        }
    }
    let mut regs: Vec<u32> = (1..31).map(|k| h.x[k]).collect();
    regs.extend(h.f.iter().copied());
    regs.push(h.csr_read(0x003).ok_or("fcsr")?);
    Ok(State {
        regs,
        mem: bus.tcdm[..SCRATCH_LEN].to_vec(),
    })
}

/// The QEMU epilogue: store the registers and fcsr after the scratch memory, write both
/// to stdout, exit(0).
fn epilogue(c: &mut Code) {
    c.li(31, DUMP);
    for x in 1..31 {
        c.w(s(4 * (x as i32 - 1), x, 31, 2, 0x23));
    }
    for f in 0..32 {
        c.w(s(120 + 4 * f as i32, f, 31, 2, 0x27));
    }
    c.w((0x003 << 20) | (2 << 12) | (1 << 7) | 0x73); // csrrs x1, fcsr, x0
    c.w(s(248, 1, 31, 2, 0x23));
    c.li(17, 64); // write(1, SCRATCH, len)
    c.li(10, 1);
    c.li(11, SCRATCH);
    c.li(12, (SCRATCH_LEN + 4 * DUMP_WORDS) as u32);
    c.w(0x73);
    c.li(17, 93); // exit(0)
    c.li(10, 0);
    c.w(0x73);
}

/// A static ELF for qemu-riscv32: text at CODE, the scratch memory (and the dump after it)
/// at SCRATCH.
fn elf(code: &Code, scratch: &[u8]) -> Vec<u8> {
    let text: Vec<u8> = code.0.iter().flat_map(|h| h.to_le_bytes()).collect();
    let (text_off, data_off) = (
        0x1000u32,
        0x1000 + (text.len() as u32).next_multiple_of(0x1000),
    );
    let mut e = Vec::new();
    let h16 = |e: &mut Vec<u8>, v: u16| e.extend(v.to_le_bytes());
    let h32 = |e: &mut Vec<u8>, v: u32| e.extend(v.to_le_bytes());
    e.extend([0x7f, b'E', b'L', b'F', 1, 1, 1, 0]);
    e.extend([0; 8]);
    h16(&mut e, 2); // ET_EXEC
    h16(&mut e, 243); // EM_RISCV
    h32(&mut e, 1);
    h32(&mut e, CODE); // entry
    h32(&mut e, 52); // phoff
    h32(&mut e, 0); // shoff
    h32(&mut e, 0x3); // RVC, single-float ABI
    h16(&mut e, 52);
    h16(&mut e, 32);
    h16(&mut e, 2);
    h16(&mut e, 40);
    h16(&mut e, 0);
    h16(&mut e, 0);
    for (off, addr, filesz, memsz, flags) in [
        (text_off, CODE, text.len() as u32, text.len() as u32, 5),
        (data_off, SCRATCH, SCRATCH_LEN as u32, 0x1000, 6),
    ] {
        for v in [1, off, addr, addr, filesz, memsz, flags, 0x1000] {
            h32(&mut e, v);
        }
    }
    e.resize(text_off as usize, 0);
    e.extend(&text);
    e.resize(data_off as usize, 0);
    e.extend(scratch);
    e
}

fn run_qemu(
    qemu: &Path,
    dir: &Path,
    seed: u64,
    code: &Code,
    scratch: &[u8],
) -> Result<State, String> {
    let mut c = Code(code.0.clone());
    epilogue(&mut c);
    let path = dir.join(format!("p{seed}.elf"));
    std::fs::write(&path, elf(&c, scratch)).map_err(|e| e.to_string())?;
    // (qemu-user loads only files it may execute)
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
    }
    let out = run_bounded(Command::new(qemu).arg(&path))?;
    if out.status.success() {
        let _ = std::fs::remove_file(&path);
    }
    let want = SCRATCH_LEN + 4 * DUMP_WORDS;
    if !out.status.success() || out.stdout.len() != want {
        return Err(format!(
            "qemu: {} with {} bytes of output: {}",
            out.status,
            out.stdout.len(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let regs = out.stdout[SCRATCH_LEN..]
        .chunks(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(State {
        regs,
        mem: out.stdout[..SCRATCH_LEN].to_vec(),
    })
}

/// Run `cmd` to its end, or kill it after 20 s.
fn run_bounded(cmd: &mut Command) -> Result<std::process::Output, String> {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let t0 = std::time::Instant::now();
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if t0.elapsed().as_secs() >= 20 {
            let _ = child.kill();
            let _ = child.wait();
            return Err("qemu: no exit within 20 s".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.wait_with_output().map_err(|e| e.to_string())
}

/// Name of dump word `k` (x1..x30, f0..f31, fcsr).
fn reg_name(k: usize) -> String {
    match k {
        0..30 => format!("x{}", k + 1),
        30..62 => format!("f{}", k - 30),
        _ => "fcsr".into(),
    }
}

fn find_qemu() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("qemu-riscv32"))
        .find(|p| p.is_file())
}

#[test]
fn random_programs_end_in_the_same_state_as_under_qemu() {
    let Some(qemu) = find_qemu() else {
        assert!(
            std::env::var_os("REDMULE_VP_REQUIRE_QEMU").is_none(),
            "REDMULE_VP_REQUIRE_QEMU is set but qemu-riscv32 is not on PATH"
        );
        eprintln!("skipped: qemu-riscv32 not found (apt-get install qemu-user)");
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("qemu_diff");
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for seed in 1..=300u64 {
        let (code, scratch) = program(seed, 200);
        let ours = run_ours(&code, &scratch);
        let theirs = run_qemu(&qemu, &dir, seed, &code, &scratch);
        match (ours, theirs) {
            (Ok(a), Ok(b)) if a == b => {}
            (Ok(a), Ok(b)) => {
                let regs: Vec<String> = (0..DUMP_WORDS)
                    .filter(|&k| a.regs[k] != b.regs[k])
                    .map(|k| {
                        format!(
                            "{} ours {:#010x} qemu {:#010x}",
                            reg_name(k),
                            a.regs[k],
                            b.regs[k]
                        )
                    })
                    .collect();
                let bytes = (0..SCRATCH_LEN).filter(|&k| a.mem[k] != b.mem[k]).count();
                failures.push(format!(
                    "seed {seed}: {} (memory: {bytes} bytes differ)",
                    regs.join(", ")
                ));
            }
            (a, b) => failures.push(format!(
                "seed {seed}: ours {:?} / qemu {:?}",
                a.err(),
                b.err()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 300 programs differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
