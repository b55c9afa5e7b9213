//! GEMM-Ops: hand-computed small matrices for every op, and fast path == reference path on
//! random matrices for every op and format.

mod common;

use common::*;
use half::f16;
use rand_core::Rng;
use redmule_numerics::{
    accumulate, accumulate_w_row, decode_arith, fp16, gemm, gemm_rtl_padded, reference,
    rtl_padding_steps, z_row, ArithError, Dims, Format, Fp16View, Op, ShapeError,
};

fn h(v: f32) -> u16 {
    f16::from_f32(v).to_bits()
}

fn pack16(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|&x| h(x).to_le_bytes()).collect()
}

fn unpack16(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(2)
        .map(|c| f16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32())
        .collect()
}

// X (2x3), W (3x2), Y (2x2) with values exact in FP16.
const X: [f32; 6] = [1.0, 2.0, -3.0, 0.5, -1.0, 4.0];
const W: [f32; 6] = [2.0, -1.0, 0.5, 3.0, 1.0, -2.0];
const Y: [f32; 4] = [10.0, -10.0, 0.0, 1.0];
const DIMS: Dims = Dims { m: 2, n: 3, k: 2 };

#[test]
fn hand_computed_every_op() {
    // Worked by hand, element by element (see the op table in Op::ce_config):
    let cases: [(Op, [f32; 4]); 8] = [
        // x*w chains from +0: [2+1-3, -1+6+6], [1-0.5+4, -0.5-3-8]
        (Op::Matmul, [0.0, 11.0, 4.5, -11.5]),
        (Op::Gemm, [10.0, 1.0, 4.5, -10.5]),
        // x+w: r0c0 {3, 2.5, -2}, r0c1 {0, 5, -5}, r1c0 {2.5, -0.5, 5}, r1c1 {-0.5, 2, 2}
        (Op::AddMax, [10.0, 5.0, 5.0, 2.0]),
        (Op::AddMin, [-2.0, -10.0, -0.5, -0.5]),
        // x*w: r0c0 {2, 1, -3}, r0c1 {-1, 6, 6}, r1c0 {1, -0.5, 4}, r1c1 {-0.5, -3, -8}
        (Op::MulMax, [10.0, 6.0, 4.0, 1.0]),
        (Op::MulMin, [-3.0, -10.0, -0.5, -8.0]),
        // max(x,w): r0c0 {2, 2, 1}, r0c1 {1, 3, -2}, r1c0 {2, 0.5, 4}, r1c1 {0.5, 3, 4}
        (Op::MaxMin, [1.0, -10.0, 0.0, 0.5]),
        // min(x,w): r0c0 {1, 0.5, -3}, r0c1 {-1, 2, -3}, r1c0 {0.5, -1, 1}, r1c1 {-1, -1, -2}
        (Op::MinMax, [10.0, 2.0, 1.0, 1.0]),
    ];
    for (op, want) in cases {
        let y = if op == Op::Matmul {
            Vec::new()
        } else {
            pack16(&Y)
        };
        let z = gemm(op, Format::Fp16, DIMS, &pack16(&X), &pack16(&W), &y).unwrap();
        assert_eq!(unpack16(&z), want, "{op:?}");
        let zr = reference::gemm(op, Format::Fp16, DIMS, &pack16(&X), &pack16(&W), &y).unwrap();
        assert_eq!(z, zr, "{op:?}");
    }
    // MATMUL's exact cancellation 2 + 1 - 3 from +0 is +0, not -0.
    let z = gemm(
        Op::Matmul,
        Format::Fp16,
        DIMS,
        &pack16(&X),
        &pack16(&W),
        &[],
    )
    .unwrap();
    assert_eq!(&z[0..2], &[0, 0]);
    // MATMUL ignores a supplied Y.
    let z2 = gemm(
        Op::Matmul,
        Format::Fp16,
        DIMS,
        &pack16(&X),
        &pack16(&W),
        &pack16(&Y),
    );
    assert_eq!(z2.unwrap(), z);
}

