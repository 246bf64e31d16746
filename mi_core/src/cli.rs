//! The library side of the `mi` command (feature `cli`): evaluate every bound on one matrix.

use crate::bounds::{Alpha, Bound, BoundKind};
use crate::error::{Error, Result};
use candle_core::{DType, Tensor};
use serde::Serialize;
use std::collections::BTreeMap;

/// A whole-number argument of `op` as typed (clap reads it as an `i128`, so that `-1` is a value
/// and not an unknown flag): `value` if it is at least `min` (0, 1 or 2) and fits `T`, else a
/// range error naming the argument.
pub fn whole_arg<T: TryFrom<i128>>(
    op: &'static str,
    name: &'static str,
    value: i128,
    min: i128,
) -> Result<T> {
    if value >= min {
        if let Ok(v) = T::try_from(value) {
            return Ok(v);
        }
    }
    Err(Error::InvalidParameter {
        op,
        name,
        value: value.to_string(),
        reason: match min {
            i128::MIN..=0 => "must be a whole number ≥ 0 that fits in 64 bits",
            1 => "must be a whole number ≥ 1 (at least one) that fits in 64 bits",
            _ => "must be a whole number ≥ 2 that fits in 64 bits",
        },
    })
}

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
    /// What the values guarantee beyond their kind (loo_upper needs S = log p(y_i | x_j)).
    pub notes: Vec<String>,
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
    /// For the structured bounds: when the value is a bound at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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
        let kind = label(self.kind, self.note.is_some());
        format!(
            "{:<24}  {:<24}  {:>16}\n{:<24}  {:<24}  {:>16.10}{alpha}\n",
            "bound", "kind", "value (nats)", self.bound, kind, self.value
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
    let interpolated = matches!(name.trim(), "interpolated" | "alpha");
    if !interpolated && !alphas.is_empty() {
        return Err(Error::InvalidParameter {
            op: "mi bounds",
            name: "alpha",
            value: crate::limits::excerpt(&format!(
                "{} with --bound {}",
                opts.alphas.join(", "),
                name.trim()
            )),
            reason: "α is read only by the interpolated bound: drop --alpha, or use --bound \
                     interpolated (or alpha_A)",
        });
    }
    let (bound, alpha_source, mi_estimate) = match name.trim() {
        "interpolated" | "alpha" => match alphas.first() {
            Some((_, a)) => (Bound::Interpolated { alpha: *a }, Some("given"), None),
            None => {
                let nce = Bound::InfoNce
                    .evaluate(&s, l.as_ref())?
                    .to_scalar::<f64>()?;
                let tuba = Bound::Tuba.evaluate(&s, l.as_ref())?.to_scalar::<f64>()?;
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
    if bound == Bound::Rate && l.is_none() {
        return Err(Error::InvalidParameter {
            op: "mi bounds",
            name: "log-baseline",
            value: "missing".into(),
            reason: "the rate needs --log-baseline: a normalised log q(y_i) per row",
        });
    }
    let value = bound.evaluate(&s, l.as_ref())?.to_scalar::<f64>()?;
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
        note: known_conditional_note(bound),
    })
}

fn prepare(scores: &Tensor, log_baseline: Option<&Tensor>) -> Result<(Tensor, Option<Tensor>)> {
    if scores.rank() != 2 {
        return Err(Error::Shape {
            op: "mi bounds",
            detail: format!("--scores must be a [B, B] matrix, got {:?}", scores.dims()),
        });
    }
    crate::bounds::validate::square("mi bounds", "--scores", scores)?;
    let s = scores.to_dtype(DType::F64)?;
    // A given baseline is checked whether or not the chosen bounds read it.
    let l = match log_baseline {
        Some(l) => {
            let l = l.to_dtype(DType::F64)?;
            crate::bounds::validate::per_row("mi bounds", "log_baseline", &l, &s)?;
            Some(l)
        }
        None => None,
    };
    Ok((s, l))
}

/// What a structured bound guarantees on a matrix that may not be log p(y_i | x_j).
fn known_conditional_note(bound: Bound) -> Option<String> {
    bound.needs_known_conditional().then(|| {
        format!(
            "{} is {} bound only when the scores are log p(y_i | x_j) of a known conditional{}; \
             on critic scores it bounds nothing",
            bound.name(),
            match bound.kind() {
                BoundKind::Upper => "an upper",
                _ => "a lower",
            },
            if bound == Bound::Rate {
                " and the log-baseline a normalised log q(y_i)"
            } else {
                ""
            }
        )
    })
}

/// The kind column of the tables: e.g. `upper if S = log p(y|x)` for the structured bounds.
fn kind_label(bound: Bound) -> String {
    label(bound.kind(), bound.needs_known_conditional())
}

fn label(kind: BoundKind, needs_known_conditional: bool) -> String {
    if needs_known_conditional {
        format!("{} if S = log p(y|x)", kind.name())
    } else {
        kind.name().to_string()
    }
}

fn parse_alphas(opts: &BoundsOptions) -> Result<Vec<(String, Alpha)>> {
    let mut parsed: Vec<(String, Alpha)> = Vec::with_capacity(opts.alphas.len());
    for typed in &opts.alphas {
        let v: f64 = typed.trim().parse().map_err(|_| Error::InvalidParameter {
            op: "mi bounds",
            name: "alpha",
            value: crate::limits::excerpt(typed),
            reason: "α must be a number in [0, 1]",
        })?;
        let alpha = Alpha::new(v)?;
        if let Some((first, _)) = parsed.iter().find(|(_, a)| a.value() == alpha.value()) {
            return Err(Error::InvalidParameter {
                op: "mi bounds",
                name: "alpha",
                value: crate::limits::excerpt(&format!("{first:?} and {typed:?}")),
                reason: "the same α was given twice; give each α once",
            });
        }
        parsed.push((typed.clone(), alpha));
    }
    Ok(parsed)
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
        let v = b.evaluate(&s, l.as_ref())?;
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
        notes: known_conditional_note(Bound::LooUpper)
            .into_iter()
            .collect(),
    })
}

/// A plain-text table: bound, kind, value.
pub fn render_table(all: &AllBounds) -> String {
    let mut rows: Vec<(String, String, f64)> = vec![
        ("tuba".into(), kind_label(Bound::Tuba), all.tuba),
        ("nwj".into(), kind_label(Bound::Nwj), all.nwj),
        ("dv".into(), kind_label(Bound::Dv), all.dv),
        ("infonce".into(), kind_label(Bound::InfoNce), all.infonce),
        (
            "js_fgan".into(),
            "neither (2·JSD − log 4)".into(),
            all.js_fgan,
        ),
        (
            "js".into(),
            kind_label(Bound::Js { eval_shift: 0.0 }),
            all.js,
        ),
        (
            "smile".into(),
            kind_label(Bound::Smile { tau: 1.0 }),
            all.smile,
        ),
        (
            "loo_upper".into(),
            kind_label(Bound::LooUpper),
            all.loo_upper,
        ),
    ];
    let interpolated = kind_label(Bound::Interpolated { alpha: Alpha::ONE });
    for (a, v) in &all.interpolated {
        rows.push((format!("interpolated α={a}"), interpolated.clone(), *v));
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
