//! Exhaustive FP8 <-> FP16 cast tests against rustc_apfloat and the reference converter.

mod common;

use common::*;
use redmule_numerics::{fp8, reference, Format};

#[test]
fn e5m2_to_fp16_exhaustive() {
    for b in 0..=255u8 {
        let want = ap_from_fp8::<rustc_apfloat::ieee::Float8E5M2S>(b);
        assert_eq!(fp8::e5m2_to_fp16(b), want, "byte {b:#04x}");
        // Independent formulation: E5M2 is the top byte of FP16.
        let shifted = if b & 0x7F > 0x7C {
            0x7E00
        } else {
            u16::from(b) << 8
        };
        assert_eq!(shifted, want, "byte {b:#04x}");
        assert_eq!(reference::cast_in(Format::Fp8E5M2, u16::from(b)), want);
        assert_eq!(Format::Fp8E5M2.to_fp16(u16::from(b)), want);
    }
}

#[test]
fn e4m3_to_fp16_exhaustive() {
    for b in 0..=255u8 {
        let want = ap_from_fp8::<E4M3S>(b);
        assert_eq!(fp8::e4m3_to_fp16(b), want, "byte {b:#04x}");
        assert_eq!(reference::cast_in(Format::Fp8E4M3, u16::from(b)), want);
    }
}

#[test]
fn fp16_to_e5m2_exhaustive() {
    for h in 0..=u16::MAX {
        let want = ap_to_fp8::<rustc_apfloat::ieee::Float8E5M2S>(h, fp8::E5M2_CANONICAL_NAN);
        assert_eq!(fp8::fp16_to_e5m2(h), want, "fp16 {h:#06x}");
        assert_eq!(u16::from(want), reference::cast_out(Format::Fp8E5M2, h));
    }
}

#[test]
fn fp16_to_e4m3_exhaustive() {
    for h in 0..=u16::MAX {
        let want = ap_to_fp8::<E4M3S>(h, fp8::E4M3_CANONICAL_NAN);
        assert_eq!(fp8::fp16_to_e4m3(h), want, "fp16 {h:#06x}");
        assert_eq!(u16::from(want), reference::cast_out(Format::Fp8E4M3, h));
    }
}

#[test]
fn fp8_round_trips_and_landmarks() {
    for b in 0..=255u8 {
        let nan5 = b & 0x7F > 0x7C;
        let back = fp8::fp16_to_e5m2(fp8::e5m2_to_fp16(b));
        assert_eq!(back, if nan5 { 0x7E } else { b });
        let nan4 = b & 0x7F > 0x78;
        let back = fp8::fp16_to_e4m3(fp8::e4m3_to_fp16(b));
        assert_eq!(back, if nan4 { 0x7C } else { b });
    }
    // E4M3 (IEEE conventions): max 240, 0x78 = +inf, min subnormal 2^-9.
    assert_eq!(fp8::e4m3_to_fp16(0x77), 0x5B80); // 240
    assert_eq!(fp8::e4m3_to_fp16(0x78), 0x7C00);
    assert_eq!(fp8::e4m3_to_fp16(0xF8), 0xFC00);
    assert_eq!(fp8::e4m3_to_fp16(0x01), 0x1800); // 2^-9
    assert_eq!(fp8::e4m3_to_fp16(0x79), 0x7E00);
    assert_eq!(fp8::e4m3_to_fp16(0xFF), 0x7E00);
    // 248 is the midpoint between 240 (odd mantissa) and 256: ties to even = overflow.
    assert_eq!(fp8::fp16_to_e4m3(0x5BC0), 0x78);
    assert_eq!(fp8::fp16_to_e4m3(0x5BBF), 0x77);
    assert_eq!(fp8::fp16_to_e4m3(0x7C00), 0x78);
    assert_eq!(fp8::fp16_to_e4m3(0x8000), 0x80);
    assert_eq!(fp8::fp16_to_e4m3(0xFE00), 0x7C);
    // Half of the smallest subnormal rounds to zero (tie to even), above it to the subnormal.
    assert_eq!(fp8::fp16_to_e4m3(0x1400), 0x00); // 2^-10
    assert_eq!(fp8::fp16_to_e4m3(0x1401), 0x01);
    // E5M2: max 57344, 61440 ties to inf.
    assert_eq!(fp8::e5m2_to_fp16(0x7B), 0x7B00);
    assert_eq!(fp8::fp16_to_e5m2(0x7B80), 0x7C);
    assert_eq!(fp8::fp16_to_e5m2(0x7B7F), 0x7B);
    assert_eq!(fp8::fp16_to_e5m2(0x7C01), 0x7E);
    assert_eq!(fp8::fp16_to_e5m2(0x0080), 0x00); // tie to even at the subnormal end
    assert_eq!(fp8::fp16_to_e5m2(0x0180), 0x02);
}

#[test]
fn format_codes() {
    assert_eq!(Format::from_code(0), Some(Format::Fp8E5M2));
    assert_eq!(Format::from_code(1), Some(Format::Fp16));
    assert_eq!(Format::from_code(2), Some(Format::Fp8E4M3));
    assert_eq!(Format::from_code(3), None);
    assert_eq!(Format::from_code(u32::MAX), None);
    for f in Format::ALL {
        assert_eq!(Format::from_code(f.code()), Some(f));
    }
    assert_eq!(Format::Fp16.bytes_per_elem(), 2);
    assert_eq!(Format::Fp8E5M2.bytes_per_elem(), 1);
    assert_eq!(Format::Fp8E4M3.fpnew_code(), 5);
    let mut buf = [0u8; 3];
    assert!(Format::Fp16.store(&mut buf, 0, 0x3C00));
    assert!(!Format::Fp16.store(&mut buf, 1, 0x3C00));
    assert!(!Format::Fp16.store(&mut buf, usize::MAX, 0x3C00));
    assert_eq!(Format::Fp16.load(&buf, 0), Some(0x3C00));
    assert_eq!(Format::Fp16.load(&buf, 1), None);
    assert_eq!(Format::Fp16.load(&buf, usize::MAX), None);
    assert!(Format::Fp8E4M3.store(&mut buf, 2, 0x5B80));
    assert_eq!(buf[2], 0x77);
    assert_eq!(Format::Fp8E4M3.load(&buf, 2), Some(0x5B80));
    assert_eq!(Format::Fp8E4M3.load(&buf, 3), None);
}
