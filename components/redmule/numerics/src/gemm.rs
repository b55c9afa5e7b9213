//! GEMM-Ops on whole matrices, and the tile/row building blocks a streaming model uses.
//!
//! All helpers work on FP16 bit patterns (`u16`); cast FP8 data in and out with
//! [`Format::to_fp16`] / [`Format::from_fp16`] (or [`Format::decode_slice`] /
//! [`Format::encode_slice`]). Every output element is the chain
//! `acc = op.initial_acc(y); for n ascending { acc = op.step(acc, x[n], w[n]) }`, so partial
//! chains can be continued later: feeding the n indices in any number of consecutive chunks
//! gives the same bits as one pass.
//!
//! The `*_with` variants take a [`Kernel`]; the others use [`Kernel::Auto`].
//!
//! No function here panics: shape problems are reported as [`ShapeError`] before anything is
//! written, and every bit pattern is a valid input.

use std::ops::Range;

use crate::{fp16, Format, Op};

/// Matrix sizes: X is `m x n`, W is `n x k`, Y and Z are `m x k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dims {
    /// Rows of X, Y, Z.
    pub m: usize,
    /// Columns of X = rows of W (the reduction dimension).
    pub n: usize,
    /// Columns of W, Y, Z.
    pub k: usize,
}

/// A buffer does not fit the requested shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShapeError {
    /// A buffer has the wrong length (in bytes for packed data, elements for FP16 slices).
    Length {
        /// Which buffer.
        what: &'static str,
        /// Required length (minimum length for strided views).
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// A size computation overflows `usize`, or a column count is zero where rows are implied.
    Overflow,
}

impl std::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShapeError::Length {
                what,
                expected,
                got,
            } => write!(f, "{what}: expected length {expected}, got {got}"),
            ShapeError::Overflow => write!(f, "matrix size overflows or is inconsistent"),
        }
    }
}

impl std::error::Error for ShapeError {}

/// A read-only row-major FP16 matrix view: element `(r, c)` is `data[r * stride + c]`.
/// Offset `data` to address a sub-tile.
#[derive(Clone, Copy, Debug)]
pub struct Fp16View<'a> {
    /// Elements (FP16 bit patterns).
    pub data: &'a [u16],
    /// Distance between rows, in elements.
    pub stride: usize,
}

fn expect_len(what: &'static str, expected: usize, got: usize) -> Result<(), ShapeError> {
    if expected == got {
        Ok(())
    } else {
        Err(ShapeError::Length {
            what,
            expected,
            got,
        })
    }
}

fn expect_min_len(what: &'static str, expected: usize, got: usize) -> Result<(), ShapeError> {
    if got >= expected {
        Ok(())
    } else {
        Err(ShapeError::Length {
            what,
            expected,
            got,
        })
    }
}

fn mul3(a: usize, b: usize, c: usize) -> Result<usize, ShapeError> {
    a.checked_mul(b)
        .and_then(|v| v.checked_mul(c))
        .ok_or(ShapeError::Overflow)
}

/// Minimum length of a strided view covering `rows x cols` (0 if empty).
fn view_extent(rows: usize, cols: usize, stride: usize) -> Result<usize, ShapeError> {
    if rows == 0 || cols == 0 {
        return Ok(0);
    }
    (rows - 1)
        .checked_mul(stride)
        .and_then(|v| v.checked_add(cols))
        .ok_or(ShapeError::Overflow)
}

/// Checks the byte lengths of packed X, W, Y for [`gemm`]. For MATMUL, Y may be empty.
pub(crate) fn check_shapes(
    op: Op,
    fmt: Format,
    dims: Dims,
    x: &[u8],
    w: &[u8],
    y: &[u8],
) -> Result<(), ShapeError> {
    let bpe = fmt.bytes_per_elem();
    expect_len("x", mul3(dims.m, dims.n, bpe)?, x.len())?;
    expect_len("w", mul3(dims.n, dims.k, bpe)?, w.len())?;
    let yz = mul3(dims.m, dims.k, bpe)?;
    if yz > isize::MAX as usize {
        return Err(ShapeError::Overflow); // Z could not be allocated
    }
    if op.uses_y() || !y.is_empty() {
        expect_len("y", yz, y.len())?;
    }
    Ok(())
}

