//! Slow, straightforward reference path: exact integer arithmetic that mirrors the RTL structure.
//!
//! Nothing here uses host floating point. Every FP16 value is an integer multiple of 2^-24, so a
//! product is an integer multiple of 2^-48 and `a * b + c` is computed *exactly* as an `i128`
//! count of 2^-48 units (|a*b| < 2^32, so the count stays below 2^81) and then rounded once
//! ([`crate::softfloat::round_rne`]). `add` and `mul` are literally the fpnew operand rewrites
//! (`ADD` = `1.0 * x + w`, `MUL` = `x * w + (-0)`, fpnew_fma.sv / redmule_fma.sv `op_select`),
//! and [`step`] interprets the tiler's per-op configuration ([`Op::ce_config`]) the way
//! `redmule_ce.sv` wires its two stages. [`min`] / [`max`] are written independently of
//! [`crate::fp16`] (by numeric value rather than fpnew's bit comparison).
//!
//! This path is the oracle the fast path ([`crate::fp16`], [`crate::gemm`](mod@crate::gemm)) is tested against.

use crate::fp16::{CANONICAL_NAN, NEG_ZERO, ONE};
use crate::softfloat::{self, Class, FP16};
use crate::{Dims, Format, FpnewOp, Op, RoundMode, ShapeError};

/// Exact value of a finite FP16 pattern as a signed count of 2^-24 units, or None (NaN / inf).
fn units24(h: u16) -> Option<i64> {
    match softfloat::decode(FP16, u32::from(h)) {
        Class::Finite { neg, mag, exp2 } => {
            let v = i64::from(mag) << (exp2 + 24);
            Some(if neg { -v } else { v })
        }
        _ => None,
    }
}

fn sign_bit(h: u16) -> bool {
    h & 0x8000 != 0
}

/// Fused multiply-add `a * b + c`, one RNE rounding, fpnew special cases
/// (fpnew_fma.sv `special_cases`): `inf * 0` (+ anything, even NaN) -> canonical NaN; any NaN
/// operand -> canonical NaN; `inf - inf` -> canonical NaN; otherwise an infinite product or
/// addend gives that infinity.
pub fn fma(a: u16, b: u16, c: u16) -> u16 {
    let ca = softfloat::decode(FP16, u32::from(a));
    let cb = softfloat::decode(FP16, u32::from(b));
    let cc = softfloat::decode(FP16, u32::from(c));
    let is_zero = |k: Class| matches!(k, Class::Finite { mag: 0, .. });
    let is_inf = |k: Class| matches!(k, Class::Inf { .. });
    let is_nan = |k: Class| matches!(k, Class::Nan);
    if (is_inf(ca) && is_zero(cb)) || (is_zero(ca) && is_inf(cb)) {
        return CANONICAL_NAN;
    }
    if is_nan(ca) || is_nan(cb) || is_nan(cc) {
        return CANONICAL_NAN;
    }
    let product_neg = sign_bit(a) ^ sign_bit(b);
    if is_inf(ca) || is_inf(cb) {
        if is_inf(cc) && sign_bit(c) != product_neg {
            return CANONICAL_NAN;
        }
        return if product_neg { 0xFC00 } else { 0x7C00 };
    }
    if is_inf(cc) {
        return c;
    }
    // All finite: exact sum in units of 2^-48.
    let (Some(ua), Some(ub), Some(uc)) = (units24(a), units24(b), units24(c)) else {
        return CANONICAL_NAN; // unreachable: all operands are finite here
    };
    let sum = i128::from(ua) * i128::from(ub) + (i128::from(uc) << 24);
    if sum == 0 {
        // Exact zero: same-signed terms keep their sign, otherwise +0 in RNE
        // (fpnew_rounding.sv: effective subtraction and exact zero -> sign = (rnd == RDN)).
        let c_neg = sign_bit(c);
        return if product_neg == c_neg && c_neg {
            NEG_ZERO
        } else {
            0
        };
    }
    softfloat::round_rne(FP16, sum < 0, sum.unsigned_abs(), -48) as u16
}

/// Addition as fpnew's `ADD`: operand A is replaced by +1.0, so the result is `fma(1.0, a, b)`.
pub fn add(a: u16, b: u16) -> u16 {
    fma(ONE, a, b)
}

/// Multiplication as fpnew's `MUL`: the addend is replaced by -0.0, so `fma(a, b, -0.0)`.
pub fn mul(a: u16, b: u16) -> u16 {
    fma(a, b, NEG_ZERO)
}

/// Total-order key of a non-NaN FP16 value: compares by numeric value with `-0 < +0`.
fn order_key(h: u16) -> (i64, bool) {
    match units24(h) {
        Some(v) => (v, !sign_bit(h)),
        // Infinities (NaNs never reach here).
        None => (if sign_bit(h) { i64::MIN } else { i64::MAX }, !sign_bit(h)),
    }
}

fn is_nan(h: u16) -> bool {
    matches!(softfloat::decode(FP16, u32::from(h)), Class::Nan)
}

