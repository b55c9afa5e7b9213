//! Bit-exact numerics of the RedMulE matrix engine.
//!
//! RedMulE computes `Z = (X op1 W) op2 Y` with `X` M x N, `W` N x K and `Y`/`Z` M x K, all dense
//! row-major. Every element of `Z` is a chain over `n = 0, 1, ..., N-1` (ascending) of
//! computing-element steps, each one correctly rounded FP16 operation, starting from `Y[m][k]`
//! (or +0 for MATMUL):
//!
//! ```text
//! acc = initial_acc(Y[m][k]);             // +0 (0x0000) for MATMUL
//! for n in 0..N { acc = step(acc, X[m][n], W[n][k]); }
//! Z[m][k] = acc;
//! ```
//!
//! Computation is always FP16; FP8 inputs are cast to FP16 and the result cast back
//! ([`Format`]). The per-op `step` is derived from the RTL in [`Op::ce_config`] and [`Op::step`].
//!
//! ```
//! use redmule_numerics::{gemm, Dims, Format, Op};
//!
//! // 1 x 2 times 2 x 1 plus Y, in FP16 (little-endian bit patterns).
//! let x = [0x3C00u16, 0x4000]; // 1, 2
//! let w = [0x4200u16, 0x3800]; // 3, 0.5
//! let y = [0xBC00u16]; // -1
//! let bytes = |v: &[u16]| Format::Fp16.encode_slice(v);
//! let dims = Dims { m: 1, n: 2, k: 1 };
//! let z = gemm(Op::Gemm, Format::Fp16, dims, &bytes(&x), &bytes(&w), &bytes(&y)).unwrap();
//! assert_eq!(Format::Fp16.decode_slice(&z), [0x4200]); // -1 + 1*3 + 2*0.5 = 3
//!
//! // The same element with the streaming building block.
//! assert_eq!(Op::Gemm.step(Op::Gemm.step(0xBC00, 0x3C00, 0x4200), 0x4000, 0x3800), 0x4200);
//! ```
//!
//! # Modules
//!
//! * [`fp16`]: fast bit-exact FP16 `fma`, `add`, `mul`, `min`, `max` (fpnew semantics).
//! * [`fp8`]: E5M2 / E4M3 formats and their casts to and from FP16.
//! * [`gemm`](mod@gemm): whole-matrix GEMM-Ops and tile/row helpers for a streaming model.
//!   On x86_64 hosts with AVX2, FMA and F16C (detected at run time) the row helpers run
//!   vector kernels, 8 columns per instruction, with the same bits as the portable code;
//!   where the host also has AVX512-FP16, MATMUL/GEMM chains run on its FP16 FMA, 32 columns
//!   per instruction and four tile rows at once. [`Kernel::Avx2`] and [`Kernel::Portable`]
//!   force the AVX2 kernels or the portable code (the `simd` module documents why the
//!   kernels are exact).
//! * [`reference`](mod@reference): slow exact-integer oracle with the same contracts.
//!
//! # RTL sources (pulp-platform/redmule, fpnew = pulp-platform/cvfpu `pulp-v0.2.3`)
//!
//! * `rtl/redmule_tiler.sv`: maps the software op code (ARITH bits 12:10) onto fpnew
//!   operations and rounding modes for the two CE stages (see [`Op::ce_config`]), and the format
//!   code (bits 9:7, read as the 2-bit `gemm_fmt_e`) onto fpnew formats.
//! * `rtl/redmule_ce.sv`: the two-stage computing element; `rtl/redmule_row.sv` chains four CEs
//!   (each CE's addend is the previous CE's registered output); `rtl/redmule_engine.sv` feeds
//!   either the Y bias or the row's previous result back (`accumulate`).
//! * `rtl/redmule_fma.sv` / `rtl/redmule_noncomp.sv`: copies of fpnew_fma.sv / fpnew_noncomp.sv
//!   with a stall input; arithmetic identical to fpnew.
//! * `rtl/redmule_castin.sv` / `rtl/redmule_castout.sv`: fpnew_cast_multi F2F casts in RNE.
//! * `rtl/z_buffer/redmule_z_buffer_scm.sv`: the Y/Z buffer, cleared to all-zero bits; with
//!   MATMUL no Y is loaded (`gemm_selection = 0`), so the first bias is +0.
//!
//! # Where the model knowingly departs from the RTL
//!
//! * N not a multiple of 4: the RTL runs the chain over N rounded up to a multiple of 4 with
//!   zero-padded X and W (`redmule_x_buffer.sv`, `redmule_w_buffer.sv`). [`gemm()`] follows the
//!   golden model (no padding); [`gemm_rtl_padded`] reproduces the padding. It matters for -0
//!   results of MATMUL/GEMM and for every min/max op (a `+0` candidate is folded in).
//! * MATMUL never loads Y; its bias comes from the Z buffer, which holds zeros after a clear but
//!   the previous tile's results afterwards (the buffer is refilled by `fill`, not cleared per
//!   tile), which matches the known wrong results of multi-tile MATMUL. The model always starts
//!   MATMUL from +0.
//! * `Float16Alt` (bfloat16, format code 3) is not modelled ([`decode_arith`] rejects it).
//!
//! The FP16 operations, the casts and the per-op CE step were also compared bit for bit with a
//! Verilator simulation of `redmule_fma.sv`, `redmule_noncomp.sv`, `fpnew_cast_multi.sv` and
//! `redmule_ce.sv` (outside this repository): exhaustive casts, every FP16 pattern against a set
//! of special operands for add/mul/min/max, 6 M random FMAs and 1 M random CE steps, no
//! difference.

