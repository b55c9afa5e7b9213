//! Test support: a tiny RV32IMCF assembler (encodings from the RISC-V unprivileged
//! spec, written independently of the decoder) and a flat-memory bus.
#![allow(dead_code)]

use vp_core::{BusRequest, DataBus, Hart, Route, Stop};

/// ABI register numbers.
pub mod reg {
    pub const ZERO: u32 = 0;
    pub const RA: u32 = 1;
    pub const SP: u32 = 2;
    pub const T0: u32 = 5;
    pub const T1: u32 = 6;
    pub const T2: u32 = 7;
    pub const S0: u32 = 8;
    pub const S1: u32 = 9;
    pub const A0: u32 = 10;
    pub const A1: u32 = 11;
    pub const A2: u32 = 12;
    pub const A3: u32 = 13;
    pub const A4: u32 = 14;
    pub const A5: u32 = 15;
    pub const A6: u32 = 16;
}

/// 32-bit instruction encoders.
pub mod asm {
    pub fn r(f7: u32, rs2: u32, rs1: u32, f3: u32, rd: u32, op: u32) -> u32 {
        (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op
    }
    pub fn i(imm: i32, rs1: u32, f3: u32, rd: u32, op: u32) -> u32 {
        (((imm as u32) & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op
    }
    pub fn s(imm: i32, rs2: u32, rs1: u32, f3: u32, op: u32) -> u32 {
        let imm = imm as u32;
        (((imm >> 5) & 0x7f) << 25)
            | (rs2 << 20)
            | (rs1 << 15)
            | (f3 << 12)
            | ((imm & 0x1f) << 7)
            | op
    }
    fn b(imm: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
        let imm = imm as u32;
        (((imm >> 12) & 1) << 31)
            | (((imm >> 5) & 0x3f) << 25)
            | (rs2 << 20)
            | (rs1 << 15)
            | (f3 << 12)
            | (((imm >> 1) & 0xf) << 8)
            | (((imm >> 11) & 1) << 7)
            | 0x63
    }
    pub fn lui(rd: u32, imm20: u32) -> u32 {
        (imm20 << 12) | (rd << 7) | 0x37
    }
    pub fn auipc(rd: u32, imm20: u32) -> u32 {
        (imm20 << 12) | (rd << 7) | 0x17
    }
    pub fn jal(rd: u32, off: i32) -> u32 {
        let o = off as u32;
        (((o >> 20) & 1) << 31)
            | (((o >> 1) & 0x3ff) << 21)
            | (((o >> 11) & 1) << 20)
            | (((o >> 12) & 0xff) << 12)
            | (rd << 7)
            | 0x6f
    }
    pub fn jalr(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(imm, rs1, 0, rd, 0x67)
    }
    pub fn beq(rs1: u32, rs2: u32, off: i32) -> u32 {
        b(off, rs2, rs1, 0)
    }
    pub fn bne(rs1: u32, rs2: u32, off: i32) -> u32 {
        b(off, rs2, rs1, 1)
    }
    pub fn blt(rs1: u32, rs2: u32, off: i32) -> u32 {
        b(off, rs2, rs1, 4)
    }
    pub fn bgeu(rs1: u32, rs2: u32, off: i32) -> u32 {
        b(off, rs2, rs1, 7)
    }
    pub fn lb(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(imm, rs1, 0, rd, 0x03)
    }
    pub fn lh(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(imm, rs1, 1, rd, 0x03)
    }
    pub fn lw(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(imm, rs1, 2, rd, 0x03)
    }
    pub fn lbu(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(imm, rs1, 4, rd, 0x03)
    }
    pub fn lhu(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(imm, rs1, 5, rd, 0x03)
    }
    pub fn sb(rs2: u32, rs1: u32, imm: i32) -> u32 {
        s(imm, rs2, rs1, 0, 0x23)
    }
    pub fn sh(rs2: u32, rs1: u32, imm: i32) -> u32 {
        s(imm, rs2, rs1, 1, 0x23)
    }
    pub fn sw(rs2: u32, rs1: u32, imm: i32) -> u32 {
        s(imm, rs2, rs1, 2, 0x23)
    }
    pub fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(imm, rs1, 0, rd, 0x13)
    }
    pub fn slti(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(imm, rs1, 2, rd, 0x13)
    }
    pub fn sltiu(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(imm, rs1, 3, rd, 0x13)
    }
    pub fn xori(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(imm, rs1, 4, rd, 0x13)
    }
    pub fn andi(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(imm, rs1, 7, rd, 0x13)
    }
    pub fn xor(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(0, rs2, rs1, 4, rd, 0x33)
    }
    pub fn or(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(0, rs2, rs1, 6, rd, 0x33)
    }
    pub fn and(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(0, rs2, rs1, 7, rd, 0x33)
    }
    pub fn slli(rd: u32, rs1: u32, sh: u32) -> u32 {
        r(0, sh, rs1, 1, rd, 0x13)
    }
    pub fn srli(rd: u32, rs1: u32, sh: u32) -> u32 {
        r(0, sh, rs1, 5, rd, 0x13)
    }
    pub fn srai(rd: u32, rs1: u32, sh: u32) -> u32 {
        r(0x20, sh, rs1, 5, rd, 0x13)
    }
    pub fn add(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(0, rs2, rs1, 0, rd, 0x33)
    }
    pub fn sub(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(0x20, rs2, rs1, 0, rd, 0x33)
    }
    pub fn sll(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(0, rs2, rs1, 1, rd, 0x33)
    }
    pub fn slt(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(0, rs2, rs1, 2, rd, 0x33)
    }
    pub fn sltu(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(0, rs2, rs1, 3, rd, 0x33)
    }
    pub fn srl(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(0, rs2, rs1, 5, rd, 0x33)
    }
    pub fn sra(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(0x20, rs2, rs1, 5, rd, 0x33)
    }
    pub fn mul(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(1, rs2, rs1, 0, rd, 0x33)
    }
    pub fn mulh(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(1, rs2, rs1, 1, rd, 0x33)
    }
    pub fn mulhsu(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(1, rs2, rs1, 2, rd, 0x33)
    }
    pub fn mulhu(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(1, rs2, rs1, 3, rd, 0x33)
    }
    pub fn div(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(1, rs2, rs1, 4, rd, 0x33)
    }
    pub fn divu(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(1, rs2, rs1, 5, rd, 0x33)
    }
    pub fn rem(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(1, rs2, rs1, 6, rd, 0x33)
    }
    pub fn remu(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r(1, rs2, rs1, 7, rd, 0x33)
    }
    pub fn csrrw(rd: u32, csr: u32, rs1: u32) -> u32 {
        (csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73
    }
    pub fn csrrs(rd: u32, csr: u32, rs1: u32) -> u32 {
        (csr << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x73
    }
    pub fn csrrwi(rd: u32, csr: u32, uimm: u32) -> u32 {
        (csr << 20) | (uimm << 15) | (5 << 12) | (rd << 7) | 0x73
    }
    pub const MRET: u32 = 0x3020_0073;
    pub const ECALL: u32 = 0x0000_0073;
    pub const EBREAK: u32 = 0x0010_0073;
    pub const WFI: u32 = 0x1050_0073;
    pub const NOP: u32 = 0x0000_0013;
    // F extension
    pub fn flw(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(imm, rs1, 2, rd, 0x07)
    }
    pub fn fsw(rs2: u32, rs1: u32, imm: i32) -> u32 {
        s(imm, rs2, rs1, 2, 0x27)
    }
    pub fn fop(f7: u32, rd: u32, rs1: u32, rs2: u32, rm: u32) -> u32 {
        r(f7, rs2, rs1, rm, rd, 0x53)
    }
    pub fn fadd(rd: u32, rs1: u32, rs2: u32, rm: u32) -> u32 {
        fop(0x00, rd, rs1, rs2, rm)
    }
    pub fn fsub(rd: u32, rs1: u32, rs2: u32, rm: u32) -> u32 {
        fop(0x04, rd, rs1, rs2, rm)
    }
    pub fn fmul(rd: u32, rs1: u32, rs2: u32, rm: u32) -> u32 {
        fop(0x08, rd, rs1, rs2, rm)
    }
    pub fn fdiv(rd: u32, rs1: u32, rs2: u32, rm: u32) -> u32 {
        fop(0x0c, rd, rs1, rs2, rm)
    }
    pub fn fsqrt(rd: u32, rs1: u32, rm: u32) -> u32 {
        fop(0x2c, rd, rs1, 0, rm)
    }
    pub fn fmadd(rd: u32, rs1: u32, rs2: u32, rs3: u32, rm: u32) -> u32 {
        (rs3 << 27) | r(0, rs2, rs1, rm, rd, 0x43)
    }
    pub fn fmin(rd: u32, rs1: u32, rs2: u32) -> u32 {
        fop(0x14, rd, rs1, rs2, 0)
    }
    pub fn fmax(rd: u32, rs1: u32, rs2: u32) -> u32 {
        fop(0x14, rd, rs1, rs2, 1)
    }
    pub fn fsgnjn(rd: u32, rs1: u32, rs2: u32) -> u32 {
        fop(0x10, rd, rs1, rs2, 1)
    }
    pub fn feq(rd: u32, rs1: u32, rs2: u32) -> u32 {
        fop(0x50, rd, rs1, rs2, 2)
    }
    pub fn flt(rd: u32, rs1: u32, rs2: u32) -> u32 {
        fop(0x50, rd, rs1, rs2, 1)
    }
    pub fn fclass(rd: u32, rs1: u32) -> u32 {
        fop(0x70, rd, rs1, 0, 1)
    }
    pub fn fmv_x_w(rd: u32, rs1: u32) -> u32 {
        fop(0x70, rd, rs1, 0, 0)
    }
    pub fn fmv_w_x(rd: u32, rs1: u32) -> u32 {
        fop(0x78, rd, rs1, 0, 0)
    }
    pub fn fcvt_w_s(rd: u32, rs1: u32, rm: u32) -> u32 {
        fop(0x60, rd, rs1, 0, rm)
    }
    pub fn fcvt_wu_s(rd: u32, rs1: u32, rm: u32) -> u32 {
        fop(0x60, rd, rs1, 1, rm)
    }
    pub fn fcvt_s_w(rd: u32, rs1: u32, rm: u32) -> u32 {
        fop(0x68, rd, rs1, 0, rm)
    }
    pub const DYN: u32 = 7;
    pub const RNE: u32 = 0;
    pub const RTZ: u32 = 1;
    pub const RDN: u32 = 2;
    pub const RUP: u32 = 3;
}

/// Base address of the test RAM (like L2) and of the timed region (like TCDM).
pub const RAM: u32 = 0x1c00_0000;
pub const RAM_SIZE: u32 = 0x1_0000;
pub const TCDM: u32 = 0x1000_0000;
pub const TCDM_SIZE: u32 = 0x1_0000;

/// A bus with a direct RAM and a timed TCDM.
pub struct TestBus {
    pub ram: Vec<u8>,
    pub tcdm: Vec<u8>,
    /// Extra wait cycles of RAM accesses.
    pub ram_wait: u32,
    pub generation: u64,
}

impl TestBus {
    pub fn new() -> Self {
        TestBus {
            ram: vec![0; RAM_SIZE as usize],
            tcdm: vec![0; TCDM_SIZE as usize],
            ram_wait: 0,
            generation: 0,
        }
    }

    /// Place 32-bit words at RAM offset `off`.
    pub fn load_words(&mut self, off: u32, words: &[u32]) {
        for (k, w) in words.iter().enumerate() {
            let a = off as usize + 4 * k;
            self.ram[a..a + 4].copy_from_slice(&w.to_le_bytes());
        }
    }

    /// Place raw 16-bit parcels at RAM offset `off`.
    pub fn load_halves(&mut self, off: u32, halves: &[u16]) {
        for (k, h) in halves.iter().enumerate() {
            let a = off as usize + 2 * k;
            self.ram[a..a + 2].copy_from_slice(&h.to_le_bytes());
        }
    }

    fn mem(&mut self, addr: u32) -> Option<(&mut Vec<u8>, usize)> {
        if (RAM..RAM + RAM_SIZE).contains(&addr) {
            Some((&mut self.ram, (addr - RAM) as usize))
        } else if (TCDM..TCDM + TCDM_SIZE).contains(&addr) {
            Some((&mut self.tcdm, (addr - TCDM) as usize))
        } else {
            None
        }
    }

    pub fn word(&mut self, addr: u32) -> u32 {
        self.read(addr & !3, 0xf)
    }

    /// Perform a bus request on whichever memory holds it.
    pub fn perform(&mut self, req: &BusRequest) -> u32 {
        if req.write {
            self.write(req.addr, req.be, req.wdata);
            0
        } else {
            self.read(req.addr, req.be)
        }
    }
}

impl DataBus for TestBus {
    fn route(&mut self, addr: u32, _write: bool) -> Route {
        if (RAM..RAM + RAM_SIZE).contains(&addr) {
            Route::Direct {
                wait_cycles: self.ram_wait,
            }
        } else if (TCDM..TCDM + TCDM_SIZE).contains(&addr) {
            Route::Timed
        } else {
            Route::Unmapped
        }
    }
    fn read(&mut self, addr: u32, _be: u8) -> u32 {
        match self.mem(addr) {
            Some((m, o)) => u32::from_le_bytes([m[o], m[o + 1], m[o + 2], m[o + 3]]),
            None => 0,
        }
    }
    fn write(&mut self, addr: u32, be: u8, data: u32) {
        if let Some((m, o)) = self.mem(addr) {
            for k in 0..4 {
                if be & (1 << k) != 0 {
                    m[o + k] = (data >> (8 * k)) as u8;
                }
            }
        }
    }
    fn fetch(&mut self, pc: u32) -> Option<u32> {
        let (m, o) = self.mem(pc)?;
        let b = |k: usize| m.get(o + k).copied().unwrap_or(0) as u32;
        Some(b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24))
    }
    fn code_generation(&self) -> u64 {
        self.generation
    }
    fn is_tcdm(&self, addr: u32) -> bool {
        (TCDM..TCDM + TCDM_SIZE).contains(&addr)
    }
}

/// A hart at RAM with `words` loaded at the start of RAM.
pub fn setup(words: &[u32]) -> (Hart, TestBus) {
    let mut bus = TestBus::new();
    bus.load_words(0, words);
    let mut hart = Hart::new(0, 0, RAM);
    hart.x[reg::SP as usize] = RAM + RAM_SIZE - 16;
    hart.csrs.mstatus |= 1 << 13; // FS = Initial, as the firmware's crt0 does
    (hart, bus)
}

/// Run until ebreak, completing timed accesses at once with `stall` cycles each.
/// Returns the stop (Ebreak or a fault).
pub fn run_until_stop(hart: &mut Hart, bus: &mut TestBus, stall: u64) -> Stop {
    run_until_stop_before(hart, bus, stall, u64::MAX)
}

/// [`run_until_stop`] that gives up at cycle `limit` ([`Stop::Limit`]).
pub fn run_until_stop_before(hart: &mut Hart, bus: &mut TestBus, stall: u64, limit: u64) -> Stop {
    loop {
        match hart.run(bus, limit) {
            Stop::Timed(p) => {
                let v = bus.perform(&p.req);
                hart.complete_access(v, stall).expect("pending access");
            }
            other => return other,
        }
    }
}

/// Run a program ending in ebreak; return the hart. Panics on anything else.
pub fn exec(words: &[u32]) -> (Hart, TestBus) {
    let (mut hart, mut bus) = setup(words);
    let stop = run_until_stop(&mut hart, &mut bus, 0);
    assert!(
        matches!(stop, Stop::Ebreak { .. }),
        "unexpected stop {stop:?}"
    );
    (hart, bus)
}

/// Split 32-bit words into 16-bit parcels (little endian), for mixed programs.
pub fn halves(words: &[u32]) -> Vec<u16> {
    words
        .iter()
        .flat_map(|w| [*w as u16, (*w >> 16) as u16])
        .collect()
}

/// A hart at RAM with the 16-bit parcels `hs` loaded at the start of RAM.
pub fn setup_halves(hs: &[u16]) -> (Hart, TestBus) {
    let mut bus = TestBus::new();
    bus.load_halves(0, hs);
    let mut hart = Hart::new(0, 0, RAM);
    hart.csrs.mstatus |= 1 << 13; // FS = Initial
    (hart, bus)
}

/// Load a 32-bit constant into `rd` (lui + addi).
pub fn li(rd: u32, v: u32) -> [u32; 2] {
    let lo = ((v & 0xfff) as i32) << 20 >> 20;
    let hi = v.wrapping_sub(lo as u32) >> 12;
    [asm::lui(rd, hi), asm::addi(rd, rd, lo)]
}

/// Concatenate instruction groups.
pub fn prog(parts: &[&[u32]]) -> Vec<u32> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}
