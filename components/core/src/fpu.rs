//! Single-precision floating point (RV32F) numerics: results and exception flags.
//!
//! Arithmetic is computed with the host's IEEE-754 binary32 operations, which round
//! to nearest-even (RNE) correctly; `f32::mul_add` is a correctly rounded fused
//! multiply-add. The other rounding modes (RTZ, RDN, RUP, RMM) are obtained from the
//! RNE result by computing the sign of the rounding error exactly in binary64
//! (products of two binary32 values are exact in binary64, and a TwoSum gives the
//! exact error of an addition), then stepping one ulp where the mode requires it.
//! Flags: NV, DZ, OF, UF (tininess after rounding, as RISC-V requires), NX.
//!
//! NaN results are the canonical NaN `0x7fc00000` (RISC-V unprivileged spec,
//! section "NaN Generation and Propagation"); RV32F has no NaN-boxing.

/// Canonical quiet NaN of RISC-V.
pub const CANONICAL_NAN: u32 = 0x7fc0_0000;

/// fflags bits.
pub mod fflags {
    /// Inexact.
    pub const NX: u8 = 1;
    /// Underflow.
    pub const UF: u8 = 2;
    /// Overflow.
    pub const OF: u8 = 4;
    /// Divide by zero.
    pub const DZ: u8 = 8;
    /// Invalid operation.
    pub const NV: u8 = 16;
}
use fflags::*;
use std::cmp::Ordering;

/// Rounding modes (`frm` / instruction `rm` encodings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Round to nearest, ties to even (0).
    Rne,
    /// Round towards zero (1).
    Rtz,
    /// Round down, towards -inf (2).
    Rdn,
    /// Round up, towards +inf (3).
    Rup,
    /// Round to nearest, ties to max magnitude (4).
    Rmm,
}

impl Rounding {
    /// Decode a 3-bit rounding mode; `None` for the reserved values 5, 6 (and 7,
    /// which must be resolved against `frm` first).
    pub fn from_bits(rm: u8) -> Option<Self> {
        Some(match rm {
            0 => Rounding::Rne,
            1 => Rounding::Rtz,
            2 => Rounding::Rdn,
            3 => Rounding::Rup,
            4 => Rounding::Rmm,
            _ => return None,
        })
    }
}

/// Whether `x` is a signaling NaN.
#[inline]
pub fn is_snan(x: f32) -> bool {
    x.is_nan() && (x.to_bits() & 0x0040_0000) == 0
}

#[inline]
fn nan() -> f32 {
    f32::from_bits(CANONICAL_NAN)
}

/// Exact sum `s + e = a + b` in binary64 (Knuth's TwoSum).
#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    (s, e)
}

/// Step `r` one ulp towards +inf (`up`) or -inf.
#[inline]
fn step(r: f32, up: bool) -> f32 {
    if r == 0.0 {
        let tiny = f32::from_bits(1);
        return if up { tiny } else { -tiny };
    }
    let b = r.to_bits();
    let away = (r > 0.0) == up;
    f32::from_bits(if away { b + 1 } else { b - 1 })
}

/// The sign of `a + hi + lo`, exactly, for `a` a multiple of 2^-151 with |a| <= 2^-148
/// and `hi + lo` a TwoSum pair with |hi| <= 2^-150: if the rounded `a + hi` is not zero,
/// its sign is the sum's (a large cancellation is exact and then exceeds `lo`).
fn sign_sum3(a: f64, hi: f64, lo: f64) -> Ordering {
    let (s, e) = two_sum(a, hi);
    if s != 0.0 {
        return s.partial_cmp(&0.0).unwrap_or(Ordering::Equal);
    }
    (e + lo).partial_cmp(&0.0).unwrap_or(Ordering::Equal)
}

