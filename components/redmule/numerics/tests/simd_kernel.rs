//! The vector FMA-chain kernels against the portable path ([`Kernel::Portable`]), the exact
//! reference and `rustc_apfloat`: [`Kernel::Auto`] (the host's FP16 FMA on hosts with
//! AVX512-FP16, for blocks of 32 columns) and [`Kernel::Avx2`] (the AVX2 + FMA + F16C kernel);
//! random bit patterns with specials, constructed FP16 rounding midpoints (exact ties, and ties
//! that the intermediate `f32` rounding creates), the overflow threshold, and whole GEMMs of
//! every op and format. On a host without the features the vector sides run the portable path.

mod common;

use common::*;
use rand_core::Rng;
use redmule_numerics::{
    accumulate_w_row_with, accumulate_with, fp16, gemm_with, reference, z_row_with, Dims, Format,
    Fp16View, Kernel, Op,
};

/// Columns: every path of the kernels (a 32-lane FP16 block, then 16 + 8 AVX2 lanes and a
/// 3-column scalar tail; the AVX2 kernel alone: 3 x 16 + 8 + 3).
const COLS: usize = 59;

/// `acc[r][c] = fma(x_col[r], w_row[c], acc[r][c])` via one beat of each kernel, checked
/// lane by lane against apfloat.
fn check_beat(x_col: &[u16], w_row: &[u16], acc: &[u16]) {
    let cols = w_row.len();
    for kernel in [Kernel::Auto, Kernel::Avx2, Kernel::Portable] {
        let mut out = acc.to_vec();
        accumulate_w_row_with(kernel, Op::Gemm, &mut out, x_col, w_row).unwrap();
        for (i, &f) in out.iter().enumerate() {
            let (x, w, c) = (x_col[i / cols], w_row[i % cols], acc[i]);
            let want = ap_fma(x, w, c);
            assert_eq!(
                f, want,
                "{kernel:?} fma({x:#06x}, {w:#06x}, {c:#06x}) = {f:#06x}, apfloat {want:#06x} (lane {i})"
            );
        }
    }
}

#[test]
fn kernel_reports_availability() {
    // Not an assertion on the host, but makes the test log say which path was compared.
    eprintln!(
        "vector kernel available: {}, FP16 FMA (AVX512-FP16): {}",
        Kernel::simd_available(),
        Kernel::fp16_fma_available()
    );
}

#[test]
fn random_single_steps() {
    let mut r = rng(200);
    let rows = 4;
    for _ in 0..6_000 {
        let x_col: Vec<u16> = (0..rows).map(|_| gen(&mut r)).collect();
        let w_row: Vec<u16> = (0..COLS).map(|_| gen(&mut r)).collect();
        let acc: Vec<u16> = (0..rows * COLS)
            .map(|i| {
                // Half the addends near the negated product: cancellation and tiny results.
                let (x, w) = (x_col[i / COLS], w_row[i % COLS]);
                if r.next_u64().is_multiple_of(2) {
                    (fp16::mul(x, w) ^ 0x8000).wrapping_add((r.next_u64() % 5) as u16)
                } else {
                    gen(&mut r)
                }
            })
            .collect();
        check_beat(&x_col, &w_row, &acc);
    }
}

/// FP16 value `m * 2^e` for a significand pattern `m` in `[1, 2)` given as FP16 bits of
/// exponent 0 (0x3C00..=0x3FFF); `None` if it is not exactly representable (too small/large).
fn scaled(m: u16, e: i32) -> Option<u16> {
    let v = fp16_value(m) * 2f64.powi(e);
    let h = fp16::from_f64(v);
    (fp16_value(h) == v).then_some(h)
}

fn fp16_value(h: u16) -> f64 {
    let v = f64::from(half::f16::from_bits(h));
    assert!(!v.is_nan());
    v
}

