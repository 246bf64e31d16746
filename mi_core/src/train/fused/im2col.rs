//! One convolution's geometry for the fused encoder step (NHWC, columns in (kh, kw, c) order):
//! im2col, its adjoint (col2im) and the weight permutation `[O, C, k, k]` ↔ `[O, k, k, C]`.

/// `dst.copy_from_slice(src)`, with the short runs of a thin input (the first layer's k·C = 4
/// floats, 1 at a border) copied inline rather than through a `memcpy` call per run.
#[inline(always)]
fn copy_run(dst: &mut [f32], src: &[f32]) {
    match (dst, src) {
        ([d], [s]) => *d = *s,
        ([d0, d1, d2, d3], [s0, s1, s2, s3]) => [*d0, *d1, *d2, *d3] = [*s0, *s1, *s2, *s3],
        (d, s) => d.copy_from_slice(s),
    }
}

/// One convolution's geometry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Conv {
    pub c_in: usize,
    pub side_in: usize,
    pub c_out: usize,
    pub side_out: usize,
    pub kernel: usize,
    pub stride: usize,
    pub pad: usize,
}

impl Conv {
    /// Columns per output pixel: k·k·C.
    pub fn patch(&self) -> usize {
        self.kernel * self.kernel * self.c_in
    }

    /// Floats of one input image `[S, S, C]`.
    pub fn in_len(&self) -> usize {
        self.side_in * self.side_in * self.c_in
    }

    /// Output pixels of one image.
    pub fn out_pixels(&self) -> usize {
        self.side_out * self.side_out
    }

    /// Calls `f(column offset, input offset, run length)` for every run of the columns of `n`
    /// images that reads the input (a run is k·C floats of one kernel row, or C floats at a
    /// border); the padding's runs are reported with `None` so the caller can zero them.
    fn for_each_run(&self, n: usize, mut f: impl FnMut(usize, Option<usize>, usize)) {
        let (s, k, c) = (self.side_in as isize, self.kernel, self.c_in);
        let (wo, pixels, patch) = (self.side_out, self.out_pixels(), self.patch());
        for r in 0..n * pixels {
            let (img, oh, ow) = (r / pixels, (r % pixels) / wo, r % wo);
            let base = img * self.in_len();
            let row = r * patch;
            for kh in 0..k {
                let h = (oh * self.stride + kh) as isize - self.pad as isize;
                let seg = row + kh * k * c;
                if h < 0 || h >= s {
                    f(seg, None, k * c);
                    continue;
                }
                let w0 = (ow * self.stride) as isize - self.pad as isize;
                if w0 >= 0 && w0 + k as isize <= s {
                    f(seg, Some(base + ((h * s + w0) as usize) * c), k * c);
                    continue;
                }
                for kw in 0..k {
                    let w = w0 + kw as isize;
                    let at = (w >= 0 && w < s).then(|| base + ((h * s + w) as usize) * c);
                    f(seg + kw * c, at, c);
                }
            }
        }
    }

    /// im2col of `n` NHWC images: `cols [n·Ho·Wo, k·k·C]`, columns (kh, kw, c).
    pub fn im2col(&self, input: &[f32], n: usize, cols: &mut [f32]) {
        self.for_each_run(n, |dst, src, len| match src {
            Some(src) => copy_run(&mut cols[dst..dst + len], &input[src..src + len]),
            None => cols[dst..dst + len].fill(0.0),
        });
    }

    /// The adjoint of [`Self::im2col`]: `d_input` (zeroed first) gets every column entry added
    /// back onto the pixel it was read from.
    pub fn col2im(&self, d_cols: &[f32], n: usize, d_input: &mut [f32]) {
        d_input.fill(0.0);
        self.for_each_run(n, |dst, src, len| {
            if let Some(src) = src {
                d_input[src..src + len]
                    .iter_mut()
                    .zip(&d_cols[dst..dst + len])
                    .for_each(|(d, g)| *d += g);
            }
        });
    }

    /// `[O, C, k, k]` → `[O, k, k, C]`.
    pub fn permute_weight(&self, w: &[f32], out: &mut [f32]) {
        self.each_weight(|nchw, nhwc| out[nhwc] = w[nchw]);
    }

    /// `[O, k, k, C]` → `[O, C, k, k]` (the gradient back into the parameter's layout).
    pub fn unpermute_weight(&self, w: &[f32], out: &mut [f32]) {
        self.each_weight(|nchw, nhwc| out[nchw] = w[nhwc]);
    }

    fn each_weight(&self, mut f: impl FnMut(usize, usize)) {
        let (k, c) = (self.kernel, self.c_in);
        for o in 0..self.c_out {
            for ci in 0..c {
                for kh in 0..k {
                    for kw in 0..k {
                        let nchw = ((o * c + ci) * k + kh) * k + kw;
                        let nhwc = ((o * k + kh) * k + kw) * c + ci;
                        f(nchw, nhwc);
                    }
                }
            }
        }
    }
}
