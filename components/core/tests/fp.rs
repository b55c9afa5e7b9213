//! RV32F numerics: results, rounding modes and exception flags.

mod common;
use common::asm::*;
use common::reg::*;
use common::*;
use vp_core::fpu::{self, fflags::*, Rounding};

const RMM: u32 = 4;

/// Run `op fa2, fa0, fa1` (or with fa0 only) on raw bit patterns; return (fa2 or a2, fflags).
fn run_fp(a: u32, b: u32, instr: u32, to_x: bool) -> (u32, u8) {
    let p = prog(&[
        &li(A0, a),
        &li(A1, b),
        &[fmv_w_x(10, A0), fmv_w_x(11, A1), instr, EBREAK],
    ]);
    let (h, _) = exec(&p);
    let v = if to_x { h.x[A2 as usize] } else { h.f[12] };
    (v, h.fflags)
}

fn f(x: f32) -> u32 {
    x.to_bits()
}

#[test]
fn basic_arithmetic_is_ieee_single_precision() {
    assert_eq!(
        run_fp(f(1.5), f(2.25), fadd(12, 10, 11, RNE), false),
        (f(3.75), 0)
    );
    assert_eq!(
        run_fp(f(1.5), f(2.25), fsub(12, 10, 11, RNE), false),
        (f(-0.75), 0)
    );
    assert_eq!(
        run_fp(f(1.5), f(-2.0), fmul(12, 10, 11, RNE), false),
        (f(-3.0), 0)
    );
    assert_eq!(
        run_fp(f(1.0), f(3.0), fdiv(12, 10, 11, RNE), false),
        (0x3eaa_aaab, NX)
    );
    assert_eq!(
        run_fp(f(2.0), 0, fsqrt(12, 10, RNE), false),
        (0x3fb5_04f3, NX)
    );
    assert_eq!(run_fp(f(2.25), 0, fsqrt(12, 10, RNE), false), (f(1.5), 0));
    // fmadd fa2 = fa0 * fa1 + fa0
    assert_eq!(
        run_fp(f(3.0), f(4.0), fmadd(12, 10, 11, 10, RNE), false),
        (f(15.0), 0)
    );
}

#[test]
fn fma_rounds_once() {
    // (1 + 2^-12)^2 - (1 + 2^-11) = 2^-24 exactly: a separate multiply would round
    // 1 + 2^-11 + 2^-24 to 1 + 2^-11 and give 0.
    let a = 1.0f32 + f32::powi(2.0, -12);
    let c = -(1.0f32 + f32::powi(2.0, -11));
    let (r, fl) = fpu::fma(a, a, c, Rounding::Rne);
    assert_eq!(r, f32::powi(2.0, -24));
    assert_eq!(fl, 0);
}

#[test]
fn a_result_rounded_up_to_the_smallest_normal_may_still_underflow() {
    // Tininess after rounding (RISC-V, IEEE 754-2019 7.5): rounded to 24 bits with an
    // unbounded exponent, is the exact value below 2^-126? There the grid below 2^-126
    // has the step 2^-150, half the subnormals'.
    let m = f32::MIN_POSITIVE;
    let sub_max = f32::from_bits(0x007f_ffff); // 2^-126 - 2^-149
                                               // (1 - 2^-24) 2^-126 = 2^-126 - 2^-150 exactly: a tie between the largest subnormal
                                               // and 2^-126 (RNE: 2^-126, even), but on the unbounded grid it is itself: tiny.
    let (r, fl) = fpu::mul(1.0 - f32::powi(2.0, -24), m, Rounding::Rne);
    assert_eq!((r, fl), (m, UF | NX));
    // The largest subnormal plus a tiny product, rounded up: 2^-126, but 2^-126 - 2^-150
    // on the unbounded grid: tiny (the RTL comparison's case, fmadd in RUP).
    let (r, fl) = fpu::fma(-sub_max, -sub_max, sub_max, Rounding::Rup);
    assert_eq!((r, fl), (m, UF | NX));
    // 2^-126 less a tiny product: 2^-126 on both grids in RNE and RUP, not tiny; RDN
    // gives the largest subnormal, tiny.
    let tiny = f32::powi(2.0, -100);
    assert_eq!(fpu::fma(-tiny, tiny, m, Rounding::Rne), (m, NX));
    assert_eq!(fpu::fma(-tiny, tiny, m, Rounding::Rup), (m, NX));
    assert_eq!(fpu::fma(-tiny, tiny, m, Rounding::Rdn), (sub_max, UF | NX));
    // and mirrored for negative results
    assert_eq!(
        fpu::fma(sub_max, -sub_max, -sub_max, Rounding::Rdn),
        (-m, UF | NX)
    );
    assert_eq!(fpu::fma(tiny, tiny, -m, Rounding::Rdn), (-m, NX));
}