/// Single steps of the min/max ops (ADDMAX ... MINMAX), lane by lane against the reference.
#[test]
fn min_max_ops_random_steps() {
    let mut r = rng(204);
    let rows = 3;
    for case in 0..3_000 {
        let op = Op::ALL[2 + case % 6];
        let x_col: Vec<u16> = (0..rows).map(|_| gen(&mut r)).collect();
        let w_row: Vec<u16> = (0..COLS).map(|_| gen(&mut r)).collect();
        let acc: Vec<u16> = (0..rows * COLS).map(|_| gen(&mut r)).collect();
        let mut fast = acc.clone();
        let mut port = acc.clone();
        accumulate_w_row_with(Kernel::Auto, op, &mut fast, &x_col, &w_row).unwrap();
        accumulate_w_row_with(Kernel::Portable, op, &mut port, &x_col, &w_row).unwrap();
        for i in 0..rows * COLS {
            let (x, w, a) = (x_col[i / COLS], w_row[i % COLS], acc[i]);
            let want = reference::step(op, a, x, w);
            assert_eq!(
                fast[i], want,
                "{op:?} fast step({a:#06x}, {x:#06x}, {w:#06x}) = {:#06x}, want {want:#06x}",
                fast[i]
            );
            assert_eq!(port[i], want, "{op:?} portable");
        }
    }
}

/// Exponent of half an FP16 ulp in the binade with exponent field `exp` (2^-25 for subnormals).
fn half_ulp_exp(exp: u16) -> i32 {
    i32::from(exp.max(1)) - 15 - 10 - 1
}

/// Significand pairs `(x, w)` (FP16 bits in `[1, 2)` or just below 1) whose product is exactly
/// 1 (an exact tie once scaled to half an ulp of the addend), `1 - 2^-20` (just below the tie,
/// but the `f32` sum is the tie itself), or `1 + 2^-11 - 2^-21` (a control, not a tie).
const SIG_PAIRS: [(u16, u16); 3] = [(0x3C00, 0x3C00), (0x3C01, 0x3BFE), (0x3C01, 0x3BFF)];

#[test]
fn constructed_midpoints() {
    let mut r = rng(201);
    let mut rows = 0usize;
    for c_exp in 0u16..31 {
        let target = half_ulp_exp(c_exp);
        for (mx, mw) in SIG_PAIRS {
            // Split the product's exponent between x and w so both are representable.
            let Some((x, w)) =
                (-14..=15).find_map(|ex| Some((scaled(mx, ex)?, scaled(mw, target - ex)?)))
            else {
                continue;
            };
            for parity in 0..2u16 {
                let mut w_row = [0u16; COLS];
                let mut acc = [0u16; COLS];
                for (wl, al) in w_row.iter_mut().zip(&mut acc) {
                    let v = r.next_u64();
                    // Odd and even addend mantissas: ties round up and down.
                    let man = ((v % 1024) as u16 & !1) | parity;
                    *al = (c_exp << 10) | man | ((v >> 20) as u16 & 0x8000);
                    *wl = w | ((v >> 30) as u16 & 0x8000);
                }
                check_beat(&[x], &w_row, &acc);
                rows += 1;
            }
        }
    }
    assert!(rows >= 150, "{rows} rows");
}

