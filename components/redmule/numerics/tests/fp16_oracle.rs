//! FP16 arithmetic against rustc_apfloat (IEEE binary16, fused mul_add, RNE) with fpnew's NaN
//! canonicalisation, for both the fast path and the exact reference path.

mod common;

use common::*;
use rand_core::Rng;
use redmule_numerics::{fp16, reference};

/// Picks an addend for `a * b + c` that makes the case hard: near the (negated) product for
/// cancellation, at a similar or very different magnitude for alignment/sticky handling.
fn gen_addend(r: &mut rand_pcg::Pcg64, a: u16, b: u16) -> u16 {
    let v = r.next_u64();
    let p = fp16::mul(a, b);
    let jitter = ((v >> 8) % 5) as u16;
    match v % 8 {
        0 => (p ^ 0x8000).wrapping_add(jitter).wrapping_sub(2),
        1 => p.wrapping_add(jitter).wrapping_sub(2),
        2 => {
            // Same exponent region as the product, random mantissa and sign.
            let e = p & 0x7C00;
            e | ((v >> 20) as u16 & 0x83FF)
        }
        _ => gen(r),
    }
}

fn check_fma(stream: u128, cases: usize) {
    let mut r = rng(stream);
    for i in 0..cases {
        let a = gen(&mut r);
        let b = gen(&mut r);
        let c = gen_addend(&mut r, a, b);
        let want = ap_fma(a, b, c);
        let got = fp16::fma(a, b, c);
        assert_eq!(
            got, want,
            "case {i}: fma({a:#06x}, {b:#06x}, {c:#06x}) fast {got:#06x} != apfloat {want:#06x}"
        );
        // The exact path is slower; check it on a subset.
        if i % 4 == 0 {
            let slow = reference::fma(a, b, c);
            assert_eq!(
                slow, want,
                "case {i}: fma({a:#06x}, {b:#06x}, {c:#06x}) reference {slow:#06x} != apfloat {want:#06x}"
            );
        }
    }
}

// 4 x 250k = 1 M random FMA cases, split so the test harness runs them in parallel.
#[test]
fn fma_random_0() {
    check_fma(10, 250_000);
}
#[test]
fn fma_random_1() {
    check_fma(11, 250_000);
}
#[test]
fn fma_random_2() {
    check_fma(12, 250_000);
}
#[test]
fn fma_random_3() {
    check_fma(13, 250_000);
}

#[test]
fn fma_all_special_triples() {
    for &a in SPECIALS {
        for &b in SPECIALS {
            for &c in SPECIALS {
                let want = ap_fma(a, b, c);
                assert_eq!(
                    fp16::fma(a, b, c),
                    want,
                    "fma({a:#06x}, {b:#06x}, {c:#06x})"
                );
                assert_eq!(
                    reference::fma(a, b, c),
                    want,
                    "ref fma({a:#06x}, {b:#06x}, {c:#06x})"
                );
            }
        }
    }
}

#[test]
fn fma_fpnew_special_cases() {
    use fp16::*;
    // inf * 0 + qNaN is the canonical NaN (fpnew raises NV and returns the canonical NaN).
    assert_eq!(fma(POS_INF, POS_ZERO, 0x7E01), CANONICAL_NAN);
    assert_eq!(fma(NEG_ZERO, NEG_INF, ONE), CANONICAL_NAN);
    // NaN payloads and signs are not propagated.
    assert_eq!(fma(0xFE55, ONE, ONE), CANONICAL_NAN);
    assert_eq!(fma(ONE, ONE, 0x7C01), CANONICAL_NAN);
    // inf - inf.
    assert_eq!(fma(POS_INF, ONE, NEG_INF), CANONICAL_NAN);
    assert_eq!(fma(POS_INF, NEG_INF, POS_INF), CANONICAL_NAN);
    // Infinite product or addend.
    assert_eq!(fma(POS_INF, 0xBC00, MAX), NEG_INF);
    assert_eq!(fma(MAX, MAX, NEG_INF), NEG_INF);
    // Overflow rounds to infinity; just below the threshold stays finite.
    assert_eq!(fma(MAX, 0x4000, NEG_ZERO), POS_INF);
    assert_eq!(fma(MAX, ONE, 0x4F80), POS_INF); // 65504 + 30 >= 65520 (the tie point): inf
    assert_eq!(fma(MAX, ONE, 0x4B80), MAX); // 65504 + 15 = 65519 < 65520: stays finite
                                            // Signed zeros.
    assert_eq!(fma(ONE, POS_ZERO, NEG_ZERO), POS_ZERO);
    assert_eq!(fma(ONE, NEG_ZERO, NEG_ZERO), NEG_ZERO);
    assert_eq!(fma(ONE, ONE, 0xBC00), POS_ZERO); // exact cancellation is +0 in RNE
    assert_eq!(fma(0x8001, 0x0001, POS_ZERO), NEG_ZERO); // -2^-48 rounds to -0
                                                         // Subnormal result, exact.
    assert_eq!(fma(0x0001, 0x3C00, 0x0001), 0x0002);
    // Tie to even at the subnormal boundary: 2^-24 * 0.5 + 0 -> 0.
    assert_eq!(fma(0x0001, 0x3800, POS_ZERO), POS_ZERO);
    assert_eq!(fma(0x0001, 0x3E00, POS_ZERO), 0x0002); // 1.5 ulp -> 2
}