/// Was a result rounded to `res` = +-2^-126 (the smallest normal) tiny? RISC-V detects
/// tininess after rounding: the exact value rounded to 24 bits with an unbounded
/// exponent lies below 2^-126 (IEEE 754-2019, 7.5). Near 2^-126 that grid's neighbours
/// are 2^-126 and `q` = 2^-126 - 2^-150. `vs(t)` is the sign of exact - t.
fn tiny_at_min(res: f32, mode: Rounding, vs: &impl Fn(f64) -> Ordering) -> bool {
    let m = f32::MIN_POSITIVE as f64;
    let q = m - f64::powi(2.0, -150);
    let mid = m - f64::powi(2.0, -151);
    // (the checks on the magnitude, mirrored for a negative result)
    let sg = if res > 0.0 { 1.0 } else { -1.0 };
    let mag = |t: f64| {
        let o = vs(sg * t);
        if sg > 0.0 {
            o
        } else {
            o.reverse()
        }
    };
    if mag(m) != Ordering::Less {
        return false; // |exact| >= 2^-126
    }
    let up = match mode {
        Rounding::Rup => res > 0.0,
        Rounding::Rdn => res < 0.0,
        Rounding::Rtz => false,
        // to nearest: below the midpoint of q and 2^-126 (the tie goes to 2^-126, even
        // for RNE, away for RMM)
        Rounding::Rne | Rounding::Rmm => return mag(mid) == Ordering::Less,
    };
    // rounding away from zero reaches 2^-126 from above q only; towards zero stays below
    !up || mag(q) != Ordering::Greater
}

/// Apply the rounding mode to `r`, the RNE rounding of an exact value whose error
/// relative to `r` is `hi + lo` (exact - r), computed exactly in sign; `vs(t)` is the sign
/// of exact - t for a `t` near 2^-126 (the underflow decision there).
/// Returns the final result and its flags (NX, UF, OF).
fn finish(r: f32, hi: f64, lo: f64, mode: Rounding, vs: impl Fn(f64) -> Ordering) -> (f32, u8) {
    if r.is_infinite() {
        // Overflow from finite operands (callers only get here in that case).
        let pos = r > 0.0;
        let keep_inf = match mode {
            Rounding::Rne | Rounding::Rmm => true,
            Rounding::Rtz => false,
            Rounding::Rdn => !pos,
            Rounding::Rup => pos,
        };
        let v = if keep_inf { r } else { f32::MAX.copysign(r) };
        return (v, OF | NX);
    }
    // d = exact - r; sign computed exactly (hi + lo rounds to a value of the same sign).
    let d = hi + lo;
    if d == 0.0 && hi == 0.0 && lo == 0.0 {
        return (r, 0);
    }
    let above = d > 0.0 || (d == 0.0 && (hi > 0.0 || (hi == 0.0 && lo > 0.0)));
    let res = match mode {
        Rounding::Rne => r,
        Rounding::Rtz => {
            // keep r when it already lies between zero and the exact value
            if r == 0.0 || above == (r > 0.0) {
                r
            } else {
                step(r, above)
            }
        }
        Rounding::Rdn => {
            if above {
                r
            } else {
                step(r, false)
            }
        }
        Rounding::Rup => {
            if above {
                step(r, true)
            } else {
                r
            }
        }
        Rounding::Rmm => {
            // Differs from RNE only on exact ties, where RNE chose the even
            // neighbour that may be the smaller magnitude.
            let other = step(r, above);
            let half = (other as f64 - r as f64) / 2.0;
            let is_tie = (hi - half) + lo == 0.0;
            if is_tie && other.abs() > r.abs() {
                other
            } else {
                r
            }
        }
    };
    // RTZ/RDN/RUP may step back from a finite value to +-MAX or up to inf.
    let mut fl = NX;
    if res.is_infinite() {
        fl |= OF;
    }
    // Tininess after rounding: a result below 2^-126 was tiny; one rounded to 2^-126
    // may have been too (found by the RTL comparison: fmadd in RUP reaching 2^-126 from
    // just above the largest subnormal sets UF on the RTL).
    if res.abs() < f32::MIN_POSITIVE
        || (res.abs() == f32::MIN_POSITIVE && tiny_at_min(res, mode, &vs))
    {
        fl |= UF;
    }
    (res, fl)
}

/// Result of an FP operation: value bits and exception flags.
pub type FpResult = (f32, u8);

fn nan_check2(a: f32, b: f32) -> Option<FpResult> {
    if a.is_nan() || b.is_nan() {
        let nv = if is_snan(a) || is_snan(b) { NV } else { 0 };
        Some((nan(), nv))
    } else {
        None
    }
}