/// The cases the vector kernel must not get wrong, spelled out.
#[test]
fn named_midpoint_cases() {
    let cases: &[(u16, u16, u16)] = &[
        // 1 + 2^-10 plus 2^-11 (1 - 2^-20): exactly below the midpoint, so 1 + 2^-10; the f32
        // sum is the midpoint itself, which would round to even (1 + 2^-9).
        (0x1001, 0x3BFE, 0x3C01),
        // The same tie, exact: to even.
        (0x1000, 0x3C00, 0x3C01),
        (0x1000, 0x3C00, 0x3C00),
        // Overflow threshold: 65504 + 16 = 65520 ties to infinity; 65504 + 16 (1 - 2^-20)
        // stays 65504, though its f32 value is 65520.
        (0x4C00, 0x3C00, 0x7BFF),
        (0x4C01, 0x3BFE, 0x7BFF),
        (0xCC01, 0x3BFE, 0xFBFF),
        // Between the threshold and 65536 (infinity), and just below it (65504).
        (0x4E00, 0x3C00, 0x7BFF),
        (0xCE00, 0x3C00, 0xFBFF),
        (0x4BFF, 0x3C00, 0x7BFF),
        (0x4C00, 0x3C01, 0x7BFF),
        // Subnormal midpoints: 2^-25 between 0 and 2^-24, and 2^-25 (1 - 2^-20).
        (0x0001, 0x3800, 0x0000),
        (0x0001, 0x3800, 0x0001),
        (0x0401, 0x1BFE, 0x0001),
        (0x0401, 0x1BFE, 0x8002),
        // Specials.
        (0x7C00, 0x0000, 0x3C00),
        (0x7C00, 0x3C00, 0xFC00),
        (0x7C01, 0x3C00, 0x3C00),
        (0x3C00, 0x3C00, 0xFE01),
        (0x8000, 0x3C00, 0x0000),
        (0x8000, 0x3C00, 0x8000),
        (0x3C00, 0xBC00, 0x3C00),
    ];
    for &(x, w, c) in cases {
        let w_row = [w; COLS];
        let acc = [c; COLS];
        check_beat(&[x], &w_row, &acc);
        // The named bits, so a wrong oracle cannot pass silently.
        assert_eq!(ap_fma(x, w, c), reference::fma(x, w, c));
    }
    assert_eq!(ap_fma(0x1001, 0x3BFE, 0x3C01), 0x3C01);
    assert_eq!(ap_fma(0x4C01, 0x3BFE, 0x7BFF), 0x7BFF);
    assert_eq!(ap_fma(0x4C00, 0x3C00, 0x7BFF), 0x7C00);
    assert_eq!(ap_fma(0x4E00, 0x3C00, 0x7BFF), 0x7C00);
    // An overflowed accumulator stays infinite in the next step: 65504 + 24 * 1 = inf,
    // inf - 1 * 65504 = inf (a kernel holding 65536 would give 32).
    let x = [0x4E00, 0xBC00];
    let w: Vec<u16> = [[0x3C00; COLS], [0x7BFF; COLS]].concat();
    let view = Fp16View {
        data: &w,
        stride: COLS,
    };
    for kernel in [Kernel::Auto, Kernel::Avx2, Kernel::Portable] {
        let mut z = [0u16; COLS];
        z_row_with(kernel, Op::Gemm, &x, view, &[0x7BFF; COLS], &mut z).unwrap();
        assert_eq!(z, [0x7C00; COLS], "{kernel:?}");
    }
    assert_eq!(ap_fma(0x4BFF, 0x3C00, 0x7BFF), 0x7BFF);
}

/// Long chains (NaN and infinity propagation, canonicalisation at the end, chunked N).
#[test]
fn random_chains_fast_portable_reference() {
    let mut r = rng(202);
    for case in 0..300 {
        let n = 1 + (r.next_u64() % 40) as usize;
        let cols = [1, 7, 8, 9, 16, 17, 24, 27, 40, 32, 64, 96, 128, 131, 163][case % 15];
        let stride = cols + (r.next_u64() % 3) as usize;
        // Moderate values most of the time so long chains do not saturate at once.
        let val = |r: &mut rand_pcg::Pcg64| {
            let v = gen(r);
            if r.next_u64().is_multiple_of(4) {
                v
            } else {
                (v & 0x83FF) | 0x3000 | ((v & 0x0C00) >> 1)
            }
        };
        let x: Vec<u16> = (0..n).map(|_| val(&mut r)).collect();
        let w: Vec<u16> = (0..n * stride).map(|_| val(&mut r)).collect();
        let y: Vec<u16> = (0..cols).map(|_| gen(&mut r)).collect();
        let view = Fp16View { data: &w, stride };
        for op in Op::ALL {
            let mut fast = vec![0u16; cols];
            let mut avx2 = vec![0u16; cols];
            let mut port = vec![0u16; cols];
            let yv: &[u16] = if op.uses_y() { &y } else { &[] };
            z_row_with(Kernel::Auto, op, &x, view, yv, &mut fast).unwrap();
            z_row_with(Kernel::Avx2, op, &x, view, yv, &mut avx2).unwrap();
            z_row_with(Kernel::Portable, op, &x, view, yv, &mut port).unwrap();
            for c in 0..cols {
                let mut want = op.initial_acc(yv.get(c).copied().unwrap_or(0));
                for (i, &xv) in x.iter().enumerate() {
                    want = reference::step(op, want, xv, w[i * stride + c]);
                }
                assert_eq!(fast[c], want, "{op:?} case {case} col {c} fast");
                assert_eq!(avx2[c], want, "{op:?} case {case} col {c} avx2");
                assert_eq!(port[c], want, "{op:?} case {case} col {c} portable");
            }
            // Chunked accumulation gives the same bits.
            let mut chunked: Vec<u16> = (0..cols).map(|c| op.initial_acc(y[c])).collect();
            let split = (r.next_u64() as usize) % (n + 1);
            let xv = Fp16View {
                data: &x,
                stride: n,
            };
            accumulate_with(Kernel::Auto, op, &mut chunked, cols, xv, view, 0..split).unwrap();
            accumulate_with(Kernel::Auto, op, &mut chunked, cols, xv, view, split..n).unwrap();
            if split > 0 && split < n {
                // A NaN mid-chain is canonical either way, so the bits agree.
                assert_eq!(chunked, fast, "{op:?} case {case} chunked at {split}");
            }
        }
    }
}

