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
