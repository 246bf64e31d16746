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

/// One bound on one matrix (`mi bounds --bound NAME`).
#[derive(Clone, Debug, Serialize)]
pub struct OneBound {
    /// The bound's name.
    pub bound: String,
    /// Lower, upper or neither.
    pub kind: BoundKind,
    /// Its value (nats).
    pub value: f64,
    /// α, for the interpolated bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// `given` or `recommended`, for the interpolated bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha_source: Option<&'static str>,
    /// The MI estimate the recommendation used: max(InfoNCE, TUBA, 0) on the same matrix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mi_estimate: Option<f64>,
}

impl OneBound {
    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Io {
            path: "<stdout>".into(),
            detail: e.to_string(),
        })
    }

    /// A two-line plain-text table.
    pub fn render_table(&self) -> String {
        let alpha = match (self.alpha, self.alpha_source) {
            (Some(a), Some(src)) => format!("  (α = {a}, {src})"),
            _ => String::new(),
        };
        format!(
            "{:<24}  {:<8}  {:>16}\n{:<24}  {:<8}  {:>16.10}{alpha}\n",
            "bound",
            "kind",
            "value (nats)",
            self.bound,
            kind_name(self.kind),
            self.value
        )
    }
}

/// Evaluates one bound by name in f64. `interpolated` takes the first `--alpha`, or the α that
/// [`recommend_alpha`](crate::experiments::recommend_alpha) gives for this B and an MI estimate
/// of max(InfoNCE, TUBA, 0) on the same matrix.
pub fn evaluate_one(
    name: &str,
    scores: &Tensor,
    log_baseline: Option<&Tensor>,
    opts: &BoundsOptions,
) -> Result<OneBound> {
    let (s, l) = prepare(scores, log_baseline)?;
    let alphas = parse_alphas(opts)?;
    let (bound, alpha_source, mi_estimate) = match name.trim() {
        "interpolated" | "alpha" => match alphas.first() {
            Some((_, a)) => (Bound::Interpolated { alpha: *a }, Some("given"), None),
            None => {
                let nce = Bound::InfoNce.evaluate(&s, Some(&l))?.to_scalar::<f64>()?;
                let tuba = Bound::Tuba.evaluate(&s, Some(&l))?.to_scalar::<f64>()?;
                let mi = nce.max(tuba).max(0.0);
                let a = crate::experiments::recommend_alpha(s.dim(0)?, mi)?;
                (
                    Bound::Interpolated {
                        alpha: Alpha::new(a)?,
                    },
                    Some("recommended"),
                    Some(mi),
                )
            }
        },
        "js" => (
            Bound::Js {
                eval_shift: opts.js_eval_shift,
            },
            None,
            None,
        ),
        "smile" => (
            Bound::Smile {
                tau: opts.smile_tau,
            },
            None,
            None,
        ),
        other => (other.parse::<Bound>()?, None, None),
    };
    let value = bound.evaluate(&s, Some(&l))?.to_scalar::<f64>()?;
    let alpha = match bound {
        Bound::Interpolated { alpha } => Some(alpha.value()),
        _ => None,
    };
    Ok(OneBound {
        bound: bound.name(),
        kind: bound.kind(),
        value,
        alpha,
        alpha_source: alpha.map(|_| alpha_source.unwrap_or("given")),
        mi_estimate,
    })
}

fn prepare(scores: &Tensor, log_baseline: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
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
    Ok((s, l))
}

fn parse_alphas(opts: &BoundsOptions) -> Result<Vec<(String, Alpha)>> {
    opts.alphas
        .iter()
        .map(|typed| {
            let v: f64 = typed.trim().parse().map_err(|_| Error::InvalidParameter {
                op: "mi bounds",
                name: "alpha",
                value: typed.clone(),
                reason: "α must be a number in [0, 1]",
            })?;
            Ok((typed.clone(), Alpha::new(v)?))
        })
        .collect()
}

fn kind_name(k: BoundKind) -> &'static str {
    match k {
        BoundKind::Lower => "lower",
        BoundKind::Upper => "upper",
        BoundKind::Neither => "neither",
    }
}

/// Evaluates every bound in f64 on `scores [B, B]` with an optional `log_baseline [B]`.
pub fn evaluate_all(
    scores: &Tensor,
    log_baseline: Option<&Tensor>,
    opts: &BoundsOptions,
) -> Result<AllBounds> {
    let (s, l) = prepare(scores, log_baseline)?;
    let alphas = parse_alphas(opts)?;
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
    let kind = kind_name;
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