#[test]
fn whole_gemms_every_op_and_format() {
    let mut r = rng(203);
    for fmt in Format::ALL {
        for op in Op::ALL {
            for _ in 0..6 {
                let dims = Dims {
                    m: 1 + (r.next_u64() % 12) as usize,
                    n: (r.next_u64() % 33) as usize,
                    k: 1 + (r.next_u64() % 40) as usize,
                };
                let x = random_bytes(&mut r, fmt, dims.m * dims.n);
                let w = random_bytes(&mut r, fmt, dims.n * dims.k);
                let y = random_bytes(&mut r, fmt, dims.m * dims.k);
                let slow = reference::gemm(op, fmt, dims, &x, &w, &y).unwrap();
                for kernel in [Kernel::Auto, Kernel::Avx2, Kernel::Portable] {
                    let got = gemm_with(kernel, op, fmt, dims, &x, &w, &y).unwrap();
                    assert_eq!(got, slow, "{op:?} {fmt:?} {dims:?} {kernel:?}");
                }
            }
        }
    }
}

/// Several rows of a tile at once (`accumulate`), as RedMulE's model computes a tile: the
/// host's FP16 FMA takes four rows at a time when a row has at most 32 columns; against the
/// other kernels and the reference, with specials, over every remainder of rows.
#[test]
fn tile_rows_together() {
    let mut r = rng(205);
    for case in 0..400 {
        let rows = 1 + case % 13;
        let cols = [1, 5, 8, 16, 17, 31, 32, 33][(case / 13) % 8];
        let n = (r.next_u64() % 40) as usize;
        let stride = cols + (r.next_u64() % 3) as usize;
        let x: Vec<u16> = (0..rows * n).map(|_| gen(&mut r)).collect();
        let w: Vec<u16> = (0..n.max(1) * stride).map(|_| gen(&mut r)).collect();
        let init: Vec<u16> = (0..rows * cols).map(|_| gen(&mut r)).collect();
        let xv = Fp16View {
            data: &x,
            stride: n,
        };
        let wv = Fp16View { data: &w, stride };
        for op in [Op::Gemm, Op::Matmul] {
            let mut want = init.clone();
            for (i, a) in want.iter_mut().enumerate() {
                let (row, c) = (i / cols, i % cols);
                for s in 0..n {
                    *a = reference::step(op, *a, x[row * n + s], w[s * stride + c]);
                }
            }
            for kernel in [Kernel::Auto, Kernel::Avx2, Kernel::Portable] {
                let mut got = init.clone();
                accumulate_with(kernel, op, &mut got, cols, xv, wv, 0..n).unwrap();
                assert_eq!(
                    got, want,
                    "{op:?} {kernel:?} case {case}: {rows} x {cols}, n {n}"
                );
            }
        }
    }
}