#[test]
fn static_rounding_modes_select_the_neighbour() {
    let one = f(1.0);
    let tiny = f(f32::powi(2.0, -24)); // half an ulp of 1.0: a tie
    assert_eq!(run_fp(one, tiny, fadd(12, 10, 11, RNE), false), (one, NX));
    assert_eq!(run_fp(one, tiny, fadd(12, 10, 11, RTZ), false), (one, NX));
    assert_eq!(run_fp(one, tiny, fadd(12, 10, 11, RDN), false), (one, NX));
    assert_eq!(
        run_fp(one, tiny, fadd(12, 10, 11, RUP), false),
        (0x3f80_0001, NX)
    );
    assert_eq!(
        run_fp(one, tiny, fadd(12, 10, 11, RMM), false),
        (0x3f80_0001, NX),
        "tie away from zero"
    );
    let mone = f(-1.0);
    assert_eq!(
        run_fp(mone, tiny | 0x8000_0000, fadd(12, 10, 11, RDN), false),
        (0xbf80_0001, NX)
    );
    assert_eq!(
        run_fp(mone, tiny | 0x8000_0000, fadd(12, 10, 11, RUP), false),
        (f(-1.0), NX)
    );
    // 1/3 = 0x3eaaaaaa.aaa..: RNE and RUP round up, RTZ and RDN down
    assert_eq!(
        run_fp(one, f(3.0), fdiv(12, 10, 11, RTZ), false).0,
        0x3eaa_aaaa
    );
    assert_eq!(
        run_fp(one, f(3.0), fdiv(12, 10, 11, RUP), false).0,
        0x3eaa_aaab
    );
    // sqrt(2) = 1.41421356..., 0x3fb504f3 = 1.41421353...: RUP rounds up
    assert_eq!(run_fp(f(2.0), 0, fsqrt(12, 10, RUP), false).0, 0x3fb5_04f4);
    assert_eq!(run_fp(f(2.0), 0, fsqrt(12, 10, RTZ), false).0, 0x3fb5_04f3);
}

#[test]
fn the_dynamic_rounding_mode_comes_from_frm() {
    // csrrwi frm, 3 (RUP), then fadd with rm = DYN
    let p = prog(&[
        &li(A0, f(1.0)),
        &li(A1, f(f32::powi(2.0, -24))),
        &[
            fmv_w_x(10, A0),
            fmv_w_x(11, A1),
            csrrwi(ZERO, 0x002, 3),
            fadd(12, 10, 11, DYN),
            EBREAK,
        ],
    ]);
    let (h, _) = exec(&p);
    assert_eq!(h.f[12], 0x3f80_0001);
    // fcsr = frm << 5 | fflags
    assert_eq!(h.csr_read(0x003), Some((3 << 5) | NX as u32));
}

#[test]
fn overflow_honours_the_rounding_direction() {
    let big = f(f32::MAX);
    assert_eq!(
        run_fp(big, big, fadd(12, 10, 11, RNE), false),
        (f(f32::INFINITY), OF | NX)
    );
    assert_eq!(
        run_fp(big, big, fadd(12, 10, 11, RTZ), false),
        (big, OF | NX)
    );
    assert_eq!(
        run_fp(big, f(2.0), fmul(12, 10, 11, RDN), false),
        (big, OF | NX)
    );
    assert_eq!(
        run_fp(big | 0x8000_0000, f(2.0), fmul(12, 10, 11, RDN), false).0,
        f(f32::NEG_INFINITY)
    );
}

#[test]
fn invalid_operations_give_the_canonical_nan() {
    let inf = f(f32::INFINITY);
    assert_eq!(
        run_fp(inf, inf, fsub(12, 10, 11, RNE), false),
        (0x7fc0_0000, NV)
    );
    assert_eq!(
        run_fp(0, inf, fmul(12, 10, 11, RNE), false),
        (0x7fc0_0000, NV)
    );
    assert_eq!(
        run_fp(0, 0, fdiv(12, 10, 11, RNE), false),
        (0x7fc0_0000, NV)
    );
    assert_eq!(
        run_fp(f(-1.0), 0, fsqrt(12, 10, RNE), false),
        (0x7fc0_0000, NV)
    );
    // A quiet NaN input propagates as the canonical NaN without NV; a signaling one raises NV.
    assert_eq!(
        run_fp(0x7fc1_2345, f(1.0), fadd(12, 10, 11, RNE), false),
        (0x7fc0_0000, 0)
    );
    assert_eq!(
        run_fp(0x7f80_0001, f(1.0), fadd(12, 10, 11, RNE), false),
        (0x7fc0_0000, NV)
    );
    assert_eq!(run_fp(f(1.0), 0, fdiv(12, 10, 11, RNE), false), (inf, DZ));
}