/// `a + b` rounded with `mode`.
pub fn add(a: f32, b: f32, mode: Rounding) -> FpResult {
    if let Some(r) = nan_check2(a, b) {
        return r;
    }
    let r = a + b;
    if r.is_nan() {
        return (nan(), NV); // inf - inf
    }
    if a.is_infinite() || b.is_infinite() {
        return (r, 0);
    }
    let (s, e) = two_sum(a as f64, b as f64); // a + b == s + e exactly
    if s == 0.0 && e == 0.0 {
        // An exact zero sum is +0, except -0 + -0, and any zero sum in RDN whose
        // operands are not both +0 (IEEE 754-2019, 6.3).
        let neg = (a.is_sign_negative() && b.is_sign_negative())
            || (mode == Rounding::Rdn && (a.is_sign_negative() || b.is_sign_negative()));
        return (if neg { -0.0 } else { 0.0 }, 0);
    }
    if r.is_infinite() {
        return finish(r, 0.0, 0.0, mode, |_| Ordering::Greater);
    }
    let (hi, lo) = two_sum(s - r as f64, e);
    finish(r, hi, lo, mode, |t| sign_sum3(r as f64 - t, hi, lo))
}

/// `a - b` rounded with `mode`.
pub fn sub(a: f32, b: f32, mode: Rounding) -> FpResult {
    if let Some(r) = nan_check2(a, b) {
        return r;
    }
    add(a, -b, mode)
}

/// `a * b` rounded with `mode`.
pub fn mul(a: f32, b: f32, mode: Rounding) -> FpResult {
    if let Some(r) = nan_check2(a, b) {
        return r;
    }
    let r = a * b;
    if r.is_nan() {
        return (nan(), NV); // 0 * inf
    }
    if a.is_infinite() || b.is_infinite() {
        return (r, 0);
    }
    let exact = a as f64 * b as f64; // exact: 24 x 24 bit significands
    if r.is_infinite() {
        return finish(r, 0.0, 0.0, mode, |_| Ordering::Greater);
    }
    finish(r, exact - r as f64, 0.0, mode, |t| {
        exact.partial_cmp(&t).unwrap_or(Ordering::Equal)
    })
}

/// `a / b` rounded with `mode`.
pub fn div(a: f32, b: f32, mode: Rounding) -> FpResult {
    if let Some(r) = nan_check2(a, b) {
        return r;
    }
    let r = a / b;
    if r.is_nan() {
        return (nan(), NV); // 0/0, inf/inf
    }
    if b == 0.0 {
        return (r, if a.is_infinite() { 0 } else { DZ });
    }
    if a.is_infinite() || b.is_infinite() {
        return (r, 0);
    }
    if r.is_infinite() {
        return finish(r, 0.0, 0.0, mode, |_| Ordering::Greater);
    }
    // sign(a/b - r) = sign((a - r*b) / b); r*b is exact in binary64 and the
    // binary64 subtraction keeps the sign (so for t*b, t of up to 25 bits).
    let resid = (a as f64 - r as f64 * b as f64) / b as f64;
    finish(r, resid, 0.0, mode, |t| {
        let d = (a as f64 - t * b as f64) / b as f64;
        d.partial_cmp(&0.0).unwrap_or(Ordering::Equal)
    })
}

/// `sqrt(a)` rounded with `mode`.
pub fn sqrt(a: f32, mode: Rounding) -> FpResult {
    if a.is_nan() {
        return (nan(), if is_snan(a) { NV } else { 0 });
    }
    if a < 0.0 {
        return (nan(), NV);
    }
    let r = a.sqrt();
    if a.is_infinite() || a == 0.0 {
        return (r, 0);
    }
    // sign(sqrt(a) - r) = sign(a - r*r); r*r exact in binary64 (t*t too).
    let resid = a as f64 - r as f64 * r as f64;
    finish(r, resid, 0.0, mode, |t| {
        (a as f64 - t * t)
            .partial_cmp(&0.0)
            .unwrap_or(Ordering::Equal)
    })
}

