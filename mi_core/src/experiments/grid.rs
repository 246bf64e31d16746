//! The (MI, batch size) grid that the optimal-critic experiments share — the bound survey,
//! Figure 3 and Figure 4: its settings, its checks, its cells, their random streams and the
//! parallel sweep over them. An experiment's `Config` holds a [`Grid`] (flattened in its JSON)
//! beside its own fields, its `run_with` is one call to [`Grid::sweep`], and its `Report` is a
//! [`GridReport`] of its own config and row types.

use super::{chunk_len, run_cells};
use crate::data::CorrelatedGaussian;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// MI × batch size × replicates on the correlated Gaussian of dimension `dim`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Dimension d of x and y (20 in the paper).
    pub dim: usize,
    /// True MI values in nats (each ≥ 0).
    pub mis: Vec<f64>,
    /// Batch sizes B (each ≥ 2).
    pub batch_sizes: Vec<usize>,
    /// Independent batches R per cell (≥ 2).
    pub replicates: usize,
    /// The run's seed; every cell draws from its own stream of it ([`super::cell_rng`]), so a
    /// cell's numbers do not depend on the other cells or the thread count.
    pub seed: u64,
    /// Worker threads over the cells (0 = one per core).
    pub threads: usize,
    /// Most entries of one `[chunk, B, B]` tensor (bounds memory: 2²² f64 = 32 MiB).
    pub max_chunk_elems: usize,
}

impl Default for Grid {
    /// d = 20, I ∈ {0, 1, …, 10} nats, B ∈ {16, 64, 256}, R = 200, seed 0, one thread per core.
    fn default() -> Self {
        Self {
            dim: 20,
            mis: (0..=10).map(f64::from).collect(),
            batch_sizes: vec![16, 64, 256],
            replicates: 200,
            seed: 0,
            threads: 0,
            max_chunk_elems: 1 << 22,
        }
    }
}

impl Grid {
    /// Checks d ≥ 1, at least one finite MI ≥ 0, batch sizes ≥ 2 and R ≥ 2; `op` names the
    /// experiment in the error.
    pub fn validate(&self, op: &'static str) -> Result<()> {
        let bad = |name: &'static str, value: String, reason: &'static str| {
            Err(Error::InvalidParameter {
                op,
                name,
                value,
                reason,
            })
        };
        if self.dim == 0 {
            return bad("dim", "0".into(), "need at least one dimension");
        }
        if self.mis.is_empty() || self.mis.iter().any(|m| !(m.is_finite() && *m >= 0.0)) {
            return bad(
                "mis",
                format!("{:?}", self.mis),
                "need at least one finite MI ≥ 0",
            );
        }
        if self.batch_sizes.is_empty() || self.batch_sizes.iter().any(|&b| b < 2) {
            return bad(
                "batch_sizes",
                format!("{:?}", self.batch_sizes),
                "need batch sizes ≥ 2",
            );
        }
        if self.replicates < 2 {
            return bad(
                "replicates",
                self.replicates.to_string(),
                "need at least 2 replicates",
            );
        }
        Ok(())
    }

    /// Every (MI, B) cell, MI-major.
    pub fn cells(&self) -> Vec<(f64, usize)> {
        self.mis
            .iter()
            .flat_map(|&mi| self.batch_sizes.iter().map(move |&b| (mi, b)))
            .collect()
    }

    /// The number of cells.
    pub fn num_cells(&self) -> usize {
        self.mis.len() * self.batch_sizes.len()
    }

    /// Evaluates `work(mi, B)` on every cell with [`Grid::threads`] workers, calling
    /// `on_cell(mi, B)` on the caller's thread as cells finish; returns the cells with their
    /// results, in [`Grid::cells`] order.
    pub(crate) fn sweep<T: Send>(
        &self,
        work: &(dyn Fn(f64, usize) -> Result<T> + Sync),
        on_cell: &mut dyn FnMut(f64, usize),
    ) -> Result<Vec<((f64, usize), T)>> {
        let cells = self.cells();
        let results = run_cells(&cells, self.threads, work, on_cell)?;
        Ok(cells.into_iter().zip(results).collect())
    }

    /// Replicates per `[chunk, B, B]` tensor at batch size `b`.
    pub(crate) fn chunk_len(&self, b: usize) -> usize {
        chunk_len(self.replicates, b, self.max_chunk_elems)
    }

    /// Draws cell (`mi`, `b`)'s R Gaussian batches from the cell's own stream, in chunks, and
    /// hands each chunk's `(log p(y_i|x_j) [c, B, B], log p(y_i) [c, B])` to `f` (f64, CPU).
    pub(crate) fn gaussian_chunks(
        &self,
        mi: f64,
        b: usize,
        mut f: impl FnMut(&candle_core::Tensor, &candle_core::Tensor) -> Result<()>,
    ) -> Result<()> {
        use crate::data::Sampler;
        let gauss = CorrelatedGaussian::from_mi(self.dim, mi)?;
        let d = self.dim;
        let mut rng = super::cell_rng(self.seed, gauss.mutual_information(), b);
        let chunk = self.chunk_len(b);
        let mut done = 0;
        while done < self.replicates {
            let c = chunk.min(self.replicates - done);
            let batch = gauss.sample(
                c * b,
                &mut rng,
                &candle_core::Device::Cpu,
                candle_core::DType::F64,
            )?;
            let (x, y) = (batch.x.reshape((c, b, d))?, batch.y.reshape((c, b, d))?);
            f(&gauss.log_cond_pairs(&x, &y)?, &gauss.log_marginal(&y)?)?;
            done += c;
        }
        Ok(())
    }
}

/// A row of one (MI, B) cell of a grid experiment, for [`GridReport::row`].
pub trait CellRow {
    /// The bound's or estimator's name.
    fn name(&self) -> &str;
    /// The cell's true MI.
    fn mi(&self) -> f64;
    /// The cell's batch size.
    fn batch_size(&self) -> usize;
}

/// `impl CellRow for ROW` from its `mi` and `batch_size` fields and the field holding its name.
macro_rules! impl_cell_row {
    ($row:ty, $name:ident) => {
        impl $crate::experiments::CellRow for $row {
            fn name(&self) -> &str {
                &self.$name
            }
            fn mi(&self) -> f64 {
                self.mi
            }
            fn batch_size(&self) -> usize {
                self.batch_size
            }
        }
    };
}
pub(crate) use impl_cell_row;

/// The result of a grid experiment: its configuration, one row per (name, MI, B) and the wall
/// time. Each experiment names it `Report` (`GridReport<Config, Row>`) and adds its own methods.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GridReport<C, R> {
    /// The configuration that produced it.
    pub config: C,
    /// One row per bound or estimator, MI and batch size.
    pub rows: Vec<R>,
    /// Wall time in seconds (NaN for a report read back from a table).
    pub elapsed_s: f64,
}

impl<C, R: CellRow> GridReport<C, R> {
    /// The row of one cell.
    pub fn row(&self, name: &str, mi: f64, batch_size: usize) -> Option<&R> {
        self.rows
            .iter()
            .find(|r| r.name() == name && r.mi() == mi && r.batch_size() == batch_size)
    }
}
