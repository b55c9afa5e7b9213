//! Vector kernels for FP16 FMA chains (x86_64 with AVX2 + FMA + F16C, detected at run time;
//! MATMUL/GEMM chains on the host's own FP16 FMA where it has AVX512-FP16, see [`fma_chain`]).
//!
//! # Why `f32` FMA plus a midpoint check is bit-exact
//!
//! Every step is `acc = RN16(x * w + acc)` on FP16 values (RN16 = round to FP16, nearest-even,
//! gradual underflow, overflow to infinity). The kernel keeps the accumulator as an `f32`
//! holding an FP16 value and computes, for 8 columns at once:
//!
//! 1. `t = fmaf32(x, w, acc)`. The FP16 inputs are exact in `f32` and `x * w` has at most 22
//!    significant bits, so `t = RN24(v)` where `v` is the exact value, rounded once. `f32`
//!    never overflows or underflows here: `|v| <= 2^32`, and a non-zero `|v|` is at least
//!    `2^-48` (both terms are multiples of `2^-48`), far above `f32`'s subnormal range. So `t`
//!    is NaN exactly when `v` is (a NaN input, `inf * 0`, `inf - inf`), infinite exactly when
//!    an input is, zero exactly when `v` is (with the IEEE sign of an exact zero, the same
//!    rule fpnew applies), and otherwise has the sign of `v`.
//! 2. `r = RN16(t)`, by the fast or the slow step below, is the new accumulator (exactly an
//!    FP16 value, or an infinity or NaN).
//!
//! `r == RN16(v)` unless `t` is an FP16 rounding midpoint or `|t| >= 65520`: every FP16
//! number and every midpoint between two consecutive FP16 numbers (down to `2^-25` between
//! `0` and the smallest subnormal, up to the overflow threshold `65520`) is an `f32` number.
//! RN16 is constant on each open interval between consecutive midpoints, and RN24 is monotone
//! and leaves `f32` numbers (so the interval ends) fixed. If `v` is inside such an interval,
//! `t` is inside its closure; if `t` is not an end point it is inside the same open interval
//! and rounds like `v`. If `v` is itself a midpoint, `t = v` is one too. Beyond the threshold
//! (`|v| >= 65520`, `|t| >= 65520`) both round to infinity, except that `t = 65520` may come
//! from a `v` just below it (which rounds to 65504), hence the threshold is treated like a
//! midpoint.
//!
//! **Fast step** (the loop-carried path): when `2^-14 <= |t| < 65520` (normal FP16 range) and
//! `t` is not a midpoint, `RN16(t)` is `t` rounded to 10 fraction bits, half away from zero,
//! on the raw bits: `bits(r) = (bits(t) + 0x1000) & !0x1FFF` (a carry moves into the exponent,
//! which is the right next binade; `t < 65520` ends at most at 65504). In that range the 13
//! dropped bits of a midpoint are exactly `0x1000`. So each step costs an FMA and two integer
//! operations on the dependency chain, plus a few compares off it. The checks of a block of
//! 8 steps are gathered (no branch per step); a block with a lane that was not fine is done
//! again from its start, step by step, each step taking the slow step where needed.
//!
//! **Slow step**, for a chunk where any lane is a midpoint or outside that range (FP16
//! subnormals and zeros, `|t| >= 65520`, infinities, NaN): `r = RN16(t)` with `vcvtps2ph`
//! (round-to-nearest-even immediate; subnormals, signed zeros, overflow, infinities and NaN
//! handled by the hardware), back to `f32` with `vcvtph2ps` (exact), and the lanes where `r`
//! may differ from `RN16(v)` found again with exact `f32` arithmetic: `d = t - r`,
//! `o = t + d = 2t - r`; a lane is *flagged* when `d != 0` (ordered) and `RN16(o) == o`.
//!
//! * `t` a midpoint: `o` is the other FP16 neighbour of `t`, an FP16 number: flagged.
//! * `t` an FP16 number: `d = 0`: not flagged.
//! * otherwise, `t` finite and `|t| < 65520`: `0 < |d| < ulp/2`, so `o = r + 2d` lies strictly
//!   between two consecutive FP16 numbers (or in `(65504, 65536)`), `RN16(o) != o`: not flagged.
//! * `65520 <= |t| < inf`: `r = ±inf`, `d = o = ∓inf`, `RN16(o) == o`: flagged (lanes beyond
//!   the threshold are flagged needlessly; they are rare and the fallback is exact).
//! * `t = ±inf`: `d` is NaN; `t` NaN: everything NaN: not flagged, and `r` is right (infinity,
//!   or a NaN that later steps keep NaN and the final store canonicalises to `0x7E00`).
//!
//! `d` and `o` are exact: `t` and `r` are both multiples of the `f32` quantum `q` of `t`
//! (`r` is a multiple of the FP16 quantum there, itself a multiple of `q`), `|d| <= 2^-11 |t|`
//! for normal `t` (and `|d| <= 2^-25` for FP16-subnormal `t`), so `d` needs few bits; `o` is a
//! multiple of `q` (of `2q` when `|o|` reaches the next binade, as `r` and `2d` both are)
//! below `2^(e+2)`, so it is representable too.
//!
//! Flagged lanes are recomputed with the exact scalar [`crate::fp16::fma`] from the FP16 inputs
//! (the accumulator lane converts back to FP16 exactly). NaNs are canonicalised (`0x7E00`)
//! only when the row is stored: once a step yields NaN, every later FMA step does too, so
//! only the final bits matter.
//!
//! In random data about one lane in 4000 is a midpoint (`redmule-vp bench gemm128` takes the
//! slow step in 0.3 % of its 8-lane steps); a chain that starts from or passes through zeros
//! or subnormals takes it more often, at the cost of a few more instructions, never of bits.

