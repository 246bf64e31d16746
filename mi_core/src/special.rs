//! Special functions the task suite and the estimator need: ψ (digamma), log Γ, the standard
//! normal CDF Φ and its inverse. f64 throughout; each is tested against published values.

/// log Γ(x) for x > 0 (libm's `lgamma`).
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// The digamma function ψ(x) = d/dx log Γ(x), for x > 0 (NaN otherwise).
///
/// The recurrence ψ(x) = ψ(x + 1) − 1/x lifts x to ≥ 10, then the asymptotic series
/// ψ(x) = log x − 1/(2x) − Σₖ B₂ₖ / (2k x²ᵏ) (six terms; the first omitted one, B₁₄/(14x¹⁴),
/// is below 10⁻¹⁵ at x = 10).
///
/// ```
/// use mi_core::special::digamma;
/// let euler_gamma = 0.5772156649015329;
/// assert!((digamma(1.0) + euler_gamma).abs() < 1e-14);
/// ```
pub fn digamma(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return f64::NAN;
    }
    let (mut x, mut acc) = (x, 0.0);
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    // B₂/2 = 1/12, B₄/4 = −1/120, B₆/6 = 1/252, B₈/8 = −1/240, B₁₀/10 = 1/132,
    // B₁₂/12 = −691/32760.
    let series = z
        * (1.0 / 12.0
            - z * (1.0 / 120.0
                - z * (1.0 / 252.0 - z * (1.0 / 240.0 - z * (1.0 / 132.0 - z * 691.0 / 32760.0)))));
    acc + x.ln() - 0.5 / x - series
}

/// The standard normal CDF Φ(x) = ½ erfc(−x/√2).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// The standard normal density φ(x).
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Φ⁻¹(p) for p ∈ (0, 1) (±∞ at 0 and 1, NaN outside): Acklam's rational approximation
/// (relative error < 1.2·10⁻⁹) refined by one Halley step on Φ, to about 10⁻¹⁵.
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.38357751867269e+02,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    const LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (-p).ln_1p()).sqrt())
    };
    // One Halley step: e = Φ(x) − p, u = e/φ(x), x ← x − u/(1 + x u/2).
    let e = normal_cdf(x) - p;
    let u = e / normal_pdf(x);
    x - u / (1.0 + 0.5 * x * u)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

    #[test]
    fn digamma_matches_known_values() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 log 2, ψ(n + 1) = ψ(n) + 1/n, ψ(10) (Abramowitz & Stegun).
        assert!((digamma(1.0) + EULER_GAMMA).abs() < 1e-14);
        assert!((digamma(0.5) + EULER_GAMMA + 2.0 * 2f64.ln()).abs() < 1e-14);
        assert!((digamma(10.0) - 2.251_752_589_066_721).abs() < 1e-14);
        assert!((digamma(3.7) - digamma(2.7) - 1.0 / 2.7).abs() < 1e-14);
        assert!((digamma(100.5) - (100.5f64.ln() - 1.0 / 201.0)).abs() < 1e-5);
        assert!(digamma(0.0).is_nan() && digamma(-1.0).is_nan());
    }

    #[test]
    fn normal_quantile_inverts_the_cdf() {
        for &p in &[
            1e-300,
            1e-12,
            0.001,
            0.02425,
            0.1,
            0.5,
            0.7,
            0.975,
            1.0 - 1e-9,
        ] {
            let x = normal_quantile(p);
            let back = normal_cdf(x);
            // Relative in the lower tail; Φ near 1 carries only absolute precision.
            let err = if p < 0.5 { (back - p) / p } else { back - p };
            assert!(err.abs() < 1e-12, "p = {p}: {back}");
        }
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
        assert_eq!(normal_quantile(0.5), 0.0);
        assert!(normal_quantile(0.0).is_infinite() && normal_quantile(1.5).is_nan());
    }
}
