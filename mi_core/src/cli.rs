//! The library side of the `mi` command (feature `cli`): evaluate every bound on one matrix.

use crate::bounds::{Alpha, Bound, BoundKind};
use crate::error::{Error, Result};
use candle_core::{DType, Tensor};
use serde::Serialize;
use std::collections::BTreeMap;

/// Options of `mi bounds`.
#[derive(Clone, Debug)]
pub struct BoundsOptions {
    /// α values as typed by the user (they become the JSON keys).
    pub alphas: Vec<String>,
    /// The shift c of I_JS = NWJ(S + c).
    pub js_eval_shift: f64,
    /// SMILE's clip τ.
    pub smile_tau: f64,
}

/// Every bound on one matrix (the JSON contract of `mi bounds`; non-finite values print as null).
#[derive(Clone, Debug, Serialize)]
pub struct AllBounds {
    /// TUBA(S, ℓ).
    pub tuba: f64,
    /// NWJ(S).
    pub nwj: f64,
    /// DV(S).
    pub dv: f64,
    /// InfoNCE(S).
    pub infonce: f64,
    /// JSD_fgan(S).
    pub js_fgan: f64,
    /// I_JS = NWJ(S + c).
    pub js: f64,
    /// SMILE(S, τ).
    pub smile: f64,
    /// The leave-one-out upper bound with S read as log p(y_i|x_j).
    pub loo_upper: f64,
    /// α as typed → I_α(S, ℓ, α).
    pub interpolated: BTreeMap<String, f64>,
}

impl AllBounds {
    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Io {
            path: "<stdout>".into(),
            detail: e.to_string(),
        })
    }
}

/// Evaluates every bound in f64 on `scores [B, B]` with an optional `log_baseline [B]`.
pub fn evaluate_all(
    scores: &Tensor,
    log_baseline: Option<&Tensor>,
    opts: &BoundsOptions,
) -> Result<AllBounds> {
    if scores.rank() != 2 {
        return Err(Error::Shape {
            op: "mi bounds",
            detail: format!("--scores must be a [B, B] matrix, got {:?}", scores.dims()),
        });
    }
    crate::bounds::validate::square("mi bounds", "--scores", scores)?;
    let s = scores.to_dtype(DType::F64)?;
    let l = match log_baseline {
        Some(l) => l.to_dtype(DType::F64)?,
        None => Tensor::zeros(s.dim(0)?, DType::F64, s.device())?,
    };
    let mut alphas = Vec::with_capacity(opts.alphas.len());
    for typed in &opts.alphas {
        let v: f64 = typed.trim().parse().map_err(|_| Error::InvalidParameter {
            op: "mi bounds",
            name: "alpha",
            value: typed.clone(),
            reason: "α must be a number in [0, 1]",
        })?;
        alphas.push((typed.clone(), Alpha::new(v)?));
    }
    let eval = |b: Bound| -> Result<f64> {
        let v = b.evaluate(&s, Some(&l))?;
        Ok(v.to_scalar::<f64>()?)
    };
    let mut interpolated = BTreeMap::new();
    for (typed, alpha) in alphas {
        interpolated.insert(typed, eval(Bound::Interpolated { alpha })?);
    }
    Ok(AllBounds {
        tuba: eval(Bound::Tuba)?,
        nwj: eval(Bound::Nwj)?,
        dv: eval(Bound::Dv)?,
        infonce: eval(Bound::InfoNce)?,
        js_fgan: eval(Bound::JsFgan)?,
        js: eval(Bound::Js {
            eval_shift: opts.js_eval_shift,
        })?,
        smile: eval(Bound::Smile {
            tau: opts.smile_tau,
        })?,
        loo_upper: eval(Bound::LooUpper)?,
        interpolated,
    })
}

/// A plain-text table: bound, kind, value.
pub fn render_table(all: &AllBounds) -> String {
    let kind = |k: BoundKind| match k {
        BoundKind::Lower => "lower",
        BoundKind::Upper => "upper",
        BoundKind::Neither => "neither",
    };
    let mut rows: Vec<(String, &str, f64)> = vec![
        ("tuba".into(), kind(Bound::Tuba.kind()), all.tuba),
        ("nwj".into(), kind(Bound::Nwj.kind()), all.nwj),
        ("dv".into(), kind(Bound::Dv.kind()), all.dv),
        ("infonce".into(), kind(Bound::InfoNce.kind()), all.infonce),
        ("js_fgan".into(), "neither (2·JSD − log 4)", all.js_fgan),
        ("js".into(), "lower", all.js),
        ("smile".into(), "neither", all.smile),
        (
            "loo_upper".into(),
            kind(Bound::LooUpper.kind()),
            all.loo_upper,
        ),
    ];
    for (a, v) in &all.interpolated {
        rows.push((format!("interpolated α={a}"), "lower", *v));
    }
    let w = rows
        .iter()
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!("{:<w$}  {:<24}  {:>16}\n", "bound", "kind", "value (nats)");
    for (name, k, v) in rows {
        out.push_str(&format!("{name:<w$}  {k:<24}  {v:>16.10}\n"));
    }
    out
}
