//! Shared test helpers: the reference cases and small tensor utilities.
#![allow(dead_code)]

use candle_core::{DType, Device, Tensor};
use serde_json::Value;

#[cfg(feature = "cli")]
pub mod cli;

pub struct Case {
    pub index: usize,
    pub b: usize,
    pub scores: Vec<f64>,
    pub log_baseline: Vec<f64>,
    pub raw: Value,
}

impl Case {
    /// The ±500-shifted cases, whose inputs already round at 1e-4 in f32.
    pub fn extreme(&self) -> bool {
        self.scores.iter().any(|v| v.abs() > 400.0)
    }
    pub fn scores(&self, dtype: DType) -> Tensor {
        Tensor::from_vec(self.scores.clone(), (self.b, self.b), &Device::Cpu)
            .and_then(|t| t.to_dtype(dtype))
            .expect("scores tensor")
    }
    pub fn log_baseline(&self, dtype: DType) -> Tensor {
        Tensor::from_vec(self.log_baseline.clone(), self.b, &Device::Cpu)
            .and_then(|t| t.to_dtype(dtype))
            .expect("baseline tensor")
    }
    /// The reference value of `key`, None where the file holds null.
    pub fn value(&self, key: &str) -> Option<f64> {
        self.raw[key].as_f64()
    }
}

pub fn cases() -> (Vec<f64>, Vec<Case>) {
    let text = include_str!("../data/bounds_cases.json");
    let doc: Value = serde_json::from_str(text).expect("valid json");
    let alphas = doc["alphas"]
        .as_array()
        .expect("alphas")
        .iter()
        .map(|v| v.as_f64().expect("alpha"))
        .collect();
    let cases = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let rows = c["scores"].as_array().expect("scores");
            let b = rows.len();
            let scores: Vec<f64> = rows
                .iter()
                .flat_map(|r| {
                    r.as_array()
                        .expect("row")
                        .iter()
                        .map(|v| v.as_f64().expect("num"))
                })
                .collect();
            assert_eq!(scores.len(), b * b);
            let log_baseline = c["log_baseline"]
                .as_array()
                .expect("baseline")
                .iter()
                .map(|v| v.as_f64().expect("num"))
                .collect();
            Case {
                index,
                b,
                scores,
                log_baseline,
                raw: c.clone(),
            }
        })
        .collect();
    (alphas, cases)
}

pub fn scalar(t: &Tensor) -> f64 {
    t.to_dtype(DType::F64)
        .and_then(|t| t.to_scalar::<f64>())
        .expect("scalar")
}

pub fn vec1(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .and_then(|t| t.to_vec1::<f64>())
        .expect("vec1")
}

/// max |a − b| over all entries (same shapes).
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    scalar(
        &a.sub(b)
            .and_then(|d| d.abs())
            .and_then(|d| d.max_all())
            .expect("max |a − b|"),
    )
}

pub fn matrix(v: &[f64], b: usize) -> Tensor {
    Tensor::from_vec(v.to_vec(), (b, b), &Device::Cpu).expect("matrix")
}

/// Is `got` within tolerance of `want`? f64: 1e-9 relative; f32: 1e-4 relative or 1e-4
/// absolute, 1e-3 absolute for the extreme cases; values beyond f32's range may overflow to ±∞
/// with the right sign.
pub fn close(got: f64, want: f64, dtype: DType, extreme: bool) -> bool {
    let diff = (got - want).abs();
    match dtype {
        DType::F64 => diff <= 1e-9 * want.abs().max(1e-300) || diff <= 1e-12,
        _ => {
            if want.abs() > f32::MAX as f64 {
                return got.is_infinite() && got.signum() == want.signum();
            }
            let tol_abs = if extreme { 1e-3 } else { 1e-4 };
            diff <= 1e-4 * want.abs() || diff <= tol_abs
        }
    }
}
