//! Strided f32 matrix products over plain slices: a checked, safe front to the `gemm` crate.
//!
//! `dst = A·B` or `dst += A·B`, where A and B are [`View`]s — a slice with explicit row and column
//! strides, so a transpose ([`View::t`]) or a block of columns costs nothing — and `dst` is a
//! row-major block with its own row stride. Every extent is checked against its slice before the
//! (unsafe) call into `gemm`, so a wrong shape is an error, never an out-of-bounds access.

use crate::error::{Error, Result};
use gemm::Parallelism;

/// A read-only `rows × cols` matrix inside `data`: element (r, c) is `data[r·rs + c·cs]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct View<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a> View<'a> {
    /// The row-major `rows × cols` matrix at the start of `data`.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// Whether every element lies inside `data`.
    fn fits(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.rs + (self.cols - 1) * self.cs < self.data.len()
    }
}

fn shape_err(detail: String) -> Error {
    Error::Shape {
        op: "fused matmul",
        detail,
    }
}

/// How the products are threaded: gemm's own rayon split over `n` threads (1 = none).
pub(crate) fn parallelism(threads: usize) -> Parallelism {
    if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    }
}

/// `dst[r·ld + c] (=|+=) Σ_k a(r, k)·b(k, c)` for r < a.rows, c < b.cols (`accumulate` adds to
/// what `dst` holds).
pub(crate) fn matmul(
    dst: &mut [f32],
    ld: usize,
    a: View,
    b: View,
    accumulate: bool,
    par: Parallelism,
) -> Result<()> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if b.rows != k {
        return Err(shape_err(format!(
            "[{m}, {k}] · [{}, {n}]: inner sizes differ",
            b.rows
        )));
    }
    if !a.fits() || !b.fits() {
        return Err(shape_err(format!(
            "a view overruns its slice: a {:?} in {}, b {:?} in {}",
            (a.rows, a.cols, a.rs, a.cs),
            a.data.len(),
            (b.rows, b.cols, b.rs, b.cs),
            b.data.len()
        )));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if ld < n || (m - 1) * ld + n > dst.len() {
        return Err(shape_err(format!(
            "destination [{m}, {n}] with row stride {ld} overruns {} elements",
            dst.len()
        )));
    }
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                dst[r * ld..r * ld + n].fill(0.0);
            }
        }
        return Ok(());
    }
    // SAFETY: every index gemm touches is inside its slice — checked above for a, b (`fits`)
    // and dst (rows m, columns n, row stride ld, column stride 1). dst is borrowed mutably, so
    // it cannot alias a or b.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            ld as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: View, b: View) -> Vec<f32> {
        let mut out = vec![0.0; a.rows * b.cols];
        for r in 0..a.rows {
            for c in 0..b.cols {
                out[r * b.cols + c] = (0..a.cols)
                    .map(|k| a.data[r * a.rs + k * a.cs] * b.data[k * b.rs + c * b.cs])
                    .sum();
            }
        }
        out
    }

    #[test]
    fn strided_products_match_the_naive_loop() -> Result<()> {
        let a: Vec<f32> = (0..15).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..20).map(|i| (i as f32 * 0.71).cos()).collect();
        let (va, vb) = (View::rows(&a, 3, 5), View::rows(&b, 5, 4));
        for (x, y) in [
            (va, vb),
            (View::rows(&a, 5, 3).t(), vb),
            (va, View::rows(&b, 4, 5).t()),
        ] {
            let mut dst = vec![1.0; 3 * 6];
            matmul(&mut dst, 6, x, y, false, parallelism(1))?;
            let want = naive(x, y);
            for r in 0..3 {
                for c in 0..4 {
                    assert!((dst[r * 6 + c] - want[r * 4 + c]).abs() < 1e-5);
                }
                assert_eq!(&dst[r * 6 + 4..r * 6 + 6], &[1.0, 1.0]);
            }
            matmul(&mut dst, 6, x, y, true, parallelism(1))?;
            assert!((dst[0] - 2.0 * want[0]).abs() < 1e-5);
        }
        assert!(matmul(&mut [0.0; 4], 2, va, vb, false, parallelism(1)).is_err());
        assert!(matmul(
            &mut [0.0; 12],
            4,
            va,
            View::rows(&b, 4, 5),
            false,
            parallelism(1)
        )
        .is_err());
        Ok(())
    }
}