/// Folds one X value and one W row into an accumulator row: `acc[c] = step(acc[c], x, w_row[c])`.
/// The op is matched once, outside the element loop.
#[inline]
fn fold_row(op: Op, acc: &mut [u16], x: u16, w_row: &[u16]) {
    #[inline(always)]
    fn each(acc: &mut [u16], w_row: &[u16], f: impl Fn(u16, u16) -> u16) {
        for (a, &w) in acc.iter_mut().zip(w_row) {
            *a = f(*a, w);
        }
    }
    match op {
        Op::Matmul | Op::Gemm => {
            let xf = fp16::to_f64(x);
            each(acc, w_row, |a, w| fp16::fma_wide_a(xf, w, a))
        }
        Op::AddMax => each(acc, w_row, |a, w| fp16::max(fp16::add(x, w), a)),
        Op::AddMin => each(acc, w_row, |a, w| fp16::min(fp16::add(x, w), a)),
        Op::MulMax => each(acc, w_row, |a, w| fp16::max(fp16::mul(x, w), a)),
        Op::MulMin => each(acc, w_row, |a, w| fp16::min(fp16::mul(x, w), a)),
        Op::MaxMin => each(acc, w_row, |a, w| fp16::min(fp16::max(x, w), a)),
        Op::MinMax => each(acc, w_row, |a, w| fp16::max(fp16::min(x, w), a)),
    }
}

/// Which implementation the row helpers use. All give the same bits for every input (tested);
/// [`Kernel::Avx2`] and [`Kernel::Portable`] exist to test and compare the vector kernels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// The best vector kernel the host supports (detected at run time): for MATMUL/GEMM the
    /// native FP16 FMA of AVX512-FP16 where present, else the AVX2 + FMA + F16C kernels;
    /// the portable scalar code on other hosts.
    #[default]
    Auto,
    /// The AVX2 + FMA + F16C kernels even where AVX512-FP16 is present (the portable code
    /// without AVX2).
    Avx2,
    /// Always the portable scalar code.
    Portable,
}

impl Kernel {
    /// Whether [`Kernel::Auto`] runs a vector kernel on this host.
    pub fn simd_available() -> bool {
        crate::simd::available()
    }
    /// Whether [`Kernel::Auto`] runs MATMUL/GEMM chains on the host's FP16 FMA (AVX512-FP16).
    pub fn fp16_fma_available() -> bool {
        crate::simd::fp16_available()
    }
}

/// Runs the chain of `x.len()` steps on one accumulator row: step `i` uses `x[i]` and the W row
/// at `w[i * stride..][..acc.len()]` (the caller has checked that it is in bounds).
#[inline]
fn chain_row(kernel: Kernel, op: Op, acc: &mut [u16], x: &[u16], w: &[u16], stride: usize) {
    if kernel != Kernel::Portable {
        let done = match op {
            Op::Matmul | Op::Gemm => {
                crate::simd::fma_chain(acc, x, w, stride, kernel == Kernel::Auto)
            }
            _ => crate::simd::minmax_chain(op, acc, x, w, stride),
        };
        if done {
            return;
        }
    }
    let cols = acc.len();
    for (i, &xv) in x.iter().enumerate() {
        let off = i * stride;
        let Some(w_row) = w.get(off..off + cols) else {
            return; // unreachable: the callers check the extent
        };
        fold_row(op, acc, xv, w_row);
    }
}

/// Advances an accumulator tile by the reduction indices `n_range`:
/// for each `n` in `n_range` (ascending), `acc[r][c] = op.step(acc[r][c], x[r][n], w[n][c])`.
///
/// * `acc`: `rows x cols` dense row-major partial results (`rows = acc.len() / cols`); start
///   from [`Op::initial_acc`] of Y.
/// * `x`: row `r` of the tile at `x.data[r * x.stride ..]`, indexed by absolute `n`.
/// * `w`: row `n` of W at `w.data[n * w.stride ..]`, the tile's first column at offset 0.
///
/// For RedMulE's 12 x 16 tile, call it once per streamed W row (`n_range = n..n + 1`) or once
/// per 16-column X chunk; the result bits do not depend on the chunking.
pub fn accumulate(
    op: Op,
    acc: &mut [u16],
    cols: usize,
    x: Fp16View<'_>,
    w: Fp16View<'_>,
    n_range: Range<usize>,
) -> Result<(), ShapeError> {
    accumulate_with(Kernel::Auto, op, acc, cols, x, w, n_range)
}