/// Cycles from issue until the result of an fdiv.s (`sqrt` false: `a / b`) or fsqrt.s
/// (`sqrt(a)`) is usable, on the CV32E40P's divide/square-root unit
/// (fpnew_divsqrt_th_32.sv around T-Head's pa_fdsu_*; `PulpDivsqrt = 0` in
/// cv32e40p_fp_wrapper.sv). The unit's latency depends on the operands; the cycles here
/// are the unit's plus one, as for the other FPU lanes (an add through FPU_ADDMUL_LAT = 2
/// registers: 2 + 1):
/// * a result the operands decide (a NaN, infinite or zero operand, the root of a
///   negative number: pa_fdsu_special.v `ex1_srt_skip`) comes in 3, like an add;
/// * a division whose exponents differ by 129 or more, or by less than -150 (subnormals
///   normalized first), overflows or underflows without iterating
///   (pa_fdsu_srt_single.v `ex2_expnt_of`, `ex2_id_nor_srt_skip`): 5;
/// * otherwise the radix-4 SRT runs at most 15 rounds (pa_fdsu_ctrl.v `srt_cnt_ini`) and
///   stops after the round that leaves a zero partial remainder (`srt_remainder_zero`):
///   an exact quotient or root whose significand has `d` bits after the binary point
///   (the quotient of the significands lies in (0.5, 2), the root in [1, 2)) takes
///   6 + min((d + 1) / 2, 13); an inexact one takes the full 19 (pipeline.rst: "19").
///
/// A subnormal divisor also delays the unit's grant ([`divsqrt_grant_wait`]). Measured
/// on the RTL under Verilator (rtl_compare.rs `divsqrt_against_the_rtl`: 40,000
/// operations of every kind above agreed).
pub fn divsqrt_cycles(sqrt: bool, a: u32, b: u32) -> u32 {
    const FULL: u32 = 19;
    /// 6 + one cycle per two fraction bits of an exact result's significand.
    fn rounds(d: u32) -> u32 {
        6 + d.div_ceil(2).min(13)
    }
    if decided_by_operands(sqrt, a, b) {
        return 3;
    }
    if sqrt {
        let (m, x) = significand(a);
        // the root of m * 2^(x - 23): its significand is the root of n / 2^23, with the
        // exponent made even
        let n = if x & 1 != 0 { 2 * m as u64 } else { m as u64 };
        let t = n.trailing_zeros().min(23);
        let (n, d) = (n >> t, 23 - t);
        let r = n.isqrt();
        if d % 2 != 0 || r * r != n {
            return FULL;
        }
        return rounds(d / 2);
    }
    let ((ma, xa), (mb, xb)) = (significand(a), significand(b));
    let e = xa - xb;
    if !(-150..129).contains(&e) {
        return 5;
    }
    // ma / mb as n / 2^d in lowest terms, when the odd part of mb divides ma
    let tb = mb.trailing_zeros();
    let odd = mb >> tb;
    if ma % odd != 0 {
        return FULL;
    }
    let n = ma / odd;
    rounds(tb - n.trailing_zeros().min(tb))
}

/// Cycles an fdiv.s (`sqrt` false) waits for the divide/square-root unit to take it:
/// 1 for a subnormal divisor of a division the operands do not decide (the unit
/// normalizes it first: pa_fdsu_ctrl.v `fdsu_dn_stall` holds its input stage, and the
/// grant, a cycle), else 0. Measured with [`divsqrt_cycles`].
pub fn divsqrt_grant_wait(sqrt: bool, a: u32, b: u32) -> u32 {
    let subnormal_b = f32::from_bits(b).is_subnormal();
    (!sqrt && subnormal_b && !decided_by_operands(sqrt, a, b)) as u32
}

/// Whether the operands decide an fdiv.s/fsqrt.s result without iterating: a NaN,
/// infinite or zero operand, or the root of a negative number (pa_fdsu_special.v
/// `ex1_srt_skip`).
fn decided_by_operands(sqrt: bool, a: u32, b: u32) -> bool {
    let special = |u: u32| {
        let x = f32::from_bits(u);
        !x.is_finite() || x == 0.0
    };
    if sqrt {
        special(a) || a >> 31 != 0
    } else {
        special(a) || special(b)
    }
}