#[test]
fn one_rounding_per_step() {
    // 0 + 1 = 1; 1 + 2^-11 ties to even (1); again 1. A wide accumulator would give 1 + 2^-10.
    let dims = Dims { m: 1, n: 3, k: 1 };
    let x = pack16(&[1.0, 2f32.powi(-11), 2f32.powi(-11)]);
    let w = pack16(&[1.0, 1.0, 1.0]);
    let z = gemm(Op::Gemm, Format::Fp16, dims, &x, &w, &pack16(&[0.0])).unwrap();
    assert_eq!(z, 0x3C00u16.to_le_bytes());
    // Ascending n: putting the small terms first gives 2^-10 + 1 = 1 + 2^-10 exactly.
    let x = pack16(&[2f32.powi(-11), 2f32.powi(-11), 1.0]);
    let z = gemm(Op::Gemm, Format::Fp16, dims, &x, &w, &pack16(&[0.0])).unwrap();
    assert_eq!(z, 0x3C01u16.to_le_bytes());
}

#[test]
fn nan_handling_in_ops() {
    let dims = Dims { m: 1, n: 2, k: 1 };
    let nan = 0x7C01u16; // signalling NaN with payload
    let x: Vec<u8> = [nan, h(1.0)].iter().flat_map(|v| v.to_le_bytes()).collect();
    let w = pack16(&[1.0, 1.0]);
    let y = pack16(&[-5.0]);
    let run = |op| gemm(op, Format::Fp16, dims, &x, &w, &y).unwrap();
    // FMA chain: NaN operand -> canonical NaN, which then stays NaN.
    assert_eq!(run(Op::Gemm), 0x7E00u16.to_le_bytes());
    // min/max drop the NaN candidate: max(-5, NaN+1, 1+1) = 2; min(-5, NaN, 2) = -5.
    assert_eq!(unpack16(&run(Op::AddMax)), [2.0]);
    assert_eq!(unpack16(&run(Op::AddMin)), [-5.0]);
    // max(x, w) with x NaN returns w = 1: min(-5, 1, 1) = -5; min(x,w) likewise: max(-5,1,1)=1.
    assert_eq!(unpack16(&run(Op::MaxMin)), [-5.0]);
    assert_eq!(unpack16(&run(Op::MinMax)), [1.0]);
    // A NaN Y is dropped by the first min/max step.
    let ynan = 0xFE12u16.to_le_bytes();
    let z = gemm(
        Op::MulMax,
        Format::Fp16,
        dims,
        &pack16(&[3.0, 2.0]),
        &w,
        &ynan,
    )
    .unwrap();
    assert_eq!(unpack16(&z), [3.0]);
    // With N = 0, Z is Y unchanged (FP16 is not cast, so the payload survives).
    let d0 = Dims { m: 1, n: 0, k: 1 };
    assert_eq!(
        gemm(Op::AddMax, Format::Fp16, d0, &[], &[], &ynan).unwrap(),
        ynan
    );
    assert_eq!(
        gemm(Op::Matmul, Format::Fp16, d0, &[], &[], &[]).unwrap(),
        [0, 0]
    );
}

#[test]
fn fp8_formats_hand_computed() {
    // E4M3: 1.0 * 240 + 16 = 256 in FP16, which overflows E4M3 (max 240) to +inf (0x78).
    let d = Dims { m: 1, n: 1, k: 1 };
    let z = gemm(Op::Gemm, Format::Fp8E4M3, d, &[0x38], &[0x77], &[0x58]).unwrap();
    assert_eq!(z, [0x78]);
    // 1.0 * 224 + 8 = 232, the midpoint of 224 (0x76, mantissa 110) and 240 (0x77, mantissa
    // 111): ties to the even mantissa, 224.
    let z = gemm(Op::Gemm, Format::Fp8E4M3, d, &[0x38], &[0x76], &[0x50]).unwrap();
    assert_eq!(z, [0x76]);
    // E5M2: 1.5 * 1.5 = 2.25 -> 2.0 (0x40) in E5M2 (ulp 0.5 at 2, 2.25 ties to even 2.0).
    let z = gemm(Op::Matmul, Format::Fp8E5M2, d, &[0x3E], &[0x3E], &[]).unwrap();
    assert_eq!(z, [0x40]);
    // E5M2 NaN input becomes the canonical NaN; in MULMIN it is dropped: min(Y=1, NaN) = 1.
    let z = gemm(Op::MulMin, Format::Fp8E5M2, d, &[0x7F], &[0x3C], &[0x3C]).unwrap();
    assert_eq!(z, [0x3C]);
    // Packed one byte per element: 2x2 E4M3 matmul by the identity.
    let d = Dims { m: 2, n: 2, k: 2 };
    let x = [0x38, 0x40, 0xC0, 0x01]; // 1, 2, -2, 2^-9
    let id = [0x38, 0x00, 0x00, 0x38];
    assert_eq!(
        gemm(Op::Matmul, Format::Fp8E4M3, d, &x, &id, &[]).unwrap(),
        x
    );
}