/// [`accumulate`] with a chosen [`Kernel`].
pub fn accumulate_with(
    kernel: Kernel,
    op: Op,
    acc: &mut [u16],
    cols: usize,
    x: Fp16View<'_>,
    w: Fp16View<'_>,
    n_range: Range<usize>,
) -> Result<(), ShapeError> {
    if acc.is_empty() || n_range.is_empty() {
        return Ok(());
    }
    if cols == 0 || !acc.len().is_multiple_of(cols) {
        return Err(ShapeError::Overflow);
    }
    let rows = acc.len() / cols;
    expect_min_len("x", view_extent(rows, n_range.end, x.stride)?, x.data.len())?;
    expect_min_len("w", view_extent(n_range.end, cols, w.stride)?, w.data.len())?;
    let Some(w_from) = w.data.get(n_range.start * w.stride..) else {
        return Err(ShapeError::Overflow); // unreachable after the checks above
    };
    let x_row = |r: usize| {
        let base = r * x.stride;
        x.data.get(base + n_range.start..base + n_range.end)
    };
    // Four rows at a time on the host's FP16 FMA (independent chains sharing each W row).
    let mut done = 0;
    if kernel == Kernel::Auto && matches!(op, Op::Matmul | Op::Gemm) {
        while done + 4 <= rows {
            let (Some(x0), Some(x1), Some(x2), Some(x3)) = (
                x_row(done),
                x_row(done + 1),
                x_row(done + 2),
                x_row(done + 3),
            ) else {
                return Err(ShapeError::Overflow); // unreachable after the checks above
            };
            let acc4 = &mut acc[done * cols..(done + 4) * cols];
            if !crate::simd::fma_chain4(acc4, cols, [x0, x1, x2, x3], w_from, w.stride) {
                break;
            }
            done += 4;
        }
    }
    // Two rows at a time on the AVX2 kernel (the host's FP16 FMA, where `Auto` has it, takes
    // the rows left above one by one).
    let avx2 = kernel == Kernel::Avx2 || (kernel == Kernel::Auto && !crate::simd::fp16_available());
    if avx2 && matches!(op, Op::Matmul | Op::Gemm) {
        while done + 2 <= rows {
            let (Some(x0), Some(x1)) = (x_row(done), x_row(done + 1)) else {
                return Err(ShapeError::Overflow); // unreachable after the checks above
            };
            let (acc0, acc1) = acc[done * cols..(done + 2) * cols].split_at_mut(cols);
            if !crate::simd::fma_chain2([acc0, acc1], [x0, x1], w_from, w.stride) {
                break;
            }
            done += 2;
        }
    }
    for (r, acc_row) in acc.chunks_exact_mut(cols).enumerate().skip(done) {
        let Some(x_row) = x_row(r) else {
            return Err(ShapeError::Overflow); // unreachable after the checks above
        };
        chain_row(kernel, op, acc_row, x_row, w_from, w.stride);
    }
    Ok(())
}

/// One CE-array beat: folds one W row (`w_row`, the tile's columns) and the matching X column
/// (`x_col`, one value per tile row) into a dense `x_col.len() x w_row.len()` accumulator:
/// `acc[r][c] = op.step(acc[r][c], x_col[r], w_row[c])`.
pub fn accumulate_w_row(
    op: Op,
    acc: &mut [u16],
    x_col: &[u16],
    w_row: &[u16],
) -> Result<(), ShapeError> {
    accumulate_w_row_with(Kernel::Auto, op, acc, x_col, w_row)
}

/// [`accumulate_w_row`] with a chosen [`Kernel`].
pub fn accumulate_w_row_with(
    kernel: Kernel,
    op: Op,
    acc: &mut [u16],
    x_col: &[u16],
    w_row: &[u16],
) -> Result<(), ShapeError> {
    let expected = x_col
        .len()
        .checked_mul(w_row.len())
        .ok_or(ShapeError::Overflow)?;
    expect_len("acc", expected, acc.len())?;
    if w_row.is_empty() {
        return Ok(());
    }
    for (acc_row, xv) in acc.chunks_exact_mut(w_row.len()).zip(x_col) {
        chain_row(
            kernel,
            op,
            acc_row,
            std::slice::from_ref(xv),
            w_row,
            w_row.len(),
        );
    }
    Ok(())
}

/// Computes one row of Z over a column window: for each column `c < z.len()`,
/// `z[c] = chain over n in 0..x_row.len() from op.initial_acc(y[c])` with `W[n][c]` at
/// `w.data[n * w.stride + c]`. `y` must have `z.len()` elements, or may be empty for MATMUL.
/// Allocation-free.
pub fn z_row(
    op: Op,
    x_row: &[u16],
    w: Fp16View<'_>,
    y: &[u16],
    z: &mut [u16],
) -> Result<(), ShapeError> {
    z_row_with(Kernel::Auto, op, x_row, w, y, z)
}

