//! What the notebooks need (feature `notebook`): the run profile, where figures go, and rich
//! display of tables and figures in Jupyter (evcxr calls a value's `evcxr_display`).
//!
//! Every notebook starts with the same line, so one compiled build serves them all:
//!
//! ```text
//! :dep mi_core = { path = "../mi_core", features = ["notebook"] }
//! ```
//!
//! and reaches candle, rand, polars and plotly through `mi_core::…` re-exports (a notebook that
//! `:dep`s another feature set or crate rebuilds most of the tree).
//!
//! `just render` sets `MI_PROFILE` (`quick` on CPU by default, `paper` for the full runs) and
//! `MI_FIGURES_DIR`; outside a render, [`Output::from_env`] writes the paper profile's files into
//! `figures/` and the quick profile's into `figures/quick/`, so a quick run never overwrites the
//! reproduction.

use crate::error::{Error, Result};
use crate::io::figure::write_html;
use polars::prelude::DataFrame;
use std::path::{Path, PathBuf};

/// How long the notebooks' experiments run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Minutes on 2 CPU cores: smaller grids and fewer replicates (the default).
    Quick,
    /// The paper's grids and replicate counts (the committed figures).
    Paper,
}

impl Profile {
    /// `MI_PROFILE` (`quick` or `paper`, any case); unset or empty means `quick`.
    pub fn from_env() -> Result<Self> {
        match std::env::var("MI_PROFILE") {
            Err(_) => Ok(Profile::Quick),
            Ok(v) => Self::parse(&v),
        }
    }

    /// Parses `quick` or `paper` (empty means `quick`).
    pub fn parse(v: &str) -> Result<Self> {
        match v.trim().to_ascii_lowercase().as_str() {
            "" | "quick" => Ok(Profile::Quick),
            "paper" => Ok(Profile::Paper),
            _ => Err(Error::InvalidParameter {
                op: "notebook",
                name: "MI_PROFILE",
                value: v.to_string(),
                reason: "use `quick` (minutes on a CPU) or `paper` (the full runs)",
            }),
        }
    }

    /// `quick` or `paper`.
    pub fn name(&self) -> &'static str {
        match self {
            Profile::Quick => "quick",
            Profile::Paper => "paper",
        }
    }

    /// `quick` under the quick profile, `paper` under the paper profile.
    pub fn pick<T>(&self, quick: T, paper: T) -> T {
        match self {
            Profile::Quick => quick,
            Profile::Paper => paper,
        }
    }
}

/// The repository's `figures/` folder (this crate's parent).
fn default_figures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join("figures")
}

/// Where a notebook writes its figures and tables, and under which profile.
#[derive(Clone, Debug)]
pub struct Output {
    profile: Profile,
    dir: PathBuf,
}

impl Output {
    /// The profile from `MI_PROFILE`; the folder from `MI_FIGURES_DIR`, else `figures/` (paper)
    /// or `figures/quick/` (quick). Creates the folder.
    pub fn from_env() -> Result<Self> {
        let profile = Profile::from_env()?;
        let dir = match std::env::var_os("MI_FIGURES_DIR") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => match profile {
                Profile::Paper => default_figures_root(),
                Profile::Quick => default_figures_root().join("quick"),
            },
        };
        Self::new(profile, dir)
    }

    /// Writes into `dir` (created) under `profile`.
    pub fn new(profile: Profile, dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        crate::io::create_dir(&dir)?;
        Ok(Self { profile, dir })
    }

    /// The run profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The folder written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `NAME.html` (offline, with the shared plotly.min.js beside it; `just render` adds
    /// the static `NAME.png`) and returns the figure for display.
    pub fn figure(&self, name: &str, plot: &plotly::Plot) -> Result<Figure> {
        check_name(name)?;
        write_html(plot, self.dir.join(format!("{name}.html")))?;
        Ok(Figure::new(plot))
    }

    /// Writes several figures stacked on one page `NAME.html` (`just render` adds `NAME_0.png`,
    /// `NAME_1.png`, …) and returns them for display, in order.
    pub fn figures(&self, name: &str, plots: &[&plotly::Plot]) -> Result<Vec<Figure>> {
        check_name(name)?;
        crate::io::figure::write_html_page(plots, self.dir.join(format!("{name}.html")))?;
        Ok(plots.iter().map(|p| Figure::new(p)).collect())
    }

    /// Writes `NAME.csv` and returns the table for display.
    pub fn table(&self, name: &str, df: &DataFrame) -> Result<Table> {
        check_name(name)?;
        crate::table::write_csv(df, self.dir.join(format!("{name}.csv")))?;
        Ok(Table::new(df.clone()))
    }
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            op: "notebook",
            name: "name",
            value: name.to_string(),
            reason: "file names are ASCII letters, digits, '_' and '-'",
        })
    }
}

/// A DataFrame shown as an HTML table in Jupyter (and as polars' text table elsewhere).
#[derive(Clone, Debug)]
pub struct Table {
    df: DataFrame,
    max_rows: usize,
}

impl Table {
    /// Shows `df` (the first 40 rows).
    pub fn new(df: DataFrame) -> Self {
        Self { df, max_rows: 40 }
    }

    /// Shows at most `n` rows.
    pub fn max_rows(mut self, n: usize) -> Self {
        self.max_rows = n;
        self
    }

    /// The DataFrame.
    pub fn frame(&self) -> &DataFrame {
        &self.df
    }

    /// The HTML evcxr sends to Jupyter.
    pub fn to_html(&self) -> String {
        crate::table::to_html(&self.df, self.max_rows)
    }

    /// Called by evcxr when the table is a cell's value.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT",
            self.to_html()
        );
        println!(
            "EVCXR_BEGIN_CONTENT text/plain\n{}\nEVCXR_END_CONTENT",
            self.df
        );
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.df)
    }
}

/// A plotly figure shown in Jupyter: plotly's own MIME type (JupyterLab's plotly renderer) and
/// HTML that draws with the page's `Plotly` (the exported notebook pages load plotly.js once).
#[derive(Clone, Debug)]
pub struct Figure {
    json: String,
    id: String,
}

impl Figure {
    /// Wraps a plot for display.
    pub fn new(plot: &plotly::Plot) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let id = format!(
            "mi-fig-{}-{nanos:x}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        Self {
            json: plot.to_json(),
            id,
        }
    }

    /// The figure as plotly JSON (`{"data": …, "layout": …}`).
    pub fn json(&self) -> &str {
        &self.json
    }

    /// A `<div>` and a script that draws into it if plotly.js is loaded, and otherwise says where
    /// the figure is.
    pub fn to_html(&self) -> String {
        let json = self.json.replace("</", "<\\/");
        format!(
            "<div id=\"{id}\" class=\"mi-figure\"></div>\n<script type=\"text/javascript\">\n\
             (function() {{\n  var fig = {json};\n  var el = document.getElementById(\"{id}\");\n\
             \x20 if (window.Plotly) {{ Plotly.newPlot(el, fig.data, fig.layout, fig.config || {{}}); }}\n\
             \x20 else {{ el.textContent = \"(plotly.js is not loaded on this page: open the \
             figure's HTML file in figures/, or this notebook in JupyterLab)\"; }}\n}})();\n</script>",
            id = self.id
        )
    }

    /// Called by evcxr when the figure is a cell's value.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT",
            self.to_html()
        );
        println!(
            "EVCXR_BEGIN_CONTENT application/vnd.plotly.v1+json\n{}\nEVCXR_END_CONTENT",
            self.json
        );
    }
}