#[test]
fn fast_equals_reference_random() {
    let mut r = rng(50);
    for fmt in Format::ALL {
        for op in Op::ALL {
            for _ in 0..40 {
                let dims = Dims {
                    m: 1 + (r.next_u64() % 13) as usize,
                    n: (r.next_u64() % 21) as usize,
                    k: 1 + (r.next_u64() % 17) as usize,
                };
                let x = random_bytes(&mut r, fmt, dims.m * dims.n);
                let w = random_bytes(&mut r, fmt, dims.n * dims.k);
                let y = if op.uses_y() || r.next_u64().is_multiple_of(2) {
                    random_bytes(&mut r, fmt, dims.m * dims.k)
                } else {
                    Vec::new()
                };
                let fast = gemm(op, fmt, dims, &x, &w, &y).unwrap();
                let slow = reference::gemm(op, fmt, dims, &x, &w, &y).unwrap();
                assert_eq!(fast, slow, "{op:?} {fmt:?} {dims:?}");
            }
        }
    }
}

#[test]
fn step_fast_equals_reference_random() {
    let mut r = rng(60);
    for i in 0..200_000 {
        let (acc, x, w) = (gen(&mut r), gen(&mut r), gen(&mut r));
        let op = Op::ALL[i % 8];
        assert_eq!(
            op.step(acc, x, w),
            reference::step(op, acc, x, w),
            "{op:?} step({acc:#06x}, {x:#06x}, {w:#06x})"
        );
    }
}

/// The streaming helpers give the same bits as the whole-matrix path, however N is chunked.
#[test]
fn tile_helpers_match_gemm() {
    let mut r = rng(70);
    let (m, n, k) = (12usize, 37usize, 16usize);
    let dims = Dims { m, n, k };
    for op in Op::ALL {
        let x: Vec<u16> = (0..m * n).map(|_| gen(&mut r)).collect();
        let w: Vec<u16> = (0..n * k).map(|_| gen(&mut r)).collect();
        let y: Vec<u16> = (0..m * k).map(|_| gen(&mut r)).collect();
        let bytes = |v: &[u16]| Format::Fp16.encode_slice(v);
        let want = Format::Fp16.decode_slice(
            &gemm(op, Format::Fp16, dims, &bytes(&x), &bytes(&w), &bytes(&y)).unwrap(),
        );
        let init: Vec<u16> = y.iter().map(|&v| op.initial_acc(v)).collect();

        // One W row per beat, as the CE array consumes it.
        let mut acc = init.clone();
        for nn in 0..n {
            let x_col: Vec<u16> = (0..m).map(|row| x[row * n + nn]).collect();
            accumulate_w_row(op, &mut acc, &x_col, &w[nn * k..(nn + 1) * k]).unwrap();
        }
        assert_eq!(acc, want, "{op:?} accumulate_w_row");

        // Uneven chunks of N, on a 12 x 8 sub-tile at column 8 (views offset into W).
        let mut acc: Vec<u16> = (0..m)
            .flat_map(|row| init[row * k + 8..row * k + 16].to_vec())
            .collect();
        let xv = Fp16View {
            data: &x,
            stride: n,
        };
        let wv = Fp16View {
            data: &w[8..],
            stride: k,
        };
        for range in [0..5, 5..6, 6..16, 16..16, 16..37] {
            accumulate(op, &mut acc, 8, xv, wv, range).unwrap();
        }
        for row in 0..m {
            assert_eq!(acc[row * 8..row * 8 + 8], want[row * k + 8..row * k + 16]);
        }

        // Row helper.
        let mut z = vec![0u16; k];
        for row in 0..m {
            let y_row: &[u16] = if op.uses_y() {
                &y[row * k..(row + 1) * k]
            } else {
                &[]
            };
            let wv = Fp16View {
                data: &w,
                stride: k,
            };
            z_row(op, &x[row * n..(row + 1) * n], wv, y_row, &mut z).unwrap();
            assert_eq!(z, want[row * k..(row + 1) * k], "{op:?} z_row {row}");
        }
    }
}

