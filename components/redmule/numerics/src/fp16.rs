//! Fast, bit-exact FP16 (IEEE binary16) operations as RedMulE's fpnew units compute them.
//!
//! Values are raw `u16` bit patterns (the same bits as [`half::f16::to_bits`]). Every function is
//! total: any input bit pattern gives a defined result, never a panic.
//!
//! # Semantics (from the RTL)
//!
//! * [`fma`], [`add`], [`mul`]: correctly rounded IEEE-754 results with round-to-nearest-even
//!   (RedMulE's tiler, `redmule_tiler.sv`, programs RNE for every arithmetic stage), gradual
//!   underflow, overflow to infinity. Exact zero results follow IEEE: the sign of an exact
//!   cancellation is `+` (`fpnew_rounding.sv`: `sign_o = (exact_zero && effective_subtraction) ?
//!   (rnd_mode == RDN) : sign_i`). Any NaN result is the canonical quiet NaN
//!   [`CANONICAL_NAN`] = `0x7E00` (`fpnew_fma.sv`/`redmule_fma.sv` special-case path: NaN inputs,
//!   `inf * 0`, `inf - inf` all return `'{sign: 0, exponent: '1, mantissa: 2**(MAN_BITS-1)}`);
//!   NaN payloads and signs are never propagated.
//! * [`add`] is fpnew's `ADD` (operand A forced to +1.0, so `1.0 * x + w`) and [`mul`] is
//!   fpnew's `MUL` (addend forced to -0.0, so `x * w + (-0)`); both equal the IEEE add / mul.
//! * [`min`] / [`max`] are fpnew_noncomp.sv's `MINMAX` (RNE selects MIN, RTZ selects MAX):
//!   a NaN and a number give the number (bits unchanged, also for signalling NaNs), two NaNs give
//!   [`CANONICAL_NAN`], and `-0 < +0`.
//!
//! # Fast path
//!
//! An FP16 value converts exactly to `f64`. A product of two FP16 values has at most 22
//! significant bits and is therefore exact in `f64`, as is the sum of two FP16 values (at most
//! 41 bits), so [`mul`] and [`add`] round only once. For [`fma`] the `f64` sum `p + c` may be
//! inexact; its exact rounding error is recovered with Knuth's TwoSum and folded in as
//! *round-to-odd* (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved
//! algorithms using rounding to odd", 2008): a 53-bit round-to-odd result rounded again to
//! 11 bits (or fewer, for subnormals) with RNE is the correctly rounded result. (For FP16
//! operands the `f64` sum is inexact only when one term is below 2^-30 of the other, and then the
//! rounded sum cannot land on an FP16 rounding midpoint, so plain double rounding would already
//! be correct; the round-to-odd step costs a few instructions and makes the argument
//! unnecessary.) The tests check all of this against `rustc_apfloat` and the exact integer path
//! in [`crate::reference`].

/// The canonical quiet NaN fpnew produces for FP16: sign 0, exponent all ones, mantissa MSB.
pub const CANONICAL_NAN: u16 = 0x7E00;
/// +0.0.
pub const POS_ZERO: u16 = 0x0000;
/// -0.0.
pub const NEG_ZERO: u16 = 0x8000;
/// +1.0.
pub const ONE: u16 = 0x3C00;
/// +infinity.
pub const POS_INF: u16 = 0x7C00;
/// -infinity.
pub const NEG_INF: u16 = 0xFC00;
/// Largest finite value, 65504.
pub const MAX: u16 = 0x7BFF;
/// Smallest positive normal value, 2^-14.
pub const MIN_POSITIVE: u16 = 0x0400;
/// Smallest positive subnormal value, 2^-24.
pub const MIN_SUBNORMAL: u16 = 0x0001;

const TWO_POW_M24: f64 = 1.0 / 16_777_216.0;

/// True for any NaN pattern (exponent all ones, non-zero mantissa).
#[inline]
pub const fn is_nan(h: u16) -> bool {
    h & 0x7FFF > 0x7C00
}

/// Exact widening of an FP16 bit pattern to `f64` (NaNs become some `f64` NaN).
#[inline]
pub fn to_f64(h: u16) -> f64 {
    let sign = u64::from(h & 0x8000) << 48;
    let exp = u64::from((h >> 10) & 0x1F);
    let man = u64::from(h & 0x3FF);
    match exp {
        0 => f64::from_bits((man as f64 * TWO_POW_M24).to_bits() | sign),
        0x1F if man == 0 => f64::from_bits(sign | 0x7FF0_0000_0000_0000),
        0x1F => f64::NAN,
        _ => f64::from_bits(sign | ((exp + (1023 - 15)) << 52) | (man << 42)),
    }
}