// Unsafe code is confined to the `simd` module (std::arch loads and stores).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod fp16;
pub mod fp8;
pub mod gemm;
pub mod reference;
mod simd;
pub mod softfloat;

pub use gemm::{
    accumulate, accumulate_w_row, accumulate_w_row_with, accumulate_with, gemm, gemm_rtl_padded,
    gemm_with, rtl_padding_steps, z_row, z_row_with, Dims, Fp16View, Kernel, ShapeError,
};

/// Element format of X, W, Y and Z in memory (software codes of ARITH bits 9:7).
///
/// FP8 is packed one byte per element, FP16 two bytes little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `Float8` (software code 0): E5M2 {1,5,2}, fpnew `FP8` (3).
    Fp8E5M2,
    /// `Float16` (software code 1): IEEE binary16, fpnew `FP16` (2).
    Fp16,
    /// `Float8Alt` (software code 2): E4M3 {1,4,3} with IEEE conventions, fpnew `FP8ALT` (5).
    Fp8E4M3,
}

impl Format {
    /// All supported formats.
    pub const ALL: [Format; 3] = [Format::Fp8E5M2, Format::Fp16, Format::Fp8E4M3];

    /// Format from its software code. `Float16Alt` (3, bfloat16) is not supported by this
    /// model and gives `None`, as does any code above 3.
    pub const fn from_code(code: u32) -> Option<Format> {
        match code {
            0 => Some(Format::Fp8E5M2),
            1 => Some(Format::Fp16),
            2 => Some(Format::Fp8E4M3),
            _ => None,
        }
    }

    /// Software code (ARITH bits 9:7).
    pub const fn code(self) -> u32 {
        match self {
            Format::Fp8E5M2 => 0,
            Format::Fp16 => 1,
            Format::Fp8E4M3 => 2,
        }
    }

    /// fpnew's `fp_format_e` value (fpnew_pkg.sv).
    pub const fn fpnew_code(self) -> u32 {
        match self {
            Format::Fp8E5M2 => 3,
            Format::Fp16 => 2,
            Format::Fp8E4M3 => 5,
        }
    }

    /// Bytes per element in memory.
    pub const fn bytes_per_elem(self) -> usize {
        match self {
            Format::Fp16 => 2,
            Format::Fp8E5M2 | Format::Fp8E4M3 => 1,
        }
    }

    /// Cast-in of one raw element (`redmule_castin.sv`): FP16 passes through unchanged (the
    /// streamer bypasses the cast when the source format is FP16); an FP8 byte (the low 8 bits
    /// of `raw`) is widened exactly, NaN -> `0x7E00`.
    #[inline]
    pub fn to_fp16(self, raw: u16) -> u16 {
        match self {
            Format::Fp16 => raw,
            Format::Fp8E5M2 => fp8::e5m2_to_fp16(raw as u8),
            Format::Fp8E4M3 => fp8::e4m3_to_fp16(raw as u8),
        }
    }

    /// Cast-out of one FP16 result (`redmule_castout.sv`): FP16 unchanged, FP8 rounded to
    /// nearest even (result in the low 8 bits).
    #[inline]
    pub fn from_fp16(self, h: u16) -> u16 {
        match self {
            Format::Fp16 => h,
            Format::Fp8E5M2 => u16::from(fp8::fp16_to_e5m2(h)),
            Format::Fp8E4M3 => u16::from(fp8::fp16_to_e4m3(h)),
        }
    }

    /// Reads element `idx` of a packed byte slice and casts it to FP16; `None` if out of range.
    #[inline]
    pub fn load(self, bytes: &[u8], idx: usize) -> Option<u16> {
        match self {
            Format::Fp16 => {
                let i = idx.checked_mul(2)?;
                let b = bytes.get(i..i.checked_add(2)?)?;
                Some(u16::from_le_bytes([b[0], b[1]]))
            }
            Format::Fp8E5M2 | Format::Fp8E4M3 => {
                bytes.get(idx).map(|&b| self.to_fp16(u16::from(b)))
            }
        }
    }