#[test]
fn add_mul_random() {
    let mut r = rng(20);
    for i in 0..300_000 {
        let a = gen(&mut r);
        let b = gen(&mut r);
        let (wa, wm) = (ap_add(a, b), ap_mul(a, b));
        assert_eq!(fp16::add(a, b), wa, "case {i}: add({a:#06x}, {b:#06x})");
        assert_eq!(fp16::mul(a, b), wm, "case {i}: mul({a:#06x}, {b:#06x})");
        if i % 4 == 0 {
            assert_eq!(
                reference::add(a, b),
                wa,
                "case {i}: ref add({a:#06x}, {b:#06x})"
            );
            assert_eq!(
                reference::mul(a, b),
                wm,
                "case {i}: ref mul({a:#06x}, {b:#06x})"
            );
        }
    }
}

#[test]
fn add_mul_exhaustive_against_specials() {
    // Every FP16 pattern against a few operands (both orders).
    for a in 0..=u16::MAX {
        for &b in &[
            0x0000u16, 0x8000, 0x7C00, 0x7E01, 0x0001, 0x83FF, 0x3C00, 0xC1A3, 0x7BFF,
        ] {
            assert_eq!(fp16::add(a, b), ap_add(a, b), "add({a:#06x}, {b:#06x})");
            assert_eq!(fp16::add(b, a), ap_add(b, a), "add({b:#06x}, {a:#06x})");
            assert_eq!(fp16::mul(a, b), ap_mul(a, b), "mul({a:#06x}, {b:#06x})");
        }
    }
}

#[test]
fn f64_conversions() {
    use rustc_apfloat::ieee::Double;
    use rustc_apfloat::{Float, FloatConvert, Round};
    // Exact widening and rounding back, for every pattern.
    for h in 0..=u16::MAX {
        let v = fp16::to_f64(h);
        if fp16::is_nan(h) {
            assert!(v.is_nan());
            assert_eq!(fp16::from_f64(v), fp16::CANONICAL_NAN);
        } else {
            assert_eq!(fp16::from_f64(v), h, "{h:#06x}");
            let mut loses = false;
            let wide: rustc_apfloat::ieee::Double = half(h)
                .convert_r(Round::NearestTiesToEven, &mut loses)
                .value;
            assert_eq!(v.to_bits() as u128, wide.to_bits(), "{h:#06x}");
        }
    }
    // Narrowing of random doubles (concentrated on the FP16 range) against apfloat.
    let mut r = rng(30);
    for _ in 0..200_000 {
        let v = r.next_u64();
        let exp = 1023 - 30 + (v % 50); // 2^-30 .. 2^19
        let bits = (v & 0x800F_FFFF_FFFF_FFFF) | (exp << 52);
        let bits = if v.is_multiple_of(7) {
            bits & !0x3FF_FFFF_FFFF
        } else {
            bits
        }; // near ties
        let d = f64::from_bits(bits);
        let mut loses = false;
        let want: rustc_apfloat::ieee::Half = Double::from_bits(u128::from(bits))
            .convert_r(Round::NearestTiesToEven, &mut loses)
            .value;
        assert_eq!(fp16::from_f64(d), canon16(want), "{d:e}");
    }
}

/// fpnew_noncomp.sv's min/max, checked against the independently written reference.
#[test]
fn min_max_semantics() {
    use fp16::*;
    assert_eq!(min(POS_ZERO, NEG_ZERO), NEG_ZERO);
    assert_eq!(min(NEG_ZERO, POS_ZERO), NEG_ZERO);
    assert_eq!(max(POS_ZERO, NEG_ZERO), POS_ZERO);
    assert_eq!(max(NEG_ZERO, POS_ZERO), POS_ZERO);
    assert_eq!(min(0x7E01, 0xC000), 0xC000); // NaN and number -> the number
    assert_eq!(max(0xC000, 0x7C01), 0xC000); // also for signalling NaNs
    assert_eq!(min(0x7E01, 0xFC01), CANONICAL_NAN);
    assert_eq!(max(0x7E01, 0xFC01), CANONICAL_NAN);
    assert_eq!(min(NEG_INF, MAX), NEG_INF);
    assert_eq!(max(0xBC00, 0xC000), 0xBC00); // -1 > -2
    assert_eq!(min(0xBC00, 0xC000), 0xC000);
    assert_eq!(min(0x3C00, 0xBC00), 0xBC00);

    for &a in SPECIALS {
        for b in 0..=u16::MAX {
            assert_eq!(min(a, b), reference::min(a, b), "min({a:#06x}, {b:#06x})");
            assert_eq!(min(b, a), reference::min(b, a), "min({b:#06x}, {a:#06x})");
            assert_eq!(max(a, b), reference::max(a, b), "max({a:#06x}, {b:#06x})");
            assert_eq!(max(b, a), reference::max(b, a), "max({b:#06x}, {a:#06x})");
        }
    }
    let mut r = rng(40);
    for _ in 0..300_000 {
        let a = gen(&mut r);
        let b = gen(&mut r);
        assert_eq!(min(a, b), reference::min(a, b), "min({a:#06x}, {b:#06x})");
        assert_eq!(max(a, b), reference::max(a, b), "max({a:#06x}, {b:#06x})");
        // Commutative on values; for non-NaN results the bits are one of the operands.
        if !(is_nan(a) && is_nan(b)) {
            assert_eq!(min(a, b), min(b, a));
            assert_eq!(max(a, b), max(b, a));
        }
    }
}
