//! Oracles: hand-computed values, naive references, and codes built to carry exactly known
//! information about the factors.

use super::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Average ranks by counting, O(n²): #(smaller) + (#(equal) + 1)/2.
fn naive_ranks(v: &[f64]) -> Vec<f64> {
    v.iter()
        .map(|&x| {
            let below = v.iter().filter(|&&y| y < x).count() as f64;
            let equal = v.iter().filter(|&&y| y == x).count() as f64;
            below + (equal + 1.0) / 2.0
        })
        .collect()
}

fn naive_pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn spearman_hand_value_with_ties() {
    // ranks a = [1, 2.5, 2.5, 4], b = [1, 3, 2, 4]: ρ = 4.5 / √(4.5 · 5)
    let rho = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
    assert!((rho - 4.5 / (4.5f64 * 5.0).sqrt()).abs() < 1e-15, "{rho}");
    assert!((rho - 0.948_683_298_050_513_8).abs() < 1e-15);
}

#[test]
fn spearman_matches_pearson_of_naive_average_ranks_on_tied_data() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for trial in 0..20 {
        let n = 5 + trial * 7;
        // few distinct values: heavy ties in both, as with class indices
        let a: Vec<f64> = (0..n).map(|_| rng.random_range(0..4) as f64).collect();
        let b: Vec<f64> = a
            .iter()
            .map(|&x| (x + rng.random_range(0..3) as f64).floor())
            .collect();
        if a.iter().all(|&x| x == a[0]) || b.iter().all(|&x| x == b[0]) {
            continue;
        }
        let fast = spearman(&a, &b).unwrap();
        let naive = naive_pearson(&naive_ranks(&a), &naive_ranks(&b));
        assert!((fast - naive).abs() < 1e-12, "n = {n}: {fast} vs {naive}");
    }
}