#[test]
fn rtl_padding() {
    assert_eq!(rtl_padding_steps(0), 0);
    assert_eq!(rtl_padding_steps(1), 3);
    assert_eq!(rtl_padding_steps(3), 1);
    assert_eq!(rtl_padding_steps(4), 0);
    assert_eq!(rtl_padding_steps(6), 2);
    // N = 3: ADDMAX of all-negative sums gets the padded +0 candidate.
    let d = Dims { m: 1, n: 3, k: 1 };
    let x = pack16(&[-1.0, -2.0, -3.0]);
    let w = pack16(&[-1.0, -1.0, -1.0]);
    let y = pack16(&[-100.0]);
    let intended = gemm(Op::AddMax, Format::Fp16, d, &x, &w, &y).unwrap();
    assert_eq!(unpack16(&intended), [-2.0]);
    let rtl = gemm_rtl_padded(Op::AddMax, Format::Fp16, d, &x, &w, &y).unwrap();
    assert_eq!(rtl, [0, 0]);
    // GEMM: only a -0 result changes.
    let x = pack16(&[-0.0, 0.0, 0.0]);
    let w = pack16(&[1.0, 1.0, 1.0]);
    let y = (0x8000u16).to_le_bytes();
    let intended = gemm(Op::Gemm, Format::Fp16, d, &x, &w, &y).unwrap();
    assert_eq!(intended, [0x00, 0x00]); // -0 + +0 = +0 already at n = 1
    let x = pack16(&[-0.0, -0.0, -0.0]);
    let intended = gemm(Op::Gemm, Format::Fp16, d, &x, &w, &y).unwrap();
    assert_eq!(intended, 0x8000u16.to_le_bytes());
    let rtl = gemm_rtl_padded(Op::Gemm, Format::Fp16, d, &x, &w, &y).unwrap();
    assert_eq!(rtl, [0x00, 0x00]);
    // N a multiple of 4: identical.
    let d4 = Dims { m: 1, n: 4, k: 1 };
    let x4 = pack16(&[-1.0, -2.0, -3.0, -4.0]);
    let w4 = pack16(&[-1.0; 4]);
    assert_eq!(
        gemm(Op::AddMax, Format::Fp16, d4, &x4, &w4, &pack16(&[-100.0])),
        gemm_rtl_padded(Op::AddMax, Format::Fp16, d4, &x4, &w4, &pack16(&[-100.0]))
    );
}

