//! Shared test helpers: seeded generators with special values, and `rustc_apfloat` oracles.
#![allow(dead_code)]

use rand_core::Rng;
use rand_pcg::Pcg64;
use rustc_apfloat::ieee::{Half, IeeeFloat, Semantics};
use rustc_apfloat::{Float, FloatConvert, Round};

/// Deterministic generator for a test (fixed seed per stream).
pub fn rng(stream: u128) -> Pcg64 {
    Pcg64::new(0x005e_ed0f_7e57_ca5e_u128 ^ (stream << 64), stream)
}

/// FP16 patterns worth hitting on purpose.
pub const SPECIALS: &[u16] = &[
    0x0000, 0x8000, // zeros
    0x7C00, 0xFC00, // infinities
    0x7E00, 0xFE00, 0x7C01, 0xFC01, 0x7D00, 0x7FFF, 0xFFFF, // quiet and signalling NaNs
    0x0001, 0x8001, 0x0002, 0x03FF, 0x83FF, 0x0200, // subnormals
    0x0400, 0x8400, 0x0401, // min normal
    0x7BFF, 0xFBFF, 0x7BFE, 0x7800, // near max
    0x3C00, 0xBC00, 0x3BFF, 0x3C01, 0x4000, 0xC000, 0x3800, // around one
    0x5BFF, 0x5C00, 0x1400, 0x0C00, 0x2400,
];

/// A random FP16 pattern: specials, tiny and huge exponents and uniform bits mixed.
pub fn gen(r: &mut Pcg64) -> u16 {
    let v = r.next_u64();
    let bits = (v >> 16) as u16;
    match v % 16 {
        0 | 1 => SPECIALS[((v >> 40) as usize) % SPECIALS.len()],
        2 | 3 => bits & 0x8FFF, // exponent 0..3: subnormals and smallest normals
        4 => (bits & 0x83FF) | 0x7000 | ((bits & 0x0800) >> 1), // exponents 28..29
        5 => (bits & 0x83FF) | 0x3C00, // [1, 2)
        _ => bits,
    }
}

/// Canonicalises NaN the way fpnew does (any NaN -> 0x7E00).
pub fn canon16(h: Half) -> u16 {
    if h.is_nan() {
        0x7E00
    } else {
        h.to_bits() as u16
    }
}

pub fn half(b: u16) -> Half {
    Half::from_bits(u128::from(b))
}

pub fn ap_fma(a: u16, b: u16, c: u16) -> u16 {
    canon16(
        half(a)
            .mul_add_r(half(b), half(c), Round::NearestTiesToEven)
            .value,
    )
}

pub fn ap_add(a: u16, b: u16) -> u16 {
    canon16(half(a).add_r(half(b), Round::NearestTiesToEven).value)
}

pub fn ap_mul(a: u16, b: u16) -> u16 {
    canon16(half(a).mul_r(half(b), Round::NearestTiesToEven).value)
}

/// IEEE-convention E4M3 (max 240, exponent all ones = inf/NaN), unlike apfloat's E4M3FN.
pub struct E4M3S;
impl Semantics for E4M3S {
    const BITS: usize = 8;
    const EXP_BITS: usize = 4;
}
pub type E4M3 = IeeeFloat<E4M3S>;
pub type E5M2 = rustc_apfloat::ieee::Float8E5M2;

/// FP16 -> FP8 with apfloat, NaN -> the given canonical NaN.
pub fn ap_to_fp8<S: Semantics>(h: u16, canonical_nan: u8) -> u8
where
    Half: FloatConvert<IeeeFloat<S>>,
{
    let mut loses = false;
    let r: IeeeFloat<S> = half(h)
        .convert_r(Round::NearestTiesToEven, &mut loses)
        .value;
    if r.is_nan() {
        canonical_nan
    } else {
        r.to_bits() as u8
    }
}

/// FP8 -> FP16 with apfloat, NaN -> 0x7E00.
pub fn ap_from_fp8<S: Semantics>(b: u8) -> u16
where
    IeeeFloat<S>: FloatConvert<Half>,
{
    let mut loses = false;
    let v = IeeeFloat::<S>::from_bits(u128::from(b));
    let r: Half = v.convert_r(Round::NearestTiesToEven, &mut loses).value;
    assert!(!loses || v.is_nan(), "FP8 -> FP16 must be exact");
    canon16(r)
}

/// `elems` random elements of `fmt` as bytes: FP16 from [`gen`]; FP8 mostly moderate
/// magnitudes so chains stay interesting, plus any byte one time in four.
pub fn random_bytes(r: &mut Pcg64, fmt: redmule_numerics::Format, elems: usize) -> Vec<u8> {
    match fmt {
        redmule_numerics::Format::Fp16 => (0..elems).flat_map(|_| gen(r).to_le_bytes()).collect(),
        _ => (0..elems)
            .map(|_| {
                let v = r.next_u64();
                if v.is_multiple_of(4) {
                    (v >> 8) as u8
                } else {
                    ((v >> 8) as u8 & 0x9F) | 0x20
                }
            })
            .collect(),
    }
}