#[test]
fn fmin_fmax_follow_risc_v_nan_and_zero_rules() {
    let qnan = 0x7fc0_0000;
    assert_eq!(run_fp(qnan, f(1.0), fmin(12, 10, 11), false), (f(1.0), 0));
    assert_eq!(run_fp(f(1.0), qnan, fmax(12, 10, 11), false), (f(1.0), 0));
    assert_eq!(
        run_fp(qnan, qnan, fmin(12, 10, 11), false),
        (0x7fc0_0000, 0)
    );
    assert_eq!(
        run_fp(0x7f80_0001, f(2.0), fmax(12, 10, 11), false),
        (f(2.0), NV)
    );
    assert_eq!(run_fp(f(-0.0), f(0.0), fmin(12, 10, 11), false).0, f(-0.0));
    assert_eq!(run_fp(f(0.0), f(-0.0), fmin(12, 10, 11), false).0, f(-0.0));
    assert_eq!(run_fp(f(-0.0), f(0.0), fmax(12, 10, 11), false).0, f(0.0));
    assert_eq!(run_fp(f(-3.0), f(2.0), fmin(12, 10, 11), false).0, f(-3.0));
}

#[test]
fn comparisons_and_their_nan_flags() {
    let qnan = 0x7fc0_0000;
    assert_eq!(run_fp(f(1.0), f(2.0), flt(A2, 10, 11), true), (1, 0));
    assert_eq!(run_fp(f(2.0), f(2.0), feq(A2, 10, 11), true), (1, 0));
    assert_eq!(run_fp(f(-0.0), f(0.0), feq(A2, 10, 11), true), (1, 0));
    assert_eq!(
        run_fp(qnan, f(2.0), feq(A2, 10, 11), true),
        (0, 0),
        "feq: quiet NaN is not invalid"
    );
    assert_eq!(
        run_fp(qnan, f(2.0), flt(A2, 10, 11), true),
        (0, NV),
        "flt: any NaN is invalid"
    );
}

#[test]
fn fclass_sets_one_bit_per_class() {
    let cls = |x: u32| run_fp(x, 0, fclass(A2, 10), true).0;
    assert_eq!(cls(f(f32::NEG_INFINITY)), 1 << 0);
    assert_eq!(cls(f(-1.0)), 1 << 1);
    assert_eq!(cls(0x8000_0001), 1 << 2);
    assert_eq!(cls(f(-0.0)), 1 << 3);
    assert_eq!(cls(0), 1 << 4);
    assert_eq!(cls(1), 1 << 5);
    assert_eq!(cls(f(1.0)), 1 << 6);
    assert_eq!(cls(f(f32::INFINITY)), 1 << 7);
    assert_eq!(cls(0x7f80_0001), 1 << 8);
    assert_eq!(cls(0x7fc0_0000), 1 << 9);
}

#[test]
fn conversions_saturate_and_round() {
    let w = |x: f32, rm: u32| run_fp(f(x), 0, fcvt_w_s(A2, 10, rm), true);
    assert_eq!(w(2.5, RNE), (2, NX));
    assert_eq!(w(3.5, RNE), (4, NX));
    assert_eq!(w(2.5, RMM), (3, NX));
    assert_eq!(w(-2.5, RTZ), (-2i32 as u32, NX));
    assert_eq!(w(-2.5, RDN), (-3i32 as u32, NX));
    assert_eq!(w(2.1, RUP), (3, NX));
    assert_eq!(w(-7.0, RNE), (-7i32 as u32, 0));
    assert_eq!(w(3e9, RNE), (i32::MAX as u32, NV));
    assert_eq!(w(-3e9, RNE), (i32::MIN as u32, NV));
    assert_eq!(w(f32::NAN, RNE), (i32::MAX as u32, NV));
    assert_eq!(w(-2147483648.0, RNE), (i32::MIN as u32, 0));
    let wu = |x: f32, rm: u32| run_fp(f(x), 0, fcvt_wu_s(A2, 10, rm), true);
    assert_eq!(wu(-1.0, RNE), (0, NV));
    assert_eq!(wu(-0.25, RTZ), (0, NX), "rounds to -0, in range");
    assert_eq!(wu(4e9, RNE), (4_000_000_000, 0));
    assert_eq!(wu(5e9, RNE), (u32::MAX, NV));
    // int -> float: 2^31 - 1 is not representable
    let s = |v: u32, rm: u32| {
        let p = prog(&[&li(A0, v), &[fcvt_s_w(12, A0, rm), EBREAK]]);
        let (h, _) = exec(&p);
        (h.f[12], h.fflags)
    };
    assert_eq!(s(i32::MAX as u32, RNE), (0x4f00_0000, NX));
    assert_eq!(s(i32::MAX as u32, RTZ), (0x4eff_ffff, NX));
    assert_eq!(s(-5i32 as u32, RNE), (f(-5.0), 0));
}

