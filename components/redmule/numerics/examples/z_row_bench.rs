//! Micro-benchmark of `z_row_with` on RedMulE's shape (16 columns, N = 128), every kernel.
//! Prints wall time per FMA; for repeatable numbers run it under `valgrind --tool=callgrind`.
//!
//! `cargo run --release -p redmule-numerics --example z_row_bench [rows [op code]]`

use redmule_numerics::{z_row_with, Fp16View, Kernel, Op};
use std::time::Instant;

fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let op = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .and_then(Op::from_code)
        .unwrap_or(Op::Gemm);
    let (n, cols) = (128usize, 16usize);
    // Deterministic moderate FP16 values in [0.5, 2) with both signs (an LCG).
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let v = (s >> 33) as u16;
        (v & 0x83FF) | 0x3800 | ((v >> 4) & 0x0400)
    };
    let x: Vec<u16> = (0..n).map(|_| next()).collect();
    let w: Vec<u16> = (0..n * cols).map(|_| next()).collect();
    let y: Vec<u16> = (0..cols).map(|_| next()).collect();
    let view = Fp16View {
        data: &w,
        stride: cols,
    };
    println!(
        "{op:?}; vector kernel available: {}, FP16 FMA: {}",
        Kernel::simd_available(),
        Kernel::fp16_fma_available()
    );
    for kernel in [Kernel::Auto, Kernel::Avx2, Kernel::Portable] {
        let mut z = vec![0u16; cols];
        let mut check = 0u64;
        let t0 = Instant::now();
        for _ in 0..rows {
            z_row_with(kernel, op, &x, view, &y, &mut z).expect("shapes are consistent");
            check = check.wrapping_add(z.iter().map(|&v| u64::from(v)).sum::<u64>());
        }
        let dt = t0.elapsed().as_secs_f64();
        let fmas = (rows * n * cols) as f64;
        println!(
            "{kernel:?}: {:.3} ns per FMA, {:.1} ns per z_row ({rows} rows, checksum {check})",
            dt / fmas * 1e9,
            dt / rows as f64 * 1e9
        );
    }
}