#[test]
fn spearman_of_monotone_maps_is_plus_or_minus_one() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let a: Vec<f64> = (0..500).map(|_| StandardNormal.sample(&mut rng)).collect();
    let up: Vec<f64> = a.iter().map(|x: &f64| x.exp() + x.powi(3)).collect();
    let down: Vec<f64> = a.iter().map(|x| -x * 7.0 + 1.0).collect();
    assert!((spearman(&a, &up).unwrap() - 1.0).abs() < 1e-12);
    assert!((spearman(&a, &down).unwrap() + 1.0).abs() < 1e-12);
    // ties preserved by a monotone map still give exactly 1
    let tied = [0.0, 0.0, 1.0, 1.0, 1.0, 2.0];
    let mapped: Vec<f64> = tied.iter().map(|x| 10.0 * x - 3.0).collect();
    assert!((spearman(&tied, &mapped).unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn spearman_rejects_bad_input() {
    assert!(spearman(&[1.0, 2.0], &[1.0]).is_err());
    assert!(spearman(&[1.0], &[1.0]).is_err());
    assert!(spearman(&[1.0, f64::NAN], &[1.0, 2.0]).is_err());
    assert!(spearman(&[1.0, 2.0], &[f64::INFINITY, 2.0]).is_err());
    let err = spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).unwrap_err();
    assert!(err.to_string().contains("constant"), "{err}");
}

/// Every combination of the class counts `sizes`, in row-major order (last factor fastest).
fn full_grid(sizes: &[usize]) -> Vec<Vec<usize>> {
    let total: usize = sizes.iter().product();
    (0..total)
        .map(|mut i| {
            let mut row = vec![0; sizes.len()];
            for (f, &s) in sizes.iter().enumerate().rev() {
                row[f] = i % s;
                i /= s;
            }
            row
        })
        .collect()
}

const NAMES: [&str; 5] = ["shape", "scale", "orientation", "pos_x", "pos_y"];

#[test]
fn factor_scores_find_the_latent_of_each_factor_and_skip_dead_latents() {
    let sizes = [3, 2, 4, 5, 4];
    let rows = full_grid(&sizes);
    let factors = Factors::new(&NAMES, &sizes, &rows).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // latent 0 dead, 1 = noise, 2 = pos_x³ (monotone), 3 = −scale, 4 = pos_y + small noise
    let mut data = Vec::new();
    for r in &rows {
        let noise: f64 = StandardNormal.sample(&mut rng);
        data.extend([
            0.25,
            noise,
            (r[3] as f64).powi(3),
            -(r[1] as f64),
            r[4] as f64 + 0.01 * noise,
        ]);
    }
    let codes = Codes::new(rows.len(), 5, data).unwrap();
    let scores = factor_scores(&codes, &factors).unwrap();
    let by_name = |n: &str| scores.iter().find(|s| s.factor == n).unwrap();
    assert_eq!(by_name("pos_x").best_latent, 2);
    assert!((by_name("pos_x").best_abs_spearman - 1.0).abs() < 1e-12);
    assert_eq!(by_name("scale").best_latent, 3);
    assert!((by_name("scale").best_abs_spearman - 1.0).abs() < 1e-12);
    // pos_y + tiny noise keeps the order of the 4 tied classes but breaks the ties, so ρ is the
    // correlation of k = 4 equal groups' average ranks with all ranks, √((n² − n²/k²)/(n² − 1))
    // (≈ 0.968, not 1): what tie-averaged ranks must give
    assert_eq!(by_name("pos_y").best_latent, 4);
    let n = rows.len() as f64;
    let tied = ((n * n - n * n / 16.0) / (n * n - 1.0)).sqrt();
    assert!((by_name("pos_y").best_abs_spearman - tied).abs() < 1e-12);
    // shape and orientation are carried by no latent: the best is the noise latent or pos_y's,
    // and small (|ρ| of 480 independent draws: sd ≈ 1/√479 ≈ 0.046)
    for name in ["shape", "orientation"] {
        let s = by_name(name);
        assert!(s.best_latent == 1 || s.best_latent == 4, "{s:?}");
        assert!(s.best_abs_spearman < 0.2, "{s:?}");
    }
}

#[test]
fn factor_scores_errors() {
    let rows = vec![[0usize, 1], [0, 0], [0, 1]];
    let factors = Factors::new(&["a", "b"], &[2, 2], &rows).unwrap();
    let codes = Codes::new(3, 2, vec![1.0, 0.0, 2.0, 0.0, 3.0, 0.0]).unwrap();
    // factor "a" is constant
    let err = factor_scores(&codes, &factors).unwrap_err();
    assert!(err.to_string().contains('a'), "{err}");
    let rows = vec![[0usize, 1], [1, 0], [0, 1]];
    let factors = Factors::new(&["a", "b"], &[2, 2], &rows).unwrap();
    let dead = Codes::new(3, 2, vec![1.0; 6]).unwrap();
    assert!(factor_scores(&dead, &factors).is_err());
    let short = Codes::new(2, 2, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    assert!(factor_scores(&short, &factors).is_err());
}

#[test]
fn histogram_discretize_follows_numpy_edges() {
    // edges 0, 2, 4, 6, 8, (10): [e_j, e_j+1) and the last bin closed
    let x: Vec<f64> = (0..=10).map(f64::from).collect();
    assert_eq!(
        histogram_discretize(&x, 5).unwrap(),
        vec![0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 4]
    );
    // edges lo + i·0.1: e_3 = 3·0.1 = 0.30000000000000004 > 0.3, so 0.3 stays in bin 2 and the
    // value equal to e_3 opens bin 3; e_7 = 0.7000000000000001 > 0.7
    let e3 = 3.0 * 0.1;
    assert!(e3 > 0.3);
    let x = [0.0, 0.3, e3, 0.7, 0.95, 1.0];
    assert_eq!(
        histogram_discretize(&x, 10).unwrap(),
        vec![0, 2, 3, 6, 9, 9]
    );
    // one bin holds everything; a constant input lands in one bin
    assert_eq!(histogram_discretize(&x, 1).unwrap(), vec![0; 6]);
    let c = histogram_discretize(&[2.5; 4], 20).unwrap();
    assert!(c.iter().all(|&b| b == c[0] && b < 20));
    assert!(histogram_discretize(&x, 0).is_err());
    assert!(histogram_discretize(&[], 3).is_err());
    assert!(histogram_discretize(&[0.0, f64::NAN], 3).is_err());
}

#[test]
fn mi_matches_a_hand_computed_contingency_table() {
    // factor [0,0,1,1], latent bins [0,0,0,1]:
    // I = ½ ln(4/3) + ¼ ln(2/3) + ¼ ln 2 (sklearn's mutual_info_score gives 0.2157615543388357)
    let factors = Factors::new(&["f"], &[2], &[[0usize], [0], [1], [1]]).unwrap();
    let codes = Codes::new(4, 2, vec![0.0, 5.0, 0.0, 6.0, 0.0, 5.0, 1.0, 6.0]).unwrap();
    let mi = mi_matrix(&codes, &factors, 2).unwrap();
    let want = 0.5 * (4.0f64 / 3.0).ln() + 0.25 * (2.0f64 / 3.0).ln() + 0.25 * 2f64.ln();
    assert!((mi[0][0] - want).abs() < 1e-15, "{}", mi[0][0]);
    assert!((want - 0.215_761_554_338_835_7).abs() < 1e-12);
    // latent 1 alternates 5, 6 across both classes: independent, exactly 0
    assert!(mi[0][1].abs() < 1e-15);
    assert!((factor_entropies(&factors)[0] - 2f64.ln()).abs() < 1e-15);
}

#[test]
fn a_latent_equal_to_a_factor_has_mi_equal_to_its_entropy_and_mig_one() {
    // 6 classes × 20 levels of an independent latent, every pair equally often
    let n = 6 * 20 * 10;
    let rows: Vec<[usize; 1]> = (0..n).map(|i| [i % 6]).collect();
    let mut data = Vec::new();
    for i in 0..n {
        data.extend([(i % 6) as f64, ((i / 6) % 20) as f64 * 0.37 - 1.0]);
    }
    let factors = Factors::new(&["scale"], &[6], &rows).unwrap();
    let codes = Codes::new(n, 2, data).unwrap();
    let mi = mi_matrix(&codes, &factors, MIG_BINS).unwrap();
    assert!((mi[0][0] - 6f64.ln()).abs() < 1e-12, "{:?}", mi);
    assert!(mi[0][1].abs() < 1e-12, "{:?}", mi);
    let m = mig(&codes, &factors, MIG_BINS).unwrap();
    assert_eq!(m[0].0, "scale");
    assert!((m[0].1 - 1.0).abs() < 1e-12, "{m:?}");
    assert!((mean_mig(&m) - 1.0).abs() < 1e-12);
}

#[test]
fn independent_noise_has_near_zero_mi_within_the_plug_in_bias() {
    let n = 20_000;
    let mut rng = ChaCha8Rng::seed_from_u64(20190609);
    let rows: Vec<[usize; 2]> = (0..n)
        .map(|_| [rng.random_range(0..6), rng.random_range(0..32)])
        .collect();
    let mut data = Vec::new();
    for r in &rows {
        let u: f64 = StandardNormal.sample(&mut rng);
        // latent 0 carries pos exactly (32 classes over 20 bins), latent 1 is noise
        data.extend([r[1] as f64, u]);
    }
    let factors = Factors::new(&["scale", "pos"], &[6, 32], &rows).unwrap();
    let codes = Codes::new(n, 2, data).unwrap();
    let mi = mi_matrix(&codes, &factors, MIG_BINS).unwrap();
    // Miller–Madow: E[plug-in] − I ≈ (C − 1)(bins − 1)/(2N); allow 3× for sampling spread
    let bias = |c: f64| (c - 1.0) * (MIG_BINS as f64 - 1.0) / (2.0 * n as f64);
    for (f, &c) in [6.0, 32.0].iter().enumerate() {
        assert!(
            mi[f][1] >= 0.0 && mi[f][1] < 3.0 * bias(c),
            "{f}: {}",
            mi[f][1]
        );
    }
    assert!(mi[0][0] < 3.0 * bias(6.0), "{}", mi[0][0]);
    // 32 positions in 20 bins (12 bins of two positions, 8 of one): I = H(bin) ≈ 2.946 nats
    // when the positions are uniform, and never more than H(pos)
    let h_pos = factor_entropies(&factors)[1];
    assert!(
        (mi[1][0] - 2.946).abs() < 0.02 && mi[1][0] <= h_pos,
        "{}",
        mi[1][0]
    );
    let m = mig(&codes, &factors, MIG_BINS).unwrap();
    assert!(m[0].1.abs() < 3.0 * bias(6.0) / 6f64.ln(), "{m:?}");
}

#[test]
fn mig_errors() {
    let rows = [[0usize], [1], [0], [1]];
    let factors = Factors::new(&["f"], &[2], &rows).unwrap();
    let one = Codes::new(4, 1, vec![0.0, 1.0, 0.0, 1.0]).unwrap();
    assert!(mig(&one, &factors, 20).is_err());
    let flat = Factors::new(&["f"], &[2], &[[1usize], [1], [1], [1]]).unwrap();
    let two = Codes::new(4, 2, vec![0.0, 1.0, 0.0, 1.0, 2.0, 2.0, 1.0, 0.0]).unwrap();
    assert!(mig(&two, &flat, 20).is_err());
    assert!(mi_matrix(&two, &factors, 0).is_err());
    let three = Codes::new(3, 2, vec![0.0; 6]).unwrap();
    assert!(mi_matrix(&three, &factors, 20).is_err());
}

#[test]
fn active_latents_keep_variances_above_the_fraction_of_the_largest() {
    // columns with variances 4, 1, 0.0225, 0 (±2, ±1, ±0.15, constant)
    let mut data = Vec::new();
    for s in [1.0, -1.0, 1.0, -1.0] {
        data.extend([2.0 * s, s, 0.15 * s, 3.0]);
    }
    let codes = Codes::new(4, 4, data).unwrap();
    let var = latent_variances(&codes);
    for (v, want) in var.iter().zip([4.0, 1.0, 0.0225, 0.0]) {
        assert!((v - want).abs() < 1e-12, "{var:?}");
    }
    assert_eq!(
        active_latents(&codes, &ActiveRule::default()).unwrap(),
        [0, 1]
    );
    let loose = ActiveRule {
        min_relative_variance: 0.001,
    };
    assert_eq!(active_latents(&codes, &loose).unwrap(), [0, 1, 2]);
    for bad in [f64::NAN, 1.0, -0.1] {
        let rule = ActiveRule {
            min_relative_variance: bad,
        };
        assert!(active_latents(&codes, &rule).is_err());
    }
    let dead = Codes::new(3, 2, vec![1.0; 6]).unwrap();
    assert!(active_latents(&dead, &ActiveRule::default())
        .unwrap()
        .is_empty());
}

#[test]
fn codes_and_factors_reject_bad_input() {
    assert!(Codes::new(2, 2, vec![1.0; 3]).is_err());
    assert!(Codes::new(0, 2, vec![]).is_err());
    assert!(Codes::new(1, 2, vec![1.0, f64::NAN]).is_err());
    assert!(Codes::from_f32(1, 2, &[1.0, f32::INFINITY]).is_err());
    let c = Codes::from_f32(2, 2, &[1.0, 2.0, 3.0, 4.0]).unwrap();
    assert_eq!((c.get(1, 0), c.column(1)), (3.0, vec![2.0, 4.0]));
    assert!(Factors::new(&["a"], &[2], &[[2usize]]).is_err());
    assert!(Factors::new(&["a", "b"], &[2], &[[0usize]]).is_err());
    assert!(Factors::new(&["a"], &[0], &[[0usize]]).is_err());
    assert!(Factors::new(&["a", "b"], &[2, 2], &[vec![0usize, 1], vec![1]]).is_err());
    let empty: [[usize; 1]; 0] = [];
    assert!(Factors::new(&["a"], &[2], &empty).is_err());
}

fn selectivity_grid() -> (Codes, Factors, Vec<Vec<usize>>) {
    let sizes = [3, 2, 4, 5, 4];
    let rows = full_grid(&sizes);
    let factors = Factors::new(&NAMES, &sizes, &rows).unwrap();
    let mut data = Vec::new();
    for r in &rows {
        // latent 0 = pos_x; latent 1 = 10·shape + orientation; latent 2 = pos_y − scale
        data.extend([
            r[3] as f64,
            10.0 * r[0] as f64 + r[2] as f64,
            r[4] as f64 - r[1] as f64,
        ]);
    }
    (Codes::new(rows.len(), 3, data).unwrap(), factors, rows)
}

#[test]
fn selectivity_means_on_synthetic_codes() {
    let (codes, factors, _) = selectivity_grid();
    let axes = SelectivityAxes {
        scale_values: vec![0.5, 1.0],
        ..Default::default()
    };
    let sel = Selectivity::compute(&codes, &factors, &[0, 1, 2], &axes).unwrap();
    assert_eq!(sel.rows.len(), 3);
    assert_eq!(sel.shape_names, ["shape 0", "shape 1", "shape 2"]);
    assert_eq!(sel.scale_values, [0.5, 1.0]);
    assert_eq!(sel.orientation_values, [0.0, 1.0, 2.0, 3.0]);
    assert_eq!(sel.factor_names[3], "pos_x");
    let (p0, p1, p2) = (&sel.rows[0], &sel.rows[1], &sel.rows[2]);
    // μ = pos_x: every heatmap row (fixed pos_y) is 0, 1, 2, 3, 4
    assert_eq!(p0.position.len(), 4);
    for row in &p0.position {
        assert_eq!(row, &[0.0, 1.0, 2.0, 3.0, 4.0]);
    }
    // and its scale / orientation curves are flat at the mean pos_x
    assert!(p0.scale.iter().flatten().all(|&v| (v - 2.0).abs() < 1e-12));
    // μ = 10·shape + orientation: per-shape lines
    for s in 0..3 {
        for o in 0..4 {
            assert!((p1.orientation[s][o] - (10.0 * s as f64 + o as f64)).abs() < 1e-12);
        }
        for c in 0..2 {
            assert!((p1.scale[s][c] - (10.0 * s as f64 + 1.5)).abs() < 1e-12);
        }
    }
    // μ = pos_y − scale: heatmap columns constant (pos_y − 0.5), scale lines 1.5 − c
    for (y, row) in p2.position.iter().enumerate() {
        assert!(row.iter().all(|&v| (v - (y as f64 - 0.5)).abs() < 1e-12));
    }
    assert!((p2.scale[1][1] - 0.5).abs() < 1e-12);
    assert_eq!(p2.latent, 2);
}

#[test]
fn selectivity_agrees_with_brute_force_means_and_marks_empty_cells() {
    let (_, factors, rows) = selectivity_grid();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    // random codes on a subset without the cell (pos_x, pos_y) = (0, 0)
    let keep: Vec<&Vec<usize>> = rows.iter().filter(|r| r[3] + r[4] > 0).collect();
    let data: Vec<f64> = (0..keep.len() * 2)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let codes = Codes::new(keep.len(), 2, data).unwrap();
    let sub = Factors::new(&NAMES, factors.sizes(), &keep).unwrap();
    let sel = Selectivity::compute(&codes, &sub, &[1], &SelectivityAxes::default()).unwrap();
    let brute = |pred: &dyn Fn(&[usize]) -> bool| {
        let hits: Vec<f64> = (0..keep.len())
            .filter(|&i| pred(keep[i]))
            .map(|i| codes.get(i, 1))
            .collect();
        hits.iter().sum::<f64>() / hits.len() as f64
    };
    let got = &sel.rows[0];
    assert!(got.position[0][0].is_nan());
    assert!((got.position[3][2] - brute(&|r| r[3] == 2 && r[4] == 3)).abs() < 1e-12);
    assert!((got.scale[2][1] - brute(&|r| r[0] == 2 && r[1] == 1)).abs() < 1e-12);
    assert!((got.orientation[1][3] - brute(&|r| r[0] == 1 && r[2] == 3)).abs() < 1e-12);
}

#[test]
fn selectivity_rejects_bad_axes() {
    let (codes, factors, _) = selectivity_grid();
    let ok = SelectivityAxes::default();
    assert!(Selectivity::compute(&codes, &factors, &[3], &ok).is_err());
    let dup = SelectivityAxes {
        pos_y: 3,
        ..Default::default()
    };
    assert!(Selectivity::compute(&codes, &factors, &[0], &dup).is_err());
    let out = SelectivityAxes {
        pos_y: 5,
        ..Default::default()
    };
    assert!(Selectivity::compute(&codes, &factors, &[0], &out).is_err());
    let short = SelectivityAxes {
        orientation_values: vec![0.0, 1.0],
        ..Default::default()
    };
    assert!(Selectivity::compute(&codes, &factors, &[0], &short).is_err());
    let names = SelectivityAxes {
        shape_names: vec!["square".into()],
        ..Default::default()
    };
    assert!(Selectivity::compute(&codes, &factors, &[0], &names).is_err());
    let fewer = Codes::new(2, 3, vec![0.0; 6]).unwrap();
    assert!(Selectivity::compute(&fewer, &factors, &[0], &ok).is_err());
}

/// The whole dSprites grid (737,280 rows × 10 latents): how long the scores take. Run with
/// `cargo test -p mi_core --lib --release full_grid_timing -- --ignored --nocapture`.
#[test]
#[ignore]
fn full_grid_timing() {
    let sizes = [3, 6, 40, 32, 32];
    let rows: Vec<Vec<usize>> = full_grid(&sizes);
    let factors = Factors::new(&NAMES, &sizes, &rows).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let k = 10;
    let mut data = Vec::with_capacity(rows.len() * k);
    for r in &rows {
        for j in 0..k {
            let e: f64 = StandardNormal.sample(&mut rng);
            data.push(r.get(j).map_or(e, |&c| c as f64 + 0.3 * e));
        }
    }
    let codes = Codes::new(rows.len(), k, data).unwrap();
    let t = std::time::Instant::now();
    let scores = factor_scores(&codes, &factors).unwrap();
    let t_rho = t.elapsed();
    let t = std::time::Instant::now();
    let m = mig(&codes, &factors, MIG_BINS).unwrap();
    let t_mig = t.elapsed();
    let t = std::time::Instant::now();
    let active = active_latents(&codes, &ActiveRule::default()).unwrap();
    let sel = Selectivity::compute(&codes, &factors, &active, &SelectivityAxes::default()).unwrap();
    let t_sel = t.elapsed();
    println!(
        "factor_scores {t_rho:?}, mig {t_mig:?}, selectivity ({} latents) {t_sel:?}",
        sel.rows.len()
    );
    println!("{scores:?}\n{m:?} mean {}", mean_mig(&m));
    for (f, s) in scores.iter().enumerate() {
        assert_eq!(s.best_latent, f);
    }
}