/// Minimum (IEEE 754-2019 minimumNumber with fpnew's NaN rules): a NaN and a number give the
/// number, two NaNs give the canonical NaN, `-0 < +0`.
pub fn min(a: u16, b: u16) -> u16 {
    match (is_nan(a), is_nan(b)) {
        (true, true) => CANONICAL_NAN,
        (true, false) => b,
        (false, true) => a,
        (false, false) => {
            if order_key(b) < order_key(a) {
                b
            } else {
                a
            }
        }
    }
}

/// Maximum (IEEE 754-2019 maximumNumber with fpnew's NaN rules): a NaN and a number give the
/// number, two NaNs give the canonical NaN, `-0 < +0`.
pub fn max(a: u16, b: u16) -> u16 {
    match (is_nan(a), is_nan(b)) {
        (true, true) => CANONICAL_NAN,
        (true, false) => b,
        (false, true) => a,
        (false, false) => {
            if order_key(b) > order_key(a) {
                b
            } else {
                a
            }
        }
    }
}

/// fpnew `MINMAX`: the rounding-mode field selects the operation (RNE = MIN, RTZ = MAX;
/// fpnew_noncomp.sv `min_max`).
pub fn minmax(rnd: RoundMode, a: u16, b: u16) -> u16 {
    match rnd {
        RoundMode::Rne => min(a, b),
        RoundMode::Rtz => max(a, b),
    }
}

/// One accumulation step of a computing element, interpreting [`Op::ce_config`] like
/// `redmule_ce.sv`:
///
/// * stage 1 gets `x`, `w` and the incoming partial result `acc`: `FMADD` computes
///   `x * w + acc` and is the CE's output (stage 2 is bypassed when `op1 == FMADD`);
///   `ADD` computes `x + w`, `MUL` `x * w`, `MINMAX` `min/max(x, w)`;
/// * otherwise stage 2 computes `MINMAX(stage1, acc)` with the stage-2 rounding mode.
pub fn step(op: Op, acc: u16, x: u16, w: u16) -> u16 {
    let cfg = op.ce_config();
    let stage1 = match cfg.op1 {
        FpnewOp::Fmadd => return fma(x, w, acc),
        FpnewOp::Add => add(x, w),
        FpnewOp::Mul => mul(x, w),
        FpnewOp::MinMax => minmax(cfg.rnd1, x, w),
    };
    minmax(cfg.rnd2, stage1, acc)
}

/// FP8/FP16 element -> FP16 (cast-in), via the generic converter.
pub fn cast_in(fmt: Format, raw: u16) -> u16 {
    match fmt {
        Format::Fp16 => raw,
        Format::Fp8E5M2 => softfloat::convert(softfloat::E5M2, FP16, u32::from(raw & 0xFF)) as u16,
        Format::Fp8E4M3 => softfloat::convert(softfloat::E4M3, FP16, u32::from(raw & 0xFF)) as u16,
    }
}

/// FP16 -> FP8/FP16 element (cast-out), via the generic converter.
pub fn cast_out(fmt: Format, h: u16) -> u16 {
    match fmt {
        Format::Fp16 => h,
        Format::Fp8E5M2 => softfloat::convert(FP16, softfloat::E5M2, u32::from(h)) as u16,
        Format::Fp8E4M3 => softfloat::convert(FP16, softfloat::E4M3, u32::from(h)) as u16,
    }
}

fn load(fmt: Format, bytes: &[u8], idx: usize) -> u16 {
    let raw = match fmt {
        Format::Fp16 => u16::from_le_bytes([bytes[2 * idx], bytes[2 * idx + 1]]),
        Format::Fp8E5M2 | Format::Fp8E4M3 => u16::from(bytes[idx]),
    };
    cast_in(fmt, raw)
}

/// Reference GEMM-Op: the same contract as [`crate::gemm()`], computed element by element with
/// the reference operations (`Z[m][k] = fold over n ascending of step(acc, X[m][n], W[n][k])`,
/// starting from [`Op::initial_acc`]).
pub fn gemm(
    op: Op,
    fmt: Format,
    dims: Dims,
    x: &[u8],
    w: &[u8],
    y: &[u8],
) -> Result<Vec<u8>, ShapeError> {
    crate::gemm::check_shapes(op, fmt, dims, x, w, y)?;
    let Dims { m, n, k } = dims;
    let bpe = fmt.bytes_per_elem();
    let mut z = vec![0u8; m * k * bpe];
    for r in 0..m {
        for c in 0..k {
            let y_val = if op.uses_y() {
                load(fmt, y, r * k + c)
            } else {
                0
            };
            let mut acc = op.initial_acc(y_val);
            for i in 0..n {
                acc = step(op, acc, load(fmt, x, r * n + i), load(fmt, w, i * k + c));
            }
            let out = cast_out(fmt, acc);
            let idx = r * k + c;
            match fmt {
                Format::Fp16 => z[2 * idx..2 * idx + 2].copy_from_slice(&out.to_le_bytes()),
                Format::Fp8E5M2 | Format::Fp8E4M3 => z[idx] = out as u8,
            }
        }
    }
    Ok(z)
}
