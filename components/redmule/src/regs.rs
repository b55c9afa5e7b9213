//! RedMulE's register file (the "wire" part: offsets and job decoding, no behaviour).
//!
//! hwpe-ctrl (`hwpe_ctrl_slave.sv`) gives the mandatory registers at 0x00..0x14 and two job
//! contexts; RedMulE's job registers start at 0x40 (`redmule_ctrl.sv`, the HAL's
//! `archi_redmule.h`).

use crate::schedule::{check_job, Geometry, JobShape};
use redmule_numerics::{Format, Op};

pub const TRIGGER: u32 = 0x00;
pub const ACQUIRE: u32 = 0x04;
pub const FINISHED: u32 = 0x08;
pub const STATUS: u32 = 0x0C;
pub const RUNNING_JOB: u32 = 0x10;
pub const SOFT_CLEAR: u32 = 0x14;
pub const X_PTR: u32 = 0x40;
pub const W_PTR: u32 = 0x44;
pub const Z_PTR: u32 = 0x48;
pub const MCFG0: u32 = 0x4C;
pub const MCFG1: u32 = 0x50;
pub const ARITH: u32 = 0x54;

/// Size of the register window.
pub const SIZE: u64 = 0x400;
/// Job registers of one context (0x40..=0x54).
pub const JOB_REGS: usize = 6;

/// Name of a job register, for reports.
pub fn name(off: u32) -> &'static str {
    match off {
        TRIGGER => "TRIGGER",
        ACQUIRE => "ACQUIRE",
        FINISHED => "FINISHED",
        STATUS => "STATUS",
        RUNNING_JOB => "RUNNING_JOB",
        SOFT_CLEAR => "SOFT_CLEAR",
        X_PTR => "X",
        W_PTR => "W",
        Z_PTR => "Z",
        MCFG0 => "MCFG0",
        MCFG1 => "MCFG1",
        ARITH => "ARITH",
        _ => "?",
    }
}

/// A decoded, validated job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    pub x: u32,
    pub w: u32,
    pub z: u32,
    pub m: u32,
    pub n: u32,
    pub k: u32,
    pub op: Op,
    pub fmt: Format,
}

impl Job {
    /// Decode the six job registers (X, W, Z, MCFG0, MCFG1, ARITH) and check them against
    /// the TCDM window `[base, base + size)`. The error names the register values.
    pub fn decode(r: &[u32; JOB_REGS], base: u32, size: u32) -> Result<Job, String> {
        let [x, w, z, mcfg0, mcfg1, arith] = *r;
        let regs = format!(
            "X={x:#010x} W={w:#010x} Z={z:#010x} MCFG0={mcfg0:#010x} MCFG1={mcfg1:#010x} ARITH={arith:#010x}"
        );
        let m = mcfg0 & 0xFFFF;
        let k = mcfg0 >> 16;
        let n = mcfg1 & 0xFFFF;
        if m == 0 || n == 0 || k == 0 {
            return Err(format!(
                "bad RedMulE job: zero size (M={m} N={n} K={k}); {regs}"
            ));
        }
        if mcfg1 >> 16 != 0 {
            return Err(format!(
                "bad RedMulE job: MCFG1 bits 31:16 must be 0; {regs}"
            ));
        }
        let op_code = (arith >> 10) & 0x3F;
        let Some(op) = Op::from_code(op_code) else {
            return Err(format!(
                "bad RedMulE job: unknown op {op_code} in ARITH[15:10]; {regs}"
            ));
        };
        let fmt_code = (arith >> 7) & 7;
        let Some(fmt) = Format::from_code(fmt_code) else {
            return Err(format!(
                "bad RedMulE job: unknown or unsupported format {fmt_code} in ARITH[9:7] (0 FP8, 1 FP16, 2 FP8ALT); {regs}"
            ));
        };
        let eb = fmt.bytes_per_elem() as u64;
        for (nm, a) in [("X", x), ("W", w), ("Z", z)] {
            if !(a as u64).is_multiple_of(eb) {
                return Err(format!(
                    "bad RedMulE job: {nm} = {a:#010x} is not aligned to the {eb}-byte element; {regs}"
                ));
            }
        }
        let end = base as u64 + size as u64;
        for (nm, a, elems) in [
            ("X", x, m as u64 * n as u64),
            ("W", w, n as u64 * k as u64),
            ("Z", z, m as u64 * k as u64),
        ] {
            let last = a as u64 + elems * eb;
            if (a as u64) < base as u64 || last > end {
                return Err(format!(
                    "bad RedMulE job: {nm} [{a:#010x}, {last:#010x}) is outside the TCDM [{base:#010x}, {end:#010x}); {regs}"
                ));
            }
        }
        Ok(Job {
            x,
            w,
            z,
            m,
            n,
            k,
            op,
            fmt,
        })
    }

    /// [`Job::decode`], then the RTL's counter limits for an array of geometry `g`
    /// ([`crate::schedule::check_job`]: at most 65,535 Z stores and 65,535 X chunk reads, N
    /// rounded up to the CEs per row at most 65,535). The error names the register values.
    pub fn decode_checked(
        r: &[u32; JOB_REGS],
        base: u32,
        size: u32,
        g: Geometry,
    ) -> Result<Job, String> {
        let job = Job::decode(r, base, size)?;
        job.check_rtl_limits(g).map_err(|e| {
            let [x, w, z, mcfg0, mcfg1, arith] = *r;
            format!(
                "bad RedMulE job: the RTL cannot run it on a {}x{}x{} array: {e}; X={x:#010x} \
                 W={w:#010x} Z={z:#010x} MCFG0={mcfg0:#010x} MCFG1={mcfg1:#010x} ARITH={arith:#010x}",
                g.rows, g.cols, g.stages
            )
        })?;
        Ok(job)
    }

    /// The RTL's counter limits for this job on an array of geometry `g` (see
    /// [`Job::decode_checked`]); the error names M, N, K and the counter.
    pub fn check_rtl_limits(&self, g: Geometry) -> Result<(), String> {
        let shape = JobShape {
            m: self.m,
            n: self.n,
            k: self.k,
            x: self.x,
            w: self.w,
            z: self.z,
            elem_bytes: self.fmt.bytes_per_elem() as u32,
        };
        check_job(g, &shape).map_err(|e| format!("M={} N={} K={}: {e}", self.m, self.n, self.k))
    }

    /// The registers that program this job (for drivers).
    pub fn registers(&self) -> [u32; JOB_REGS] {
        [
            self.x,
            self.w,
            self.z,
            (self.k << 16) | self.m,
            self.n,
            (self.op.code() << 10) | (self.fmt.code() << 7),
        ]
    }
}