/// The significand of a finite non-zero `u` as an integer in [2^23, 2^24) and its
/// exponent (subnormals normalized).
fn significand(u: u32) -> (u32, i32) {
    let (e, m) = ((u >> 23) & 0xFF, u & 0x7F_FFFF);
    if e == 0 {
        let shift = m.leading_zeros() - 8;
        (m << shift, -126 - shift as i32)
    } else {
        (m | 1 << 23, e as i32 - 127)
    }
}

/// Fused `a * b + c` rounded once with `mode`.
pub fn fma(a: f32, b: f32, c: f32, mode: Rounding) -> FpResult {
    let prod_invalid = (a.is_infinite() && b == 0.0) || (a == 0.0 && b.is_infinite());
    if a.is_nan() || b.is_nan() || c.is_nan() {
        let nv = if is_snan(a) || is_snan(b) || is_snan(c) || prod_invalid {
            NV
        } else {
            0
        };
        return (nan(), nv);
    }
    if prod_invalid {
        return (nan(), NV);
    }
    let r = a.mul_add(b, c);
    if r.is_nan() {
        return (nan(), NV); // inf - inf
    }
    if a.is_infinite() || b.is_infinite() || c.is_infinite() {
        return (r, 0);
    }
    let p = a as f64 * b as f64; // exact
    let (s, e) = two_sum(p, c as f64);
    if r == 0.0 && s == 0.0 && e == 0.0 {
        // exact zero: sign per IEEE 754 (x + -x is +0 except in RDN)
        let prod_neg = p.is_sign_negative();
        if prod_neg != c.is_sign_negative() {
            return (if mode == Rounding::Rdn { -0.0 } else { 0.0 }, 0);
        }
        return (r, 0);
    }
    if r.is_infinite() {
        return finish(r, 0.0, 0.0, mode, |_| Ordering::Greater);
    }
    let (hi, lo) = two_sum(s - r as f64, e);
    finish(r, hi, lo, mode, |t| sign_sum3(r as f64 - t, hi, lo))
}

/// RISC-V fmin/fmax (2.2 semantics: a NaN operand yields the other operand,
/// both NaN gives the canonical NaN; -0 < +0; sNaN raises NV).
pub fn min_max(a: f32, b: f32, max: bool) -> FpResult {
    let nv = if is_snan(a) || is_snan(b) { NV } else { 0 };
    let r = match (a.is_nan(), b.is_nan()) {
        (true, true) => nan(),
        (true, false) => b,
        (false, true) => a,
        _ => {
            if a == b {
                // +0 / -0: min picks the negative one
                if (a.is_sign_negative() && !max) || (!a.is_sign_negative() && max) {
                    a
                } else {
                    b
                }
            } else if (a < b) != max {
                a
            } else {
                b
            }
        }
    };
    (r, nv)
}

/// feq/flt/fle. `feq` raises NV only for sNaN; `flt`/`fle` for any NaN.
pub fn compare(a: f32, b: f32, kind: Cmp) -> (u32, u8) {
    if a.is_nan() || b.is_nan() {
        let nv = match kind {
            Cmp::Eq => is_snan(a) || is_snan(b),
            _ => true,
        };
        return (0, if nv { NV } else { 0 });
    }
    let r = match kind {
        Cmp::Eq => a == b,
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
    };
    (r as u32, 0)
}

/// Comparison kind of [`compare`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// feq.s
    Eq,
    /// flt.s
    Lt,
    /// fle.s
    Le,
}

/// fclass.s: one-hot class mask.
pub fn classify(a: f32) -> u32 {
    let neg = a.is_sign_negative();
    let bit = if a.is_nan() {
        if is_snan(a) {
            8
        } else {
            9
        }
    } else if a.is_infinite() {
        if neg {
            0
        } else {
            7
        }
    } else if a == 0.0 {
        if neg {
            3
        } else {
            4
        }
    } else if a.is_subnormal() {
        if neg {
            2
        } else {
            5
        }
    } else if neg {
        1
    } else {
        6
    };
    1 << bit
}