#![allow(unsafe_code)]

/// Whether the vector kernel can run on this host (cached by `std` after the first call).
#[inline]
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && std::is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the host has AVX512-FP16 (with AVX512F/BW): an FP16 FMA instruction, one rounding
/// to FP16 per step, which is the step itself (see [`fma_chain`]).
#[inline]
pub(crate) fn fp16_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512fp16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// FMA chain over a row of accumulators: for `i` in `0..x.len()` ascending and each column
/// `c < acc.len()`, `acc[c] = fp16::fma(x[i], w[i * stride + c], acc[c])`.
///
/// With `native` and a host with AVX512-FP16, the chain runs on the host's FP16 FMA
/// (`vfmadd231ph` with round-to-nearest-even embedded, so the MXCSR mode does not matter):
/// IEEE 754 fusedMultiplyAdd on binary16, the step by definition. FP16 subnormals are always
/// handled by these instructions (MXCSR's DAZ and FTZ do not apply to FP16), zeros get the
/// IEEE sign, overflow gives infinity; only NaNs differ (x86 propagates a quietened operand
/// or gives its default NaN), and they are canonicalised to `0x7E00` at the store, as in the
/// AVX2 kernel (once a step yields NaN every later step does too). Columns go in blocks of
/// 32 lanes, a row's last block masked to its columns.
///
/// Returns `false` (doing nothing) when no vector kernel is available or `w` is too short
/// for the shape; the caller then runs the portable path.
#[inline]
pub(crate) fn fma_chain(
    acc: &mut [u16],
    x: &[u16],
    w: &[u16],
    stride: usize,
    native: bool,
) -> bool {
    if x.is_empty() || acc.is_empty() {
        return true;
    }
    if !w_holds(w, x.len(), stride, acc.len()) || !available() {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if native && fp16_available() {
            // SAFETY: `fp16_available()` checked avx512f, avx512bw and avx512fp16.
            unsafe { x86::fma_chain_fp16(acc, x, w, stride) };
        } else {
            // SAFETY: `available()` checked that the CPU supports avx2, fma and f16c.
            unsafe { x86::fma_chain(acc, x, w, stride) };
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Does `w` hold `steps` rows of `cols` elements, `stride` elements apart (the last row's end
/// inside it)? False for no steps. The kernels' shape check before they index `w` unchecked.
#[inline]
fn w_holds(w: &[u16], steps: usize, stride: usize, cols: usize) -> bool {
    steps
        .checked_sub(1)
        .and_then(|l| l.checked_mul(stride))
        .and_then(|v| v.checked_add(cols))
        .is_some_and(|need| need <= w.len())
}

/// [`fma_chain`] for two rows at once on the AVX2 kernel (two independent dependency chains
/// sharing each W row): row `r` of `acc` takes the steps of `xs[r]`. Returns `false` (doing
/// nothing) unless the vector kernel is available, the rows have as many columns and steps,
/// and `w` holds them; the caller then runs each row.
#[inline]
pub(crate) fn fma_chain2(acc: [&mut [u16]; 2], xs: [&[u16]; 2], w: &[u16], stride: usize) -> bool {
    let (cols, steps) = (acc[0].len(), xs[0].len());
    if acc[1].len() != cols || xs[1].len() != steps {
        return false;
    }
    if cols == 0 || steps == 0 {
        return true;
    }
    if !w_holds(w, steps, stride, cols) || !available() {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `available()` checked that the CPU supports avx2, fma and f16c; the shape
        // was checked above.
        unsafe { x86::fma_chain2(acc, xs, w, stride) };
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`fma_chain`] for four rows at once on the host's FP16 FMA (four independent dependency
/// chains sharing each W row): row `r` of `acc` (`4 * cols` elements, packed) takes the steps
/// of `xs[r]`. Returns `false` (doing nothing) unless the host has AVX512-FP16, `cols` is 1 to
/// 32, the rows' steps are as many and `w` holds them; the caller then runs each row.
#[inline]
pub(crate) fn fma_chain4(
    acc: &mut [u16],
    cols: usize,
    xs: [&[u16]; 4],
    w: &[u16],
    stride: usize,
) -> bool {
    let steps = xs[0].len();
    if cols == 0 || cols > 32 || acc.len() != 4 * cols || xs.iter().any(|x| x.len() != steps) {
        return false;
    }
    if steps == 0 {
        return true;
    }
    if !w_holds(w, steps, stride, cols) || !fp16_available() {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `fp16_available()` checked avx512f, avx512bw and avx512fp16; the shape
        // was checked above.
        unsafe { x86::fma_chain4_fp16(acc, cols, xs, w, stride) };
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The other ops' chains (ADDMAX ... MINMAX): for `i` in `0..x.len()` ascending and each
/// column `c < acc.len()`, `acc[c] = op.step(acc[c], x[i], w[i * stride + c])`.
///
/// Stage 1 is exact or correctly rounded in `f32`: an FP16 product has at most 22 bits and is
/// exact, and `RN11(RN24(x + w)) == RN11(x + w)` (rounding to 11 bits, unbounded exponent)
/// because 24 >= 2 * 11 + 2 (the double rounding theorem). That covers overflow, which RN16
/// decides from the RN11 result (at least 2^16 becomes infinity), and a sum in FP16's
/// subnormal range is a multiple of 2^-24 and therefore exact. `f32` neither overflows nor
/// underflows on FP16 operands, so NaN, infinities and signed zeros
/// match IEEE. `vcvtps2ph` then rounds once to FP16. A stage-1 NaN needs no canonical form:
/// stage 2 (and MINMAX of stage 1) never passes a NaN operand through, it returns the other
/// operand or `0x7E00`. Min/max are fpnew's, on the raw bits (see [`crate::fp16::min`]).
///
/// Returns `false` (doing nothing) for MATMUL/GEMM, when the vector kernel is not available,
/// or when `w` is too short for the shape; the caller then runs the portable path.
#[inline]
pub(crate) fn minmax_chain(
    op: crate::Op,
    acc: &mut [u16],
    x: &[u16],
    w: &[u16],
    stride: usize,
) -> bool {
    if matches!(op, crate::Op::Matmul | crate::Op::Gemm) {
        return false;
    }
    if x.is_empty() || acc.is_empty() {
        return true;
    }
    if !w_holds(w, x.len(), stride, acc.len()) || !available() {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `available()` checked that the CPU supports avx2, fma and f16c.
        unsafe { x86::minmax_chain(op, acc, x, w, stride) };
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use crate::{fp16, Op};
    use std::arch::x86_64::*;

    /// `vcvtps2ph` immediate: round to nearest even (not the MXCSR mode).
    const RNE: i32 = _MM_FROUND_TO_NEAREST_INT;

    /// See [`super::fma_chain`]; requires `(x.len() - 1) * stride + acc.len() <= w.len()`.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) fn fma_chain(acc: &mut [u16], x: &[u16], w: &[u16], stride: usize) {
        let cols = acc.len();
        let mut c0 = 0;
        while c0 + 16 <= cols {
            chain::<2>(&mut acc[c0..c0 + 16], x, &w[c0..], stride);
            c0 += 16;
        }
        if c0 + 8 <= cols {
            chain::<1>(&mut acc[c0..c0 + 8], x, &w[c0..], stride);
            c0 += 8;
        }
        if c0 < cols {
            tail(&mut acc[c0..], x, &w[c0..], stride);
        }
    }

    /// The columns left after the blocks of 8, one by one (exact scalar steps).
    fn tail(acc: &mut [u16], x: &[u16], w: &[u16], stride: usize) {
        let n = acc.len();
        for (i, &xv) in x.iter().enumerate() {
            let off = i * stride;
            let xf = fp16::to_f64(xv);
            for (a, &wv) in acc.iter_mut().zip(&w[off..off + n]) {
                *a = fp16::fma_wide_a(xf, wv, *a);
            }
        }
    }

    /// See [`super::fma_chain2`]; requires both rows as long (`acc`) and as many steps (`xs`),
    /// and `(steps - 1) * stride + cols <= w.len()`.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) fn fma_chain2(acc: [&mut [u16]; 2], xs: [&[u16]; 2], w: &[u16], stride: usize) {
        let [a0, a1] = acc;
        let cols = a0.len();
        let mut c0 = 0;
        while c0 + 16 <= cols {
            let pair = [&mut a0[c0..c0 + 16], &mut a1[c0..c0 + 16]];
            chain2::<2>(pair, xs, &w[c0..], stride);
            c0 += 16;
        }
        if c0 + 8 <= cols {
            let pair = [&mut a0[c0..c0 + 8], &mut a1[c0..c0 + 8]];
            chain2::<1>(pair, xs, &w[c0..], stride);
            c0 += 8;
        }
        if c0 < cols {
            tail(&mut a0[c0..], xs[0], &w[c0..], stride);
            tail(&mut a1[c0..], xs[1], &w[c0..], stride);
        }
    }

    /// [`super::fma_chain`] on the host's FP16 FMA: up to four blocks of 32 columns at a time
    /// (independent dependency chains), the last block of a row masked to its columns.
    /// Requires `(x.len() - 1) * stride + acc.len() <= w.len()`.
    #[target_feature(enable = "avx512f,avx512bw,avx512fp16")]
    pub(super) fn fma_chain_fp16(acc: &mut [u16], x: &[u16], w: &[u16], stride: usize) {
        let cols = acc.len();
        let mut c0 = 0;
        while c0 < cols {
            let n = (cols - c0).min(128);
            let (a, w) = (&mut acc[c0..c0 + n], &w[c0..]);
            match n.div_ceil(32) {
                4 => chain_fp16::<4>(a, x, w, stride),
                3 => chain_fp16::<3>(a, x, w, stride),
                2 => chain_fp16::<2>(a, x, w, stride),
                _ => chain_fp16::<1>(a, x, w, stride),
            }
            c0 += n;
        }
    }

    /// See [`super::fma_chain4`]; requires `1 <= cols <= 32`, `acc.len() == 4 * cols`, the
    /// four rows' steps equally many (`steps`) and `(steps - 1) * stride + cols <= w.len()`.
    #[target_feature(enable = "avx512f,avx512bw,avx512fp16")]
    pub(super) fn fma_chain4_fp16(
        acc: &mut [u16],
        cols: usize,
        xs: [&[u16]; 4],
        w: &[u16],
        stride: usize,
    ) {
        let steps = xs[0].len();
        if !super::w_holds(w, steps, stride, cols)
            || cols == 0
            || cols > 32
            || acc.len() != 4 * cols
            || xs.iter().any(|x| x.len() != steps)
        {
            return;
        }
        let m = if cols == 32 {
            u32::MAX
        } else {
            (1u32 << cols) - 1
        };
        let mut a = [_mm512_setzero_si512(); 4];
        for (r, ar) in a.iter_mut().enumerate() {
            // SAFETY: row r's `cols` elements start at `r * cols`, inside `acc`; the masked
            // load reads only them.
            *ar = unsafe { _mm512_maskz_loadu_epi16(m, acc.as_ptr().add(r * cols).cast()) };
        }
        let mut off = 0usize;
        for i in 0..steps {
            // SAFETY: `off = i * stride` with `i < steps`, so `off + cols <= (steps - 1) *
            // stride + cols <= w.len()` (checked above): the pointer is inside `w` and the
            // masked load reads only `cols` elements.
            let wv = unsafe { _mm512_maskz_loadu_epi16(m, w.as_ptr().add(off).cast()) };
            for (ar, x) in a.iter_mut().zip(&xs) {
                let xb = _mm512_set1_epi16(x[i] as i16);
                fma_ph(ar, xb, wv);
            }
            off = off.wrapping_add(stride);
        }
        for (r, ar) in a.iter().enumerate() {
            let v = canonical_nan(*ar);
            // SAFETY: row r's `cols` elements start at `r * cols`, inside `acc`; the masked
            // store writes only them.
            unsafe { _mm512_mask_storeu_epi16(acc.as_mut_ptr().add(r * cols).cast(), m, v) };
        }
    }

    /// 32 FP16 lanes of `a = x * w + a`, each rounded once to FP16, nearest-even (embedded,
    /// so independent of MXCSR; exceptions suppressed): `vfmadd231ph`, inline because the
    /// AVX512-FP16 intrinsics are not stable.
    #[inline]
    #[target_feature(enable = "avx512f,avx512fp16")]
    fn fma_ph(a: &mut __m512i, x: __m512i, w: __m512i) {
        // SAFETY: an AVX512-FP16 instruction (the target feature is enabled) on registers
        // only.
        unsafe {
            std::arch::asm!(
                "vfmadd231ph {a}, {x}, {w}, {{rn-sae}}",
                a = inout(zmm_reg) *a,
                x = in(zmm_reg) x,
                w = in(zmm_reg) w,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
    }

    /// NaN lanes (magnitude above infinity's bits) of 32 FP16 lanes -> `0x7E00`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    fn canonical_nan(v: __m512i) -> __m512i {
        let nan = _mm512_cmpgt_epi16_mask(
            _mm512_and_si512(v, _mm512_set1_epi16(0x7FFF)),
            _mm512_set1_epi16(0x7C00),
        );
        _mm512_mask_mov_epi16(v, nan, _mm512_set1_epi16(fp16::CANONICAL_NAN as i16))
    }

    /// `K` blocks of up to 32 columns: `32 * (K - 1) < acc.len() <= 32 * K`,
    /// `w[i * stride ..][..acc.len()]` is W row `i`. Does nothing if `w` is shorter than that
    /// for some `i < x.len()`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512fp16")]
    fn chain_fp16<const K: usize>(acc: &mut [u16], x: &[u16], w: &[u16], stride: usize) {
        let n = acc.len();
        if !super::w_holds(w, x.len(), stride, n) || n <= 32 * (K - 1) || n > 32 * K {
            return;
        }
        // Lanes of each block that are columns (all 32 but in the last block).
        let mut m = [u32::MAX; K];
        let last = n - 32 * (K - 1);
        if last < 32 {
            m[K - 1] = (1u32 << last) - 1;
        }
        let mut a = [_mm512_setzero_si512(); K];
        for (k, ak) in a.iter_mut().enumerate() {
            // SAFETY: block k starts at column 32 k < n, inside `acc`; the masked load reads
            // only its columns (masked-off lanes are not accessed).
            *ak = unsafe { _mm512_maskz_loadu_epi16(m[k], acc.as_ptr().add(32 * k).cast()) };
        }
        let mut off = 0usize;
        for &xv in x {
            let xb = _mm512_set1_epi16(xv as i16);
            for (k, ak) in a.iter_mut().enumerate() {
                // SAFETY: `off = i * stride` for the step `i < x.len()`, and the block's
                // columns `32 k ..` below `n` give `off + 32 k + lanes <= (x.len() - 1) *
                // stride + n <= w.len()` (checked above): the pointer is inside `w` and the
                // masked load reads only those lanes.
                let wv =
                    unsafe { _mm512_maskz_loadu_epi16(m[k], w.as_ptr().add(off + 32 * k).cast()) };
                fma_ph(ak, xb, wv);
            }
            off = off.wrapping_add(stride);
        }
        for (k, ak) in a.iter().enumerate() {
            let v = canonical_nan(*ak);
            // SAFETY: block k starts at column 32 k < n, inside `acc`; the masked store writes
            // only its columns.
            unsafe { _mm512_mask_storeu_epi16(acc.as_mut_ptr().add(32 * k).cast(), m[k], v) };
        }
    }

    /// Loads 8 FP16 values (the first 8 of `s`) widened to `f32`.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn load8(s: &[u16]) -> __m256 {
        let s = &s[..8];
        // SAFETY: `s` holds 8 `u16` = 16 readable bytes; `loadu` has no alignment requirement.
        let h = unsafe { _mm_loadu_si128(s.as_ptr().cast()) };
        _mm256_cvtph_ps(h)
    }

    /// Rounds 8 lanes to FP16 (RNE) and widens them back.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn round16(v: __m256) -> __m256 {
        _mm256_cvtph_ps(_mm256_cvtps_ph::<RNE>(v))
    }

    /// The exact slow step of one chunk (see the module doc): `RN16(t)` by conversion, and the
    /// lanes whose `t` is a midpoint or beyond the overflow threshold recomputed by [`fix`].
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn slow_step(t: __m256, x: u16, w: &[u16], acc: __m256) -> __m256 {
        let r = round16(t);
        let d = _mm256_sub_ps(t, r);
        let o = _mm256_add_ps(t, d);
        let flag = _mm256_and_ps(
            _mm256_cmp_ps::<_CMP_EQ_OQ>(o, round16(o)),
            _mm256_cmp_ps::<_CMP_NEQ_OQ>(d, _mm256_setzero_ps()),
        );
        fix(r, flag, x, w, acc)
    }

    /// The fast-step constants (see the module doc).
    #[derive(Clone, Copy)]
    struct Consts {
        half: __m256i,
        keep: __m256i,
        low: __m256i,
        minus_one: __m256i,
        abs: __m256i,
        min_normal: __m256i,
        /// 65520 = 0x477F_F000; |t| in [2^-14, 65520) <=> bits(|t|) - 0x3880_0000 < SPAN.
        span_m1: __m256i,
        /// The same test on twice the bits ([`fast_step`]): `2 * min_normal` and `2 SPAN - 2`.
        min_normal2: __m256i,
        span2_m2: __m256i,
    }

    impl Consts {
        #[inline]
        #[target_feature(enable = "avx2,fma,f16c")]
        fn new() -> Self {
            Consts {
                half: _mm256_set1_epi32(0x1000),
                keep: _mm256_set1_epi32(!0x1FFF),
                low: _mm256_set1_epi32(0x1FFF),
                minus_one: _mm256_set1_epi32(-1),
                abs: _mm256_set1_epi32(0x7FFF_FFFF),
                min_normal: _mm256_set1_epi32(0x3880_0000), // 2^-14
                span_m1: _mm256_set1_epi32(0x477F_F000 - 0x3880_0000 - 1),
                min_normal2: _mm256_set1_epi32((2 * 0x3880_0000u32) as i32),
                span2_m2: _mm256_set1_epi32(2 * (0x477F_F000 - 0x3880_0000) - 2),
            }
        }
    }

    /// A block's X values (at most 8) widened to f32 (exact; any NaN stays a NaN).
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn widen8(xs: &[u16]) -> [f32; 8] {
        let mut xf = [0f32; 8];
        if xs.len() == 8 {
            let v = _mm256_cvtph_ps(load_bits8(xs));
            // SAFETY: `xf` has 8 `f32` = 32 writable bytes; no alignment requirement.
            unsafe { _mm256_storeu_ps(xf.as_mut_ptr(), v) };
        } else {
            for (f, &h) in xf.iter_mut().zip(xs) {
                *f = fp16::to_f64(h) as f32;
            }
        }
        xf
    }

    /// One fast step of 8 lanes: the new accumulator, its checks gathered into `mids` (the
    /// smallest `up & low`, 0 for a midpoint) and `ranges` (the largest range offset, doubled:
    /// at most `2 SPAN - 2` exactly for 2^-14 <= |t| < 65520, [`all_fine`]).
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn fast_step(
        c: &Consts,
        xb: __m256,
        wv: __m256,
        a: __m256,
        mids: &mut __m256i,
        ranges: &mut __m256i,
    ) -> __m256 {
        let tb = _mm256_castps_si256(_mm256_fmadd_ps(xb, wv, a));
        let up = _mm256_add_epi32(tb, c.half);
        *mids = _mm256_min_epu32(*mids, _mm256_and_si256(up, c.low));
        // Twice the range offset (the sign shifted out), wrapping: below 2 SPAN exactly in
        // range (an offset that wrapped, |t| < 2^-14, stays at least 2^32 - 2^30 > 2 SPAN).
        let range = _mm256_sub_epi32(_mm256_slli_epi32::<1>(tb), c.min_normal2);
        *ranges = _mm256_max_epu32(*ranges, range);
        _mm256_castsi256_ps(_mm256_andnot_si256(c.low, up))
    }

    /// Whether every step whose checks `mids` and `ranges` gathered was fine.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn all_fine(c: &Consts, mids: __m256i, ranges: __m256i) -> bool {
        let in_range = _mm256_cmpeq_epi32(_mm256_max_epu32(ranges, c.span2_m2), c.span2_m2);
        let midpoint = _mm256_cmpeq_epi32(mids, _mm256_setzero_si256());
        _mm256_movemask_epi8(in_range) == -1 && _mm256_movemask_epi8(midpoint) == 0
    }

    /// The steps of one block (`xs`, widened in `xf`) done one by one, each checked and
    /// taking the exact slow step where needed; W row of the first step at `w[off..]`.
    /// Requires `off + (xs.len() - 1) * stride + 8 * K <= w.len()`.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn exact_block<const K: usize>(
        c: &Consts,
        a: &mut [__m256; K],
        xs: &[u16],
        xf: &[f32; 8],
        w: &[u16],
        mut off: usize,
        stride: usize,
    ) {
        for (&xv, &xj) in xs.iter().zip(xf) {
            let row = &w[off..off + 8 * K];
            let xb = _mm256_set1_ps(xj);
            let mut t = [_mm256_setzero_ps(); K];
            let mut r = [_mm256_setzero_ps(); K];
            let mut bad = _mm256_setzero_si256();
            for k in 0..K {
                t[k] = _mm256_fmadd_ps(xb, load8(&row[8 * k..]), a[k]);
                let tb = _mm256_castps_si256(t[k]);
                // Round the magnitude to 10 fraction bits, half away from zero: RN16 for
                // every t in the normal FP16 range that is not a midpoint.
                let up = _mm256_add_epi32(tb, c.half);
                r[k] = _mm256_castsi256_ps(_mm256_and_si256(up, c.keep));
                // All ones for a midpoint (13 low bits 0x1000), else at most 0x1FFE.
                let mid = _mm256_add_epi32(_mm256_and_si256(up, c.low), c.minus_one);
                let range = _mm256_sub_epi32(_mm256_and_si256(tb, c.abs), c.min_normal);
                bad = _mm256_max_epu32(bad, _mm256_max_epu32(mid, range));
            }
            // Every lane fine <=> every lane of `bad` <= SPAN - 1 (SPAN > 0x1FFE).
            let fine = _mm256_cmpeq_epi32(_mm256_max_epu32(bad, c.span_m1), c.span_m1);
            if _mm256_movemask_epi8(fine) != -1 {
                for k in 0..K {
                    r[k] = slow_step(t[k], xv, &row[8 * k..8 * k + 8], a[k]);
                }
            }
            *a = r;
            off = off.wrapping_add(stride);
        }
    }

    /// `K` chunks of 8 columns: `acc.len() == 8 * K`, `w[i * stride ..][..8 * K]` is W row `i`.
    /// Does nothing if `w` is shorter than that for some `i < x.len()`.
    ///
    /// The steps of a block of 8 go on the fast path alone, their checks gathered over the
    /// block (no branch per step). If some lane of some step was not fine, the block's results
    /// are dropped and it is done again from its start by [`exact_block`]: the fast results up
    /// to a lane's first bad step are the same in both, so the block ends with the bits of the
    /// step-by-step path either way.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn chain<const K: usize>(acc: &mut [u16], x: &[u16], w: &[u16], stride: usize) {
        if !super::w_holds(w, x.len(), stride, 8 * K) || acc.len() != 8 * K {
            return;
        }
        let mut a = [_mm256_setzero_ps(); K];
        for (k, ak) in a.iter_mut().enumerate() {
            *ak = load8(&acc[8 * k..]);
        }
        let c = Consts::new();
        let mut off = 0usize;
        for xs in x.chunks(8) {
            let xf = widen8(xs);
            let a0 = a;
            let mut mids = c.minus_one;
            let mut ranges = _mm256_setzero_si256();
            let mut o = off;
            for &xj in &xf[..xs.len()] {
                let xb = _mm256_set1_ps(xj);
                for (k, ak) in a.iter_mut().enumerate() {
                    let p = w.as_ptr().wrapping_add(o + 8 * k);
                    // SAFETY: `o = i * stride` for the step `i < x.len()`, so
                    // `o + 8 * k + 8 <= (x.len() - 1) * stride + 8 * K <= w.len()` (checked
                    // above): the 16 bytes at `p` are inside `w`; no alignment requirement.
                    let wv = _mm256_cvtph_ps(unsafe { _mm_loadu_si128(p.cast()) });
                    *ak = fast_step(&c, xb, wv, *ak, &mut mids, &mut ranges);
                }
                o = o.wrapping_add(stride);
            }
            if !all_fine(&c, mids, ranges) {
                a = a0;
                exact_block::<K>(&c, &mut a, xs, &xf, w, off, stride);
            }
            off = o;
        }
        for (k, ak) in a.iter().enumerate() {
            store8(&mut acc[8 * k..8 * k + 8], *ak);
        }
    }

    /// [`chain`] for two rows sharing each W row (two independent dependency chains): row `r`
    /// of `acc` takes the steps of `xs[r]`. A block with a bad step in either row is done again
    /// row by row by [`exact_block`]. Does nothing unless both rows have `8 * K` columns and
    /// as many steps, and `w` holds them.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn chain2<const K: usize>(acc: [&mut [u16]; 2], xs: [&[u16]; 2], w: &[u16], stride: usize) {
        let steps = xs[0].len();
        if !super::w_holds(w, steps, stride, 8 * K)
            || xs[1].len() != steps
            || acc.iter().any(|a| a.len() != 8 * K)
        {
            return;
        }
        let mut a = [[_mm256_setzero_ps(); K]; 2];
        for (ar, accr) in a.iter_mut().zip(&acc) {
            for (k, ak) in ar.iter_mut().enumerate() {
                *ak = load8(&accr[8 * k..]);
            }
        }
        let c = Consts::new();
        let mut off = 0usize;
        for (x0, x1) in xs[0].chunks(8).zip(xs[1].chunks(8)) {
            let xf = [widen8(x0), widen8(x1)];
            let a0 = a;
            let mut mids = c.minus_one;
            let mut ranges = _mm256_setzero_si256();
            let mut o = off;
            for (&xj0, &xj1) in xf[0][..x0.len()].iter().zip(&xf[1]) {
                let (xb0, xb1) = (_mm256_set1_ps(xj0), _mm256_set1_ps(xj1));
                let [ar0, ar1] = &mut a;
                for (k, (a0k, a1k)) in ar0.iter_mut().zip(ar1.iter_mut()).enumerate() {
                    let p = w.as_ptr().wrapping_add(o + 8 * k);
                    // SAFETY: `o = i * stride` for the step `i < steps`, so
                    // `o + 8 * k + 8 <= (steps - 1) * stride + 8 * K <= w.len()` (checked
                    // above): the 16 bytes at `p` are inside `w`; no alignment requirement.
                    let wv = _mm256_cvtph_ps(unsafe { _mm_loadu_si128(p.cast()) });
                    *a0k = fast_step(&c, xb0, wv, *a0k, &mut mids, &mut ranges);
                    *a1k = fast_step(&c, xb1, wv, *a1k, &mut mids, &mut ranges);
                }
                o = o.wrapping_add(stride);
            }
            if !all_fine(&c, mids, ranges) {
                a = a0;
                exact_block::<K>(&c, &mut a[0], x0, &xf[0], w, off, stride);
                exact_block::<K>(&c, &mut a[1], x1, &xf[1], w, off, stride);
            }
            off = o;
        }
        for (ar, accr) in a.iter().zip(acc) {
            for (k, ak) in ar.iter().enumerate() {
                store8(&mut accr[8 * k..8 * k + 8], *ak);
            }
        }
    }

    /// Recomputes the flagged lanes of `r` exactly: `fp16::fma(x, w[lane], acc[lane])`.
    #[cold]
    #[inline(never)]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn fix(r: __m256, flag: __m256, x: u16, w: &[u16], acc: __m256) -> __m256 {
        let mask = _mm256_movemask_ps(flag) as u32;
        if mask == 0 {
            return r;
        }
        let mut out = [0f32; 8];
        let mut prev = [0u16; 8];
        // SAFETY: `out` has 8 `f32` = 32 writable bytes and `prev` 8 `u16` = 16 writable bytes;
        // `storeu` has no alignment requirement.
        unsafe {
            _mm256_storeu_ps(out.as_mut_ptr(), r);
            _mm_storeu_si128(prev.as_mut_ptr().cast(), _mm256_cvtps_ph::<RNE>(acc));
        }
        for lane in 0..8 {
            if mask & (1 << lane) != 0 {
                // A flagged lane has a finite accumulator, which holds an FP16 value exactly.
                out[lane] = fp16::to_f64(fp16::fma(x, w[lane], prev[lane])) as f32;
            }
        }
        // SAFETY: `out` holds 8 `f32` = 32 readable bytes; `loadu` has no alignment requirement.
        unsafe { _mm256_loadu_ps(out.as_ptr()) }
    }

    /// Stores 8 lanes (exact FP16 values, infinities or NaNs) as FP16 bits, NaN -> `0x7E00`.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn store8(dst: &mut [u16], v: __m256) {
        let h = _mm256_cvtps_ph::<RNE>(v);
        let mag = _mm_and_si128(h, _mm_set1_epi16(0x7FFF));
        let nan = _mm_cmpgt_epi16(mag, _mm_set1_epi16(0x7C00));
        let h = _mm_blendv_epi8(h, _mm_set1_epi16(fp16::CANONICAL_NAN as i16), nan);
        let dst = &mut dst[..8];
        // SAFETY: `dst` holds 8 `u16` = 16 writable bytes; `storeu` has no alignment requirement.
        unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), h) };
    }

    /// Stage-1 kinds of [`mm_chain`].
    const S1_ADD: u8 = 0;
    const S1_MUL: u8 = 1;
    const S1_MAX: u8 = 2;
    const S1_MIN: u8 = 3;

    /// See [`super::minmax_chain`]; requires `(x.len() - 1) * stride + acc.len() <= w.len()`.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) fn minmax_chain(op: Op, acc: &mut [u16], x: &[u16], w: &[u16], stride: usize) {
        match op {
            Op::AddMax => mm_chain::<S1_ADD, true>(op, acc, x, w, stride),
            Op::AddMin => mm_chain::<S1_ADD, false>(op, acc, x, w, stride),
            Op::MulMax => mm_chain::<S1_MUL, true>(op, acc, x, w, stride),
            Op::MulMin => mm_chain::<S1_MUL, false>(op, acc, x, w, stride),
            Op::MaxMin => mm_chain::<S1_MAX, false>(op, acc, x, w, stride),
            Op::MinMax => mm_chain::<S1_MIN, true>(op, acc, x, w, stride),
            Op::Matmul | Op::Gemm => {} // not a min/max op; the caller never passes these
        }
    }

    /// Loads 8 FP16 bit patterns (the first 8 of `s`).
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn load_bits8(s: &[u16]) -> __m128i {
        let s = &s[..8];
        // SAFETY: `s` holds 8 `u16` = 16 readable bytes; `loadu` has no alignment requirement.
        unsafe { _mm_loadu_si128(s.as_ptr().cast()) }
    }

    /// fpnew's MINMAX on 8 FP16 lanes (`MAX` selects the maximum): a NaN and a number give
    /// the number, two NaNs `0x7E00`, otherwise `a_smaller = (a <u b) ^ (sign(a) | sign(b))`.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn minmax8<const MAX: bool>(a: __m128i, b: __m128i) -> __m128i {
        let flip = _mm_set1_epi16(i16::MIN);
        let a_lt_b = _mm_cmpgt_epi16(_mm_xor_si128(b, flip), _mm_xor_si128(a, flip));
        let neg = _mm_srai_epi16::<15>(_mm_or_si128(a, b));
        let a_smaller = _mm_xor_si128(a_lt_b, neg);
        let r = if MAX {
            _mm_blendv_epi8(a, b, a_smaller)
        } else {
            _mm_blendv_epi8(b, a, a_smaller)
        };
        let mag = _mm_set1_epi16(0x7FFF);
        let inf = _mm_set1_epi16(0x7C00);
        let nan_a = _mm_cmpgt_epi16(_mm_and_si128(a, mag), inf);
        let nan_b = _mm_cmpgt_epi16(_mm_and_si128(b, mag), inf);
        let r = _mm_blendv_epi8(r, b, nan_a);
        let r = _mm_blendv_epi8(r, a, nan_b);
        let canon = _mm_set1_epi16(fp16::CANONICAL_NAN as i16);
        _mm_blendv_epi8(r, canon, _mm_and_si128(nan_a, nan_b))
    }

    /// Chains of a min/max op: stage 1 of kind `S1`, stage 2 the maximum if `MAX2`. Two
    /// 8-column chunks run interleaved (independent dependency chains), then one, then a
    /// scalar tail.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn mm_chain<const S1: u8, const MAX2: bool>(
        op: Op,
        acc: &mut [u16],
        x: &[u16],
        w: &[u16],
        stride: usize,
    ) {
        let cols = acc.len();
        let mut c0 = 0;
        while c0 + 16 <= cols {
            mm_block::<S1, MAX2, 2>(&mut acc[c0..c0 + 16], x, &w[c0..], stride);
            c0 += 16;
        }
        if c0 + 8 <= cols {
            mm_block::<S1, MAX2, 1>(&mut acc[c0..c0 + 8], x, &w[c0..], stride);
            c0 += 8;
        }
        for c in c0..cols {
            let mut a = acc[c];
            for (i, &xv) in x.iter().enumerate() {
                a = op.step(a, xv, w[i * stride + c]);
            }
            acc[c] = a;
        }
    }

    /// `K` chunks of 8 columns of [`mm_chain`]: `acc.len() == 8 * K`, `w[i * stride ..][..8 * K]`
    /// is W row `i`.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn mm_block<const S1: u8, const MAX2: bool, const K: usize>(
        acc: &mut [u16],
        x: &[u16],
        w: &[u16],
        stride: usize,
    ) {
        let mut a = [_mm_setzero_si128(); K];
        for (k, ak) in a.iter_mut().enumerate() {
            *ak = load_bits8(&acc[8 * k..]);
        }
        for (i, &xv) in x.iter().enumerate() {
            let row = &w[i * stride..i * stride + 8 * K];
            let xh = _mm_set1_epi16(xv as i16);
            let xf = _mm256_cvtph_ps(xh);
            for (k, ak) in a.iter_mut().enumerate() {
                let wh = load_bits8(&row[8 * k..]);
                let s1 = match S1 {
                    S1_ADD => _mm256_cvtps_ph::<RNE>(_mm256_add_ps(xf, _mm256_cvtph_ps(wh))),
                    S1_MUL => _mm256_cvtps_ph::<RNE>(_mm256_mul_ps(xf, _mm256_cvtph_ps(wh))),
                    S1_MAX => minmax8::<true>(xh, wh),
                    _ => minmax8::<false>(xh, wh),
                };
                *ak = minmax8::<MAX2>(s1, *ak);
            }
        }
        for (k, ak) in a.iter().enumerate() {
            let dst = &mut acc[8 * k..8 * k + 8];
            // SAFETY: `dst` holds 8 `u16` = 16 writable bytes; `storeu` has no alignment
            // requirement.
            unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), *ak) };
        }
    }
}
