//! The two FP8 formats of RedMulE and their casts to and from FP16.
//!
//! Both formats follow IEEE-754 conventions (fpnew_pkg.sv `FP_ENCODINGS`): exponent all ones is
//! infinity (mantissa zero) or NaN, exponent zero is zero or subnormal.
//!
//! | format | fpnew | layout | bias | max finite | +inf | canonical NaN |
//! | --- | --- | --- | --- | --- | --- | --- |
//! | E5M2 | `FP8` (3) | {1,5,2} | 15 | 57344 (`0x7B`) | `0x7C` | `0x7E` |
//! | E4M3 | `FP8ALT` (5) | {1,4,3} | 7 | 240 (`0x77`) | `0x78` | `0x7C` |
//!
//! E4M3 here is *not* the OCP "E4M3FN" format (max 448, no infinities) that ML libraries use.
//! E5M2 is the upper byte of FP16.
//!
//! RedMulE casts every input element to FP16 (`redmule_castin.sv`) and every result back
//! (`redmule_castout.sv`) with `fpnew_cast_multi` in RNE mode:
//!
//! * FP8 -> FP16 is exact for every number; any NaN becomes the canonical FP16 NaN `0x7E00`
//!   (fpnew_cast_multi.sv's special-result path emits `{1'b0, QNAN_EXPONENT, QNAN_MANTISSA}`;
//!   sign and payload are lost).
//! * FP16 -> FP8 rounds to nearest even, with gradual underflow (subnormal results), overflow to
//!   infinity, infinities kept, zeros keep their sign and NaN becomes the canonical FP8 NaN.

use crate::fp16;
use crate::softfloat::{self, Spec};

/// Canonical E5M2 NaN (sign 0, exponent all ones, mantissa MSB).
pub const E5M2_CANONICAL_NAN: u8 = 0x7E;
/// Canonical E4M3 NaN (sign 0, exponent all ones, mantissa MSB).
pub const E4M3_CANONICAL_NAN: u8 = 0x7C;

/// Cast-in table: every FP8 number is exactly representable in FP16 (E5M2 subnormals are FP16
/// subnormals, E4M3 subnormals are FP16 normals), so the RNE conversion is exact; NaNs map to
/// FP16's canonical NaN.
const fn build_table(spec: Spec) -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut b = 0usize;
    while b < 256 {
        table[b] = softfloat::convert(spec, softfloat::FP16, b as u32) as u16;
        b += 1;
    }
    table
}

/// FP16 bit pattern of each E5M2 byte (cast-in result).
static E5M2_TO_FP16: [u16; 256] = build_table(softfloat::E5M2);
/// FP16 bit pattern of each E4M3 byte (cast-in result).
static E4M3_TO_FP16: [u16; 256] = build_table(softfloat::E4M3);

/// E5M2 -> FP16 (exact; NaN -> `0x7E00`).
#[inline]
pub fn e5m2_to_fp16(b: u8) -> u16 {
    E5M2_TO_FP16[usize::from(b)]
}

/// E4M3 -> FP16 (exact; NaN -> `0x7E00`).
#[inline]
pub fn e4m3_to_fp16(b: u8) -> u16 {
    E4M3_TO_FP16[usize::from(b)]
}

/// FP16 -> E5M2 with RNE. E5M2 shares FP16's exponent field, so this is a round-to-nearest-even
/// of the low 8 bits; a carry runs into the exponent, up to infinity.
#[inline]
pub fn fp16_to_e5m2(h: u16) -> u8 {
    if fp16::is_nan(h) {
        return E5M2_CANONICAL_NAN;
    }
    let sign = ((h >> 8) & 0x80) as u8;
    let abs = h & 0x7FFF;
    // abs <= 0x7C00 here, so the sum cannot overflow 16 bits.
    let rounded = (abs + 0x7F + ((abs >> 8) & 1)) >> 8;
    sign | rounded as u8
}

/// FP16 -> E4M3 with RNE, gradual underflow, overflow to infinity (`0x78`/`0xF8`).
#[inline]
pub fn fp16_to_e4m3(h: u16) -> u8 {
    softfloat::convert(softfloat::FP16, softfloat::E4M3, u32::from(h)) as u8
}