#[test]
fn shape_errors_and_codes() {
    let d = Dims { m: 2, n: 2, k: 2 };
    let ok = vec![0u8; 8];
    assert!(gemm(Op::Gemm, Format::Fp16, d, &ok, &ok, &ok).is_ok());
    assert!(matches!(
        gemm(Op::Gemm, Format::Fp16, d, &ok[..7], &ok, &ok),
        Err(ShapeError::Length {
            what: "x",
            expected: 8,
            got: 7
        })
    ));
    assert!(gemm(Op::Gemm, Format::Fp16, d, &ok, &ok, &[]).is_err());
    assert!(gemm(Op::Matmul, Format::Fp16, d, &ok, &ok, &[]).is_ok());
    assert!(gemm(Op::Matmul, Format::Fp16, d, &ok, &ok, &ok[..3]).is_err());
    assert!(gemm(Op::Gemm, Format::Fp8E5M2, d, &ok[..4], &ok[..4], &ok[..4]).is_ok());
    let huge = Dims {
        m: usize::MAX,
        n: 2,
        k: 2,
    };
    assert_eq!(
        gemm(Op::Gemm, Format::Fp16, huge, &ok, &ok, &ok),
        Err(ShapeError::Overflow)
    );
    // MATMUL with N = 0 needs no X, W or Y, but Z must still be allocatable.
    let wide = Dims {
        m: usize::MAX / 2,
        n: 0,
        k: 2,
    };
    assert_eq!(
        gemm(Op::Matmul, Format::Fp16, wide, &[], &[], &[]),
        Err(ShapeError::Overflow)
    );
    let mut acc = vec![0u16; 6];
    assert!(accumulate_w_row(Op::Gemm, &mut acc, &[0; 2], &[0; 2]).is_err());
    let v = Fp16View {
        data: &[0; 4],
        stride: 2,
    };
    assert!(accumulate(Op::Gemm, &mut acc, 4, v, v, 0..1).is_err()); // 6 % 4 != 0
    assert!(accumulate(Op::Gemm, &mut acc, 3, v, v, 0..3).is_err()); // views too short
    assert!(accumulate(Op::Gemm, &mut acc, 3, v, v, 0..0).is_ok());
    let mut z = [0u16; 2];
    assert!(z_row(Op::Gemm, &[0; 2], v, &[0; 1], &mut z).is_err());

    for code in 0..8 {
        assert_eq!(Op::from_code(code).map(Op::code), Some(code));
    }
    assert_eq!(Op::from_code(8), None);
    assert_eq!(
        decode_arith((1 << 10) | (1 << 7)),
        Ok((Op::Gemm, Format::Fp16))
    );
    assert_eq!(
        decode_arith((7 << 10) | (2 << 7)),
        Ok((Op::MinMax, Format::Fp8E4M3))
    );
    assert_eq!(decode_arith(3 << 7), Err(ArithError::UnsupportedFormat(3)));
    // The RTL's format field is 2 bits wide: bit 9 is ignored.
    assert_eq!(decode_arith(4 << 7), Ok((Op::Matmul, Format::Fp8E5M2)));
    assert_eq!(Op::Matmul.initial_acc(0xBC00), fp16::POS_ZERO);
    assert_eq!(Op::AddMin.initial_acc(0xBC00), 0xBC00);
}

/// Arbitrary (also inconsistent) shapes, strides and ranges give `Ok` or `Err`, never a panic.
#[test]
fn helpers_never_panic_on_any_shape() {
    let mut r = rng(80);
    let data: Vec<u16> = (0..64).map(|_| gen(&mut r)).collect();
    let mut pick = |lim: u64| -> usize {
        let v = r.next_u64();
        match v % 10 {
            0 => usize::MAX - (v >> 60) as usize,
            _ => (v >> 8) as usize % lim as usize,
        }
    };
    for _ in 0..20_000 {
        let op = Op::ALL[pick(8).min(7)];
        let acc_len = pick(40).min(40);
        let mut acc = vec![0u16; acc_len];
        let cols = pick(12);
        let xv = Fp16View {
            data: &data[..pick(64).min(64)],
            stride: pick(20),
        };
        let wv = Fp16View {
            data: &data[..pick(64).min(64)],
            stride: pick(20),
        };
        let (a, b) = (pick(30), pick(30));
        let _ = accumulate(op, &mut acc, cols, xv, wv, a..b);
        let xc = &data[..pick(8).min(8)];
        let wr = &data[..pick(8).min(8)];
        let _ = accumulate_w_row(op, &mut acc, xc, wr);
        let mut z = vec![0u16; pick(10).min(10)];
        let y = &data[..pick(10).min(10)];
        let _ = z_row(op, xc, wv, y, &mut z);
        let dims = Dims {
            m: pick(5),
            n: pick(5),
            k: pick(5),
        };
        let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        for fmt in Format::ALL {
            let l = |n: usize| &bytes[..n.min(bytes.len())];
            let _ = gemm(op, fmt, dims, l(pick(50)), l(pick(50)), l(pick(50)));
            let _ = reference::gemm(op, fmt, dims, l(pick(50)), l(pick(50)), l(pick(50)));
        }
    }
}