/// Rounds an `f64` to FP16 with round-to-nearest-even, gradual underflow and overflow to
/// infinity; NaN gives [`CANONICAL_NAN`]. Correct for every `f64` (single rounding).
#[inline]
pub fn from_f64(v: f64) -> u16 {
    let bits = v.to_bits();
    let sign = ((bits >> 48) & 0x8000) as u16;
    let exp = ((bits >> 52) & 0x7FF) as i32;
    let man = bits & ((1u64 << 52) - 1);
    if exp == 0x7FF {
        return if man != 0 {
            CANONICAL_NAN
        } else {
            sign | POS_INF
        };
    }
    if exp == 0 {
        // Zero or an f64 subnormal (< 2^-1022): far below half the smallest FP16 subnormal.
        return sign;
    }
    let e = exp - 1023; // unbiased exponent of the leading one
    if e > 15 {
        return sign | POS_INF;
    }
    if e >= -14 {
        // Normal range: keep 10 of the 52 fraction bits.
        let kept = man >> 42;
        let rem = man & ((1u64 << 42) - 1);
        let half = 1u64 << 41;
        let up = rem > half || (rem == half && kept & 1 == 1);
        // A rounding carry propagates into the exponent (up to infinity, 0x7C00).
        return sign | ((((e + 15) as u64) << 10) + kept + up as u64) as u16;
    }
    // Subnormal range: value = sig * 2^(e-52), unit 2^-24, so shift right by 28 - e (>= 43).
    let sig = man | (1u64 << 52);
    let shift = (28 - e) as u32;
    if shift > 54 {
        return sign; // below half of 2^-24
    }
    let kept = sig >> shift;
    let rem = sig & ((1u64 << shift) - 1);
    let half = 1u64 << (shift - 1);
    let up = rem > half || (rem == half && kept & 1 == 1);
    sign | (kept + up as u64) as u16
}

/// Forces the last bit of `s` to one when `err` (the exact remainder of the sum `s`) is non-zero,
/// moving `s` one ulp towards the exact value if needed: rounding to odd.
#[inline]
fn round_to_odd(s: f64, err: f64) -> f64 {
    if err == 0.0 {
        return s;
    }
    let bits = s.to_bits();
    if bits & 1 == 1 {
        return s;
    }
    let towards_larger_magnitude = (err > 0.0) == (s > 0.0);
    f64::from_bits(if towards_larger_magnitude {
        bits + 1
    } else {
        bits - 1
    })
}

/// Fused multiply-add `a * b + c`, one RNE rounding (fpnew `FMADD`).
#[inline]
pub fn fma(a: u16, b: u16, c: u16) -> u16 {
    fma_wide_a(to_f64(a), b, c)
}

/// [`fma`] with the first factor already widened by [`to_f64`] (lets a row loop widen a
/// shared X value once).
#[inline]
pub(crate) fn fma_wide_a(a: f64, b: u16, c: u16) -> u16 {
    let p = a * to_f64(b); // exact whenever finite
    let z = to_f64(c);
    let s = p + z;
    if !s.is_finite() {
        // inf*0, NaN operands, inf-inf (all NaN) or an infinite operand.
        return from_f64(s);
    }
    // Knuth TwoSum: err is the exact rounding error of p + z.
    let bp = s - z;
    let bz = s - bp;
    let err = (p - bp) + (z - bz);
    from_f64(round_to_odd(s, err))
}

/// Addition `a + b`, one RNE rounding (fpnew `ADD`: `1.0 * a + b`).
#[inline]
pub fn add(a: u16, b: u16) -> u16 {
    from_f64(to_f64(a) + to_f64(b)) // the f64 sum is exact
}

/// Multiplication `a * b`, one RNE rounding (fpnew `MUL`: `a * b + (-0)`).
#[inline]
pub fn mul(a: u16, b: u16) -> u16 {
    from_f64(to_f64(a) * to_f64(b)) // the f64 product is exact
}

/// fpnew_noncomp.sv's ordering: `operand_a_smaller = (a < b) ^ (a.sign || b.sign)` on the raw
/// bit patterns, a total order on non-NaN values with `-0 < +0`.
#[inline]
const fn a_smaller(a: u16, b: u16) -> bool {
    (a < b) ^ ((a | b) & 0x8000 != 0)
}

/// Minimum as fpnew's `MINMAX` with RNE: NaN and number give the number, two NaNs give
/// [`CANONICAL_NAN`], `-0 < +0`.
#[inline]
pub const fn min(a: u16, b: u16) -> u16 {
    match (is_nan(a), is_nan(b)) {
        (true, true) => CANONICAL_NAN,
        (true, false) => b,
        (false, true) => a,
        (false, false) => {
            if a_smaller(a, b) {
                a
            } else {
                b
            }
        }
    }
}

/// Maximum as fpnew's `MINMAX` with RTZ: NaN and number give the number, two NaNs give
/// [`CANONICAL_NAN`], `-0 < +0`.
#[inline]
pub const fn max(a: u16, b: u16) -> u16 {
    match (is_nan(a), is_nan(b)) {
        (true, true) => CANONICAL_NAN,
        (true, false) => b,
        (false, true) => a,
        (false, false) => {
            if a_smaller(a, b) {
                b
            } else {
                a
            }
        }
    }
}