/// Round `x` to an integral value with `mode` (x finite).
fn round_integral(x: f64, mode: Rounding) -> f64 {
    match mode {
        Rounding::Rne => x.round_ties_even(),
        Rounding::Rtz => x.trunc(),
        Rounding::Rdn => x.floor(),
        Rounding::Rup => x.ceil(),
        Rounding::Rmm => x.round(),
    }
}

/// fcvt.w.s / fcvt.wu.s: saturating conversion (RISC-V: NaN gives the maximum).
pub fn to_int(a: f32, signed: bool, mode: Rounding) -> (u32, u8) {
    let (lo, hi) = if signed {
        (i32::MIN as f64, i32::MAX as f64)
    } else {
        (0.0, u32::MAX as f64)
    };
    if a.is_nan() {
        return (if signed { i32::MAX as u32 } else { u32::MAX }, NV);
    }
    let x = a as f64;
    let r = if a.is_infinite() {
        x
    } else {
        round_integral(x, mode)
    };
    if r < lo {
        return (if signed { i32::MIN as u32 } else { 0 }, NV);
    }
    if r > hi {
        return (if signed { i32::MAX as u32 } else { u32::MAX }, NV);
    }
    let fl = if r != x { NX } else { 0 };
    let v = if signed { r as i32 as u32 } else { r as u32 };
    (v, fl)
}

/// fcvt.s.w / fcvt.s.wu with rounding `mode`.
pub fn from_int(v: u32, signed: bool, mode: Rounding) -> FpResult {
    let x = if signed { v as i32 as f64 } else { v as f64 }; // exact
    let r = x as f32; // RNE
    finish(r, x - r as f64, 0.0, mode, |t| {
        x.partial_cmp(&t).unwrap_or(Ordering::Equal)
    })
}

/// Raw ops on bits: fsgnj / fsgnjn / fsgnjx.
pub fn sign_inject(a: u32, b: u32, kind: u8) -> u32 {
    let s = match kind {
        0 => b & 0x8000_0000,
        1 => !b & 0x8000_0000,
        _ => (a ^ b) & 0x8000_0000,
    };
    (a & 0x7fff_ffff) | s
}

#[cfg(test)]
mod tests {
    use super::divsqrt_cycles;

    #[test]
    fn divsqrt_cycles_are_the_units_measured_on_the_rtl() {
        // (sqrt, a, b, the unit's cycles on the RTL: rtl/divsqrt_tb.cpp); usable one later
        let measured: [(bool, u32, u32, u32); 16] = [
            (false, 0x40c0_0000, 0x4000_0000, 6), // 6 / 2 = 1.1b x 2: one fraction bit
            (false, 0x3f80_0000, 0x4040_0000, 18), // 1 / 3, inexact: 15 rounds
            (false, 0x3ff5_4c87, 0x3e80_0000, 17), // 24-bit quotient of a quarter: 23 bits
            (false, 0x3edb_0591, 0x3f00_0000, 17),
            (false, 0x0a1a_4f80, 0x4e52_2000, 8), // exact, subnormal quotient
            (false, 0x3f80_0000, 0x0000_0000, 2), // 1 / 0
            (false, 0x7fc0_0000, 0x3f80_0000, 2), // NaN
            (false, 0xc9ff_b190, 0x0033_5db5, 4), // overflow by the exponents, subnormal b
            (false, 0x647c_0000, 0x9e5f_550a, 4), // overflow
            (false, 0x2360_0000, 0x71ce_5396, 4), // underflow by the exponents (to 0)
            (false, 0x0110_0000, 0x5e40_0000, 4), // (to the smallest subnormal, RUP)
            (true, 0x4080_0000, 0, 5),            // sqrt(4) = 2
            (true, 0x4000_0000, 0, 18),           // sqrt(2)
            (true, 0x0080_0000, 0, 5),            // sqrt(2^-126) = 2^-63
            (true, 0xbf80_0000, 0, 2),            // sqrt(-1)
            (true, 0x8000_0000, 0, 2),            // sqrt(-0)
        ];
        for (sqrt, a, b, unit) in measured {
            assert_eq!(
                divsqrt_cycles(sqrt, a, b),
                unit + 1,
                "{} {a:08x} {b:08x}",
                if sqrt { "sqrt" } else { "div" }
            );
        }
    }
}