    /// Casts an FP16 value to this format and writes it as element `idx` of a packed byte
    /// slice; returns `false` (writing nothing) if out of range.
    #[inline]
    pub fn store(self, bytes: &mut [u8], idx: usize, h: u16) -> bool {
        match self {
            Format::Fp16 => {
                let Some(i) = idx.checked_mul(2) else {
                    return false;
                };
                match bytes.get_mut(i..i.saturating_add(2)) {
                    Some(b) if b.len() == 2 => {
                        b.copy_from_slice(&h.to_le_bytes());
                        true
                    }
                    _ => false,
                }
            }
            Format::Fp8E5M2 | Format::Fp8E4M3 => match bytes.get_mut(idx) {
                Some(b) => {
                    *b = self.from_fp16(h) as u8;
                    true
                }
                None => false,
            },
        }
    }

    /// Casts a whole packed byte slice to FP16 (a trailing partial FP16 element is ignored).
    pub fn decode_slice(self, bytes: &[u8]) -> Vec<u16> {
        match self {
            Format::Fp16 => bytes
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect(),
            Format::Fp8E5M2 | Format::Fp8E4M3 => {
                bytes.iter().map(|&b| self.to_fp16(u16::from(b))).collect()
            }
        }
    }

    /// Casts FP16 values to this format and packs them into bytes.
    pub fn encode_slice(self, values: &[u16]) -> Vec<u8> {
        match self {
            Format::Fp16 => values.iter().flat_map(|h| h.to_le_bytes()).collect(),
            Format::Fp8E5M2 | Format::Fp8E4M3 => {
                values.iter().map(|&h| self.from_fp16(h) as u8).collect()
            }
        }
    }
}

/// The fpnew operation a CE stage is programmed with (`fpnew_pkg::operation_e`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FpnewOp {
    /// `FMADD`: `a * b + c`.
    Fmadd,
    /// `ADD`: fpnew forces operand A to +1.0, so `1.0 * b + c` (RedMulE feeds `{0, x, w}`).
    Add,
    /// `MUL`: fpnew forces the addend to -0.0, so `a * b + (-0)`.
    Mul,
    /// `MINMAX`: minimum or maximum, selected by the rounding mode.
    MinMax,
}

/// The rounding-mode field of a CE stage (`fpnew_pkg::roundmode_e`). RedMulE uses only these
/// two; for `MINMAX` it selects the operation (fpnew_noncomp.sv: RNE = MIN, RTZ = MAX).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoundMode {
    /// Round to nearest, ties to even; `MINMAX` computes the minimum.
    Rne,
    /// Round towards zero; `MINMAX` computes the maximum. Never used for arithmetic.
    Rtz,
}

/// Configuration of the two CE stages for one GEMM-Op, as `redmule_tiler.sv` programs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CeConfig {
    /// Stage-1 operation (`stage_1_op`).
    pub op1: FpnewOp,
    /// Stage-1 rounding mode (`stage_1_rnd_mode`).
    pub rnd1: RoundMode,
    /// Stage-2 operation (`stage_2_op`, always `MINMAX`; bypassed when `op1 == FMADD`).
    pub op2: FpnewOp,
    /// Stage-2 rounding mode (`stage_2_rnd_mode`).
    pub rnd2: RoundMode,
    /// Whether Y is loaded (`gemm_selection`, 0 only for MATMUL).
    pub uses_y: bool,
}

/// GEMM-Op (software op codes, ARITH bits 12:10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// 0: `Z = X * W` (FMA chain from +0).
    Matmul,
    /// 1: `Z = X * W + Y` (FMA chain from Y).
    Gemm,
    /// 2: `Z = max(Y, max over n of (x + w))`.
    AddMax,
    /// 3: `Z = min(Y, min over n of (x + w))`.
    AddMin,
    /// 4: `Z = max(Y, max over n of (x * w))`.
    MulMax,
    /// 5: `Z = min(Y, min over n of (x * w))`.
    MulMin,
    /// 6: `Z = min(Y, min over n of max(x, w))`.
    MaxMin,
    /// 7: `Z = max(Y, max over n of min(x, w))`.
    MinMax,
}

impl Op {
    /// All eight ops in code order.
    pub const ALL: [Op; 8] = [
        Op::Matmul,
        Op::Gemm,
        Op::AddMax,
        Op::AddMin,
        Op::MulMax,
        Op::MulMin,
        Op::MaxMin,
        Op::MinMax,
    ];

    /// Op from its software code (0..=7).
    pub const fn from_code(code: u32) -> Option<Op> {
        if code < 8 {
            Some(Op::ALL[code as usize])
        } else {
            None
        }
    }