#[test]
fn sign_injection_and_moves_are_bitwise() {
    // fsgnjn fa2, fa0, fa0 is fneg; works on NaN payloads too
    assert_eq!(
        run_fp(0x7fc1_2345, 0, fsgnjn(12, 10, 10), false),
        (0xffc1_2345, 0)
    );
    assert_eq!(run_fp(f(-2.0), 0, fmv_x_w(A2, 10), true), (f(-2.0), 0));
}

/// Exact reference rounding of an f64 known to hold the exact result.
fn round_ref(x: f64, mode: Rounding) -> f32 {
    let r = x as f32; // RNE
    if r as f64 == x || r.is_infinite() {
        return r;
    }
    let (lo, hi) = if (r as f64) < x {
        (
            r,
            f32::from_bits(if r >= 0.0 {
                r.to_bits() + 1
            } else {
                r.to_bits() - 1
            }),
        )
    } else {
        (
            f32::from_bits(if r > 0.0 {
                r.to_bits() - 1
            } else {
                r.to_bits() + 1
            }),
            r,
        )
    };
    let (lo, hi) = if r == 0.0 {
        // x tiny: neighbours are the zero of x's sign and the smallest subnormal
        if x > 0.0 {
            (0.0, f32::from_bits(1))
        } else {
            (-f32::from_bits(1), -0.0)
        }
    } else {
        (lo, hi)
    };
    match mode {
        Rounding::Rne => r,
        Rounding::Rtz => {
            if x > 0.0 {
                lo
            } else {
                hi
            }
        }
        Rounding::Rdn => lo,
        Rounding::Rup => hi,
        Rounding::Rmm => {
            let dl = x - lo as f64;
            let dh = hi as f64 - x;
            if dl == dh {
                if x > 0.0 {
                    hi
                } else {
                    lo
                }
            } else {
                r
            }
        }
    }
}

#[test]
fn directed_rounding_matches_an_exact_reference_on_random_operands() {
    // xorshift32; a * b is always exact in f64, a + b when the TwoSum error is 0.
    // Half of the `a` operands are tiny so that products reach the subnormal range.
    let mut s = 0x1234_5678u32;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        s
    };
    let modes = [
        Rounding::Rne,
        Rounding::Rtz,
        Rounding::Rdn,
        Rounding::Rup,
        Rounding::Rmm,
    ];
    for _ in 0..20_000 {
        let r1 = next();
        let r2 = next();
        // exponent within +-20 of 1.0, or tiny (subnormal range products)
        let mk = |r: u32, tiny: bool| {
            let exp = if tiny {
                1 + (r >> 24) % 40
            } else {
                107 + (r >> 24) % 40
            };
            f32::from_bits((r & 0x8000_0000) | (exp << 23) | (r & 0x7f_ffff))
        };
        let tiny = r1 & 0x10 != 0;
        let a = mk(r1, tiny);
        let b = mk(r2, false);
        for &m in &modes {
            let (sum, _) = fpu::add(a, b, m);
            // TwoSum: the f64 sum is exact when its error term is zero.
            let exact_sum = a as f64 + b as f64;
            let bb = exact_sum - a as f64;
            let err = (a as f64 - (exact_sum - bb)) + (b as f64 - bb);
            if err == 0.0 {
                assert_eq!(
                    sum.to_bits(),
                    round_ref(exact_sum, m).to_bits(),
                    "{a:e} + {b:e} {m:?}"
                );
            }
            let (prod, fl) = fpu::mul(a, b, m);
            let exact = a as f64 * b as f64;
            assert_eq!(
                prod.to_bits(),
                round_ref(exact, m).to_bits(),
                "{a:e} * {b:e} {m:?}"
            );
            assert_eq!(fl & NX != 0, prod as f64 != exact);
        }
    }
}

#[test]
fn exact_zero_sums_have_the_ieee_sign() {
    use fpu::add;
    assert_eq!(add(1.5, -1.5, Rounding::Rne).0.to_bits(), 0);
    assert_eq!(add(1.5, -1.5, Rounding::Rdn).0.to_bits(), 0x8000_0000);
    assert_eq!(add(-0.0, -0.0, Rounding::Rne).0.to_bits(), 0x8000_0000);
    assert_eq!(add(0.0, -0.0, Rounding::Rne).0.to_bits(), 0);
    assert_eq!(add(0.0, -0.0, Rounding::Rdn).0.to_bits(), 0x8000_0000);
    assert_eq!(add(0.0, 0.0, Rounding::Rdn).0.to_bits(), 0);
    assert_eq!(
        fpu::fma(2.0, 3.0, -6.0, Rounding::Rdn).0.to_bits(),
        0x8000_0000
    );
    assert_eq!(fpu::fma(2.0, 3.0, -6.0, Rounding::Rne).0.to_bits(), 0);
}