/// [`z_row`] with a chosen [`Kernel`].
pub fn z_row_with(
    kernel: Kernel,
    op: Op,
    x_row: &[u16],
    w: Fp16View<'_>,
    y: &[u16],
    z: &mut [u16],
) -> Result<(), ShapeError> {
    if op.uses_y() || !y.is_empty() {
        expect_len("y", z.len(), y.len())?;
        z.copy_from_slice(y);
    }
    if !op.uses_y() {
        z.fill(op.initial_acc(0));
    }
    let cols = z.len();
    accumulate_with(
        kernel,
        op,
        z,
        cols,
        Fp16View {
            data: x_row,
            stride: x_row.len(),
        },
        w,
        0..x_row.len(),
    )
}

/// Number of zero-padding steps the RTL appends to each chain: N is padded up to a multiple of
/// the 4 CEs of a row (`redmule_tiler.sv` `w_rows_iter`), and the padded slots are fed
/// `x = w = +0` (`redmule_w_buffer.sv` / `redmule_x_buffer.sv` zero padding).
pub const fn rtl_padding_steps(n: usize) -> usize {
    (4 - n % 4) % 4
}

// The public entry points pass their arguments straight through.
#[allow(clippy::too_many_arguments)]
fn gemm_impl(
    kernel: Kernel,
    op: Op,
    fmt: Format,
    dims: Dims,
    x: &[u8],
    w: &[u8],
    y: &[u8],
    pad_steps: usize,
) -> Result<Vec<u8>, ShapeError> {
    check_shapes(op, fmt, dims, x, w, y)?;
    let Dims { m, n, k } = dims;
    let xh = fmt.decode_slice(x);
    let wh = fmt.decode_slice(w);
    let yh = if op.uses_y() {
        fmt.decode_slice(y)
    } else {
        Vec::new()
    };
    let mut z = Vec::with_capacity(m * k * fmt.bytes_per_elem());
    let mut acc = vec![0u16; k];
    let w_view = Fp16View {
        data: &wh,
        stride: k,
    };
    for r in 0..m {
        let x_row = &xh[r * n..(r + 1) * n];
        let y_row = if op.uses_y() {
            &yh[r * k..(r + 1) * k]
        } else {
            &[]
        };
        z_row_with(kernel, op, x_row, w_view, y_row, &mut acc)?;
        for a in acc.iter_mut() {
            for _ in 0..pad_steps {
                *a = op.step(*a, fp16::POS_ZERO, fp16::POS_ZERO);
            }
        }
        match fmt {
            Format::Fp16 => z.extend(acc.iter().flat_map(|h| h.to_le_bytes())),
            Format::Fp8E5M2 | Format::Fp8E4M3 => {
                z.extend(acc.iter().map(|&h| fmt.from_fp16(h) as u8))
            }
        }
    }
    Ok(z)
}

/// Computes a GEMM-Op on packed little-endian matrices: X (`m x n`), W (`n x k`), Y (`m x k`,
/// may be empty for MATMUL); returns Z (`m x k`) in the same format. Inputs are cast to FP16,
/// each element is the ascending-n chain of [`Op::step`] from [`Op::initial_acc`], and the
/// result is cast back. With `n == 0`, Z is the cast of the initial accumulator.
///
/// This is the intended behaviour (the golden model's loop order); see [`gemm_rtl_padded`] for
/// the RTL's N padding.
pub fn gemm(
    op: Op,
    fmt: Format,
    dims: Dims,
    x: &[u8],
    w: &[u8],
    y: &[u8],
) -> Result<Vec<u8>, ShapeError> {
    gemm_impl(Kernel::Auto, op, fmt, dims, x, w, y, 0)
}

/// Like [`gemm`], but each chain also runs the RTL's [`rtl_padding_steps`] extra steps with
/// `x = w = +0` when N is not a multiple of 4. For MATMUL/GEMM this only turns a `-0` result
/// into `+0`; for the min/max ops it folds a `+0` candidate into the result (e.g. ADDMAX
/// clamps negative results to `+0`), which the golden model does not do.
pub fn gemm_rtl_padded(
    op: Op,
    fmt: Format,
    dims: Dims,
    x: &[u8],
    w: &[u8],
    y: &[u8],
) -> Result<Vec<u8>, ShapeError> {
    gemm_impl(
        Kernel::Auto,
        op,
        fmt,
        dims,
        x,
        w,
        y,
        rtl_padding_steps(dims.n),
    )
}

/// [`gemm`] with a chosen [`Kernel`].
pub fn gemm_with(
    kernel: Kernel,
    op: Op,
    fmt: Format,
    dims: Dims,
    x: &[u8],
    w: &[u8],
    y: &[u8],
) -> Result<Vec<u8>, ShapeError> {
    gemm_impl(kernel, op, fmt, dims, x, w, y, 0)
}