    /// Software code (0..=7).
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The CE configuration `redmule_tiler.sv` derives from the op (`stage_1_rnd_mode`,
    /// `stage_2_rnd_mode`, `stage_1_op`, `stage_2_op`, `gemm_selection`):
    ///
    /// | op | op1 | rnd1 | rnd2 | stage 1 | stage 2 |
    /// | --- | --- | --- | --- | --- | --- |
    /// | MATMUL | FMADD | RNE | RNE | `x*w + acc` | bypassed |
    /// | GEMM | FMADD | RNE | RNE | `x*w + acc` | bypassed |
    /// | ADDMAX | ADD | RNE | RTZ | `x + w` | `max(s1, acc)` |
    /// | ADDMIN | ADD | RNE | RNE | `x + w` | `min(s1, acc)` |
    /// | MULMAX | MUL | RNE | RTZ | `x * w` | `max(s1, acc)` |
    /// | MULMIN | MUL | RNE | RNE | `x * w` | `min(s1, acc)` |
    /// | MAXMIN | MINMAX | RTZ | RNE | `max(x, w)` | `min(s1, acc)` |
    /// | MINMAX | MINMAX | RNE | RTZ | `min(x, w)` | `max(s1, acc)` |
    pub const fn ce_config(self) -> CeConfig {
        use FpnewOp::*;
        use RoundMode::*;
        let (op1, rnd1, rnd2) = match self {
            Op::Matmul | Op::Gemm => (Fmadd, Rne, Rne),
            Op::AddMax => (Add, Rne, Rtz),
            Op::AddMin => (Add, Rne, Rne),
            Op::MulMax => (Mul, Rne, Rtz),
            Op::MulMin => (Mul, Rne, Rne),
            Op::MaxMin => (MinMax, Rtz, Rne),
            Op::MinMax => (MinMax, Rne, Rtz),
        };
        CeConfig {
            op1,
            rnd1,
            op2: MinMax,
            rnd2,
            uses_y: !matches!(self, Op::Matmul),
        }
    }

    /// Whether the op reads Y (all but MATMUL).
    pub const fn uses_y(self) -> bool {
        !matches!(self, Op::Matmul)
    }

    /// Initial accumulator of an output element: Y for every op but MATMUL, whose bias comes
    /// from the cleared Z buffer (all-zero bits = +0; `redmule_z_buffer_scm.sv`).
    #[inline]
    pub const fn initial_acc(self, y: u16) -> u16 {
        match self {
            Op::Matmul => fp16::POS_ZERO,
            _ => y,
        }
    }

    /// One CE step on FP16 bit patterns: the new partial result from the incoming one (`acc`,
    /// the Y bias or the previous CE's output) and the operands `x = X[m][n]`, `w = W[n][k]`.
    /// Fast path; equal to [`reference::step`] for every input (tested).
    ///
    /// The RTL pads N up to a multiple of 4 with `x = w = +0` (see [`gemm_rtl_padded`]); a
    /// caller that wants that behaviour applies `step(acc, 0, 0)` for the padded slots.
    #[inline]
    pub fn step(self, acc: u16, x: u16, w: u16) -> u16 {
        match self {
            Op::Matmul | Op::Gemm => fp16::fma(x, w, acc),
            Op::AddMax => fp16::max(fp16::add(x, w), acc),
            Op::AddMin => fp16::min(fp16::add(x, w), acc),
            Op::MulMax => fp16::max(fp16::mul(x, w), acc),
            Op::MulMin => fp16::min(fp16::mul(x, w), acc),
            Op::MaxMin => fp16::min(fp16::max(x, w), acc),
            Op::MinMax => fp16::max(fp16::min(x, w), acc),
        }
    }
}

/// Error decoding an ARITH register value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithError {
    /// Format field 3 (`Float16Alt`, bfloat16), which this model does not implement.
    UnsupportedFormat(u32),
}

impl std::fmt::Display for ArithError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArithError::UnsupportedFormat(c) => {
                write!(f, "unsupported RedMulE format code {c} (Float16Alt)")
            }
        }
    }
}

impl std::error::Error for ArithError {}

/// Decodes the ARITH register (`op << 10 | format << 7`) as `redmule_tiler.sv` does: the op is
/// bits 12:10; the format is read into the 2-bit `gemm_fmt_e`, i.e. bits 8:7 (bit 9 ignored).
pub fn decode_arith(arith: u32) -> Result<(Op, Format), ArithError> {
    let op = Op::ALL[((arith >> 10) & 7) as usize];
    let fmt_code = (arith >> 7) & 3;
    match Format::from_code(fmt_code) {
        Some(fmt) => Ok((op, fmt)),
        None => Err(ArithError::UnsupportedFormat(fmt_code)),
    }
}
