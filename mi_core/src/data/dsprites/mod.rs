//! dSprites (Matthey et al. 2017): 737,280 binary 64×64 images of a square, an ellipse or a heart
//! at 6 scales, 40 orientations and 32 × 32 positions, each factor combination exactly once, in
//! the upstream index order idx = 245760·shape + 40960·scale + 1024·orientation + 32·pos_x + pos_y
//! ([`Factors`]; spec §6.4).
//!
//! Where the images come from ([`ImageSource`]):
//! - [`Procedural`]: rendered from the index alone (the embedded default, no file needed);
//! - a file ([`FileImages`]), read into memory as packed bits (377 MB for the whole grid):
//!   - the upstream `dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz` (`np.savez_compressed`; its
//!     `imgs` member, `uint8 [737280, 64, 64]`; the pickled `metadata` member is never read,
//!     factor values come from the index formula);
//!   - with the cargo feature `parquet`, a `.parquet` file in the schema of the Hugging Face
//!     copies (PNG images in a struct column `image`, TFDS label columns; rows in any order);
//!
//!   from a path ([`LoadOptions::path`], env `DSPRITES_PATH`) or, with the cargo feature `hub`,
//!   from a Hugging Face dataset repo through the `hf-hub` crate and its standard cache.
//!
//! [`open_default`] tries `DSPRITES_PATH`, then the hub (the repo named by `DSPRITES_HUB_REPO`,
//! else — with both `hub` and `parquet` — [`DEFAULT_HUB`]), and otherwise falls back to
//! [`Procedural`], returning a sentence that says what was used and why, for the caller to print.
//! Offline is the normal case: the hub lookup honours `HF_HUB_OFFLINE=1`, and a network call that
//! does not answer is abandoned after [`LoadOptions::timeout`] (a few seconds), with an error
//! saying how to get the data.
//!
//! ## Which hub copy
//! No Hugging Face dataset repo holding the original `.npz` as a plain file was found (searched
//! hub pages and code): `randall-lab/dsprites` and `galilai-group/dsprites` are loading scripts
//! that fetch the npz from GitHub; `eurecom-ds/dsprites` (one parquet file, ≈123 MB, PNG images
//! and TFDS labels) and `dpdl-benchmark/dsprites` (parquet, schema not seen) hold the data. The
//! default is therefore `eurecom-ds/dsprites`'s parquet file, read with polars and a PNG decoder
//! (feature `parquet`; without it there is no default repo). Its revision is `main`: no commit
//! hash of that repo could be read from where this was written (no network to the hub), so pin
//! one yourself for reproducible runs (`DSPRITES_HUB_REPO=eurecom-ds/dsprites@<commit>:data/
//! train-00000-of-00001.parquet`). A repo holding the npz works too
//! (`DSPRITES_HUB_REPO=owner/name[@revision]`, file name defaulting to the upstream one).
//! The upstream file itself: <https://github.com/google-deepmind/dsprites-dataset>.
//!
//! ## How close is the procedural source
//! Exact: the grid, the index order and the latent values (tested over all 737,280 indices).
//! Approximate: the pixel geometry (object centre from 0.2·64 to 0.8·64 pixels, the square's side
//! 16·scale pixels, the ellipse's 2:1 axes, the heart's outline, rotation about the object's
//! centre). No upstream image was available where this was written (no network to GitHub or the
//! hub), so the pixel agreement with upstream is *not measured*; [`pixel_agreement`] computes it
//! for any two sources, and the tests report it against the (procedurally filled) fixture.

mod factors;
#[cfg(feature = "hub")]
mod hub;
mod loaded;
#[cfg(feature = "parquet")]
mod parquet;
mod procedural;

pub use factors::{
    Factors, FACTOR_NAMES, FACTOR_SIZES, IMAGE_PIXELS, IMAGE_SIDE, NUM_IMAGES, SHAPE_NAMES,
};
pub use loaded::FileImages;
#[cfg(feature = "parquet")]
pub use parquet::{IMAGE_COLUMN, LABEL_COLUMNS};
pub use procedural::{Procedural, CENTRE_MAX, CENTRE_MIN, HALF_SIDE};

use crate::error::{Error, Result};
use candle_core::{Device, Tensor};
use std::path::PathBuf;
use std::time::Duration;

/// The upstream file name.
pub const UPSTREAM_FILE: &str = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz";
/// Where the upstream file can be downloaded.
pub const UPSTREAM_URL: &str = "https://github.com/google-deepmind/dsprites-dataset/raw/master/\
                                dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz";
/// The Hugging Face dataset repo holding dSprites as parquet (PNG images, TFDS labels).
pub const PARQUET_HUB_REPO: &str = "eurecom-ds/dsprites";
/// Its one data file.
pub const PARQUET_HUB_FILE: &str = "data/train-00000-of-00001.parquet";
/// Env var naming a local copy of the upstream npz (or, with the feature `parquet`, of a
/// `.parquet` copy).
pub const PATH_ENV: &str = "DSPRITES_PATH";
/// Env var naming a Hugging Face dataset file: `owner/name[@revision][:path/in/repo]` (the path
/// defaults to the upstream npz's name).
pub const HUB_REPO_ENV: &str = "DSPRITES_HUB_REPO";
/// How long a hub download may stay silent before it is abandoned, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A random-access source of dSprites images.
pub trait ImageSource: Send + Sync {
    /// Short description (`procedural`, or the file read).
    fn name(&self) -> &str;
    /// Number of images.
    fn len(&self) -> usize;
    /// True when the source holds no image.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Writes image `idx` (row-major 64×64, 0.0/1.0) into `out` (`IMAGE_PIXELS` values).
    fn write_image(&self, idx: usize, out: &mut [f32]) -> Result<()>;
}

/// Checks that `out` holds one image.
pub(crate) fn check_out(out: &[f32]) -> Result<()> {
    if out.len() != IMAGE_PIXELS {
        return Err(Error::Shape {
            op: "dsprites::write_image",
            detail: format!(
                "out holds {} values, one image is {IMAGE_PIXELS}",
                out.len()
            ),
        });
    }
    Ok(())
}

/// A Hugging Face dataset file: repo `owner/name`, revision (branch, tag or commit), file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubFile {
    /// `owner/name` of a dataset repo.
    pub repo: String,
    /// Branch, tag or commit hash (pin a commit for reproducible runs).
    pub revision: String,
    /// Path of the file in the repo (an npz, or `.parquet` with the `parquet` feature).
    pub filename: String,
}

/// The hub file [`LoadOptions::from_env`] uses when `DSPRITES_HUB_REPO` is not set: the parquet
/// copy `eurecom-ds/dsprites` (revision `main`, see the module doc), with the features `hub` and
/// `parquet`; `None` otherwise.
pub const DEFAULT_HUB: Option<(&str, &str, &str)> = {
    #[cfg(all(feature = "hub", feature = "parquet"))]
    {
        Some((PARQUET_HUB_REPO, "main", PARQUET_HUB_FILE))
    }
    #[cfg(not(all(feature = "hub", feature = "parquet")))]
    {
        None
    }
};

impl HubFile {
    /// Parses `owner/name[@revision][:path/in/repo]` (revision `main` when absent; file
    /// [`UPSTREAM_FILE`] when no path is given).
    pub fn parse(spec: &str) -> Result<HubFile> {
        let bad = || Error::InvalidParameter {
            op: "dsprites::HubFile::parse",
            name: HUB_REPO_ENV,
            value: spec.to_string(),
            reason: "expected owner/name, owner/name@revision or owner/name@revision:path/in/repo",
        };
        let (spec_repo, filename) = match spec.split_once(':') {
            Some((r, f)) => (r, f),
            None => (spec, UPSTREAM_FILE),
        };
        let (repo, revision) = spec_repo.split_once('@').unwrap_or((spec_repo, "main"));
        let ok = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
        let file_ok = ok(filename)
            && !filename.starts_with('/')
            && filename.split('/').all(|part| ok(part) && part != "..");
        match repo.split_once('/') {
            Some((o, n)) if ok(o) && ok(n) && ok(revision) && !n.contains('/') && file_ok => {
                Ok(HubFile {
                    repo: repo.to_string(),
                    revision: revision.to_string(),
                    filename: filename.to_string(),
                })
            }
            _ => Err(bad()),
        }
    }

    /// [`DEFAULT_HUB`] as a `HubFile`.
    pub fn default_file() -> Option<HubFile> {
        DEFAULT_HUB.map(|(repo, revision, filename)| HubFile {
            repo: repo.into(),
            revision: revision.into(),
            filename: filename.into(),
        })
    }
}

/// Where to load dSprites from; [`LoadOptions::from_env`] reads the environment.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// A local npz (takes precedence over the hub).
    pub path: Option<PathBuf>,
    /// A hub file to read from the cache or download.
    pub hub: Option<HubFile>,
    /// The hub cache folder; `None`: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `~/.cache/huggingface/hub`.
    pub cache_dir: Option<PathBuf>,
    /// The hub endpoint; `None`: `HF_ENDPOINT`, else `https://huggingface.co`.
    pub endpoint: Option<String>,
    /// Only look in the cache (`HF_HUB_OFFLINE=1`).
    pub offline: bool,
    /// How long a download may stay silent before it is abandoned.
    pub timeout: Duration,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            path: None,
            hub: None,
            cache_dir: None,
            endpoint: None,
            offline: false,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

fn env_nonempty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

impl LoadOptions {
    /// `DSPRITES_PATH`, `DSPRITES_HUB_REPO` (else [`DEFAULT_HUB`]), `HF_HUB_CACHE`,
    /// `HF_ENDPOINT` and `HF_HUB_OFFLINE` (1/true/yes/on) from the environment.
    pub fn from_env() -> Result<LoadOptions> {
        Ok(LoadOptions {
            path: env_nonempty(PATH_ENV).map(PathBuf::from),
            hub: match env_nonempty(HUB_REPO_ENV) {
                Some(s) => Some(HubFile::parse(&s)?),
                None => HubFile::default_file(),
            },
            cache_dir: env_nonempty("HF_HUB_CACHE").map(PathBuf::from),
            endpoint: env_nonempty("HF_ENDPOINT"),
            offline: env_nonempty("HF_HUB_OFFLINE").is_some_and(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "on"
                )
            }),
            timeout: DEFAULT_TIMEOUT,
        })
    }
}

/// How to get the data, for error messages.
pub(crate) fn how_to_get() -> String {
    format!(
        "download {UPSTREAM_URL} and set {PATH_ENV}=/path/to/{UPSTREAM_FILE}, or name a Hugging \
         Face dataset file with {HUB_REPO_ENV}=owner/name[@revision][:path] (cargo feature `hub`; \
         the parquet copy {PARQUET_HUB_REPO}:{PARQUET_HUB_FILE} also needs the feature \
         `parquet`)"
    )
}

/// Loads the images from `opts.path`, else from `opts.hub` (npz or parquet, see
/// [`FileImages`]); an error (saying how to get the data) when neither is given or available.
/// The file must hold all 737,280 images.
pub fn load(opts: &LoadOptions) -> Result<Box<dyn ImageSource>> {
    load_inner(opts, true)
}

/// [`load`], with `require_full = false` accepting small fixtures in the upstream format (tests).
fn load_inner(opts: &LoadOptions, require_full: bool) -> Result<Box<dyn ImageSource>> {
    if let Some(path) = &opts.path {
        return Ok(Box::new(FileImages::open_checked(path, require_full)?));
    }
    let Some(hub) = &opts.hub else {
        return Err(Error::Unavailable {
            what: "dSprites",
            detail: format!("no file given: {}", how_to_get()),
        });
    };
    #[cfg(feature = "hub")]
    {
        let path = hub::fetch(hub, opts)?;
        Ok(Box::new(FileImages::open_checked(&path, require_full)?))
    }
    #[cfg(not(feature = "hub"))]
    {
        let _ = require_full;
        Err(Error::Unavailable {
            what: "dSprites",
            detail: format!(
                "{}@{} is on the Hugging Face hub, but mi_core was built without the `hub` \
                 feature; {}",
                hub.repo,
                hub.revision,
                how_to_get()
            ),
        })
    }
}

/// The upstream data if [`LoadOptions::from_env`] finds it (`DSPRITES_PATH`, then the hub),
/// else [`Procedural`]; the string says which was used and why.
pub fn open_default() -> (Box<dyn ImageSource>, String) {
    let tried = LoadOptions::from_env().and_then(|o| load(&o));
    match tried {
        Ok(src) => {
            let msg = format!("dSprites: using the upstream images from {}", src.name());
            (src, msg)
        }
        Err(e) => (
            Box::new(Procedural::new()),
            format!(
                "dSprites: using the procedural generator (same factor grid and index order, \
                 approximate shapes) because the upstream file is not available: {e}"
            ),
        ),
    }
}

/// The fraction of pixels on which sources `a` and `b` agree, over `indices` (all must be valid
/// in both), e.g. procedural vs upstream images.
pub fn pixel_agreement(a: &dyn ImageSource, b: &dyn ImageSource, indices: &[usize]) -> Result<f64> {
    if indices.is_empty() {
        return Err(Error::InvalidParameter {
            op: "dsprites::pixel_agreement",
            name: "indices",
            value: "[]".into(),
            reason: "compare at least one image",
        });
    }
    let (mut x, mut y) = (vec![0.0f32; IMAGE_PIXELS], vec![0.0f32; IMAGE_PIXELS]);
    let mut same = 0usize;
    for &i in indices {
        a.write_image(i, &mut x)?;
        b.write_image(i, &mut y)?;
        same += x.iter().zip(&y).filter(|(p, q)| p == q).count();
    }
    Ok(same as f64 / (indices.len() * IMAGE_PIXELS) as f64)
}

/// Runs `work(first, blocks)` over `buf` split into runs of whole blocks of `block` values (at
/// least `min_blocks` per run), one run per available core, in parallel; `first` is the index of
/// the run's first block. The first error is returned; a panicking worker is an error naming
/// `what`.
pub(crate) fn for_each_block<T: Send>(
    buf: &mut [T],
    block: usize,
    min_blocks: usize,
    what: &'static str,
    work: impl Fn(usize, &mut [T]) -> Result<()> + Sync,
) -> Result<()> {
    let n = buf.len() / block.max(1);
    if n == 0 {
        return Ok(());
    }
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .min(n.div_ceil(min_blocks.max(1)));
    let per = n.div_ceil(threads);
    let work = &work;
    std::thread::scope(|s| -> Result<()> {
        let jobs: Vec<_> = buf
            .chunks_mut(per * block)
            .enumerate()
            .map(|(t, out)| s.spawn(move || work(t * per, out)))
            .collect();
        for j in jobs {
            j.join().map_err(|_| Error::Unavailable {
                what,
                detail: "a worker thread panicked".into(),
            })??;
        }
        Ok(())
    })
}

/// The dataset: images from an [`ImageSource`], drawn in seeded batches.
pub struct Dsprites {
    source: Box<dyn ImageSource>,
}

impl Dsprites {
    /// Wraps a source.
    pub fn new(source: Box<dyn ImageSource>) -> Self {
        Dsprites { source }
    }

    /// The procedural dataset.
    pub fn procedural() -> Self {
        Dsprites::new(Box::new(Procedural::new()))
    }

    /// The source's name.
    pub fn source_name(&self) -> &str {
        self.source.name()
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// True when there is no image.
    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    /// The factors of each index (the upstream index formula).
    pub fn factors(&self, indices: &[usize]) -> Result<Vec<Factors>> {
        indices.iter().map(|&i| Factors::from_index(i)).collect()
    }

    /// Images `indices` as a `[n, 1, 64, 64]` f32 tensor of 0/1 on `device`, rendered or
    /// unpacked in parallel on the CPU.
    pub fn images(&self, indices: &[usize], device: &Device) -> Result<Tensor> {
        let n = indices.len();
        if n == 0 {
            return Err(Error::InvalidParameter {
                op: "Dsprites::images",
                name: "indices",
                value: "[]".into(),
                reason: "ask for at least one image",
            });
        }
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(Error::InvalidParameter {
                op: "Dsprites::images",
                name: "indices",
                value: bad.to_string(),
                reason: "index beyond the number of images",
            });
        }
        let mut buf = vec![0.0f32; n * IMAGE_PIXELS];
        let src = &*self.source;
        for_each_block(
            &mut buf,
            IMAGE_PIXELS,
            16,
            "dSprites rendering",
            |first, out| {
                for (img, &i) in out.chunks_exact_mut(IMAGE_PIXELS).zip(&indices[first..]) {
                    src.write_image(i, img)?;
                }
                Ok(())
            },
        )?;
        Ok(
            Tensor::from_vec(buf, (n, 1, IMAGE_SIDE, IMAGE_SIDE), &Device::Cpu)?
                .to_device(device)?,
        )
    }

    /// A batch of `batch_size` images drawn uniformly (with replacement) with `rng`, and their
    /// indices: `([B, 1, 64, 64], indices)`.
    pub fn batch<R: rand::Rng + ?Sized>(
        &self,
        batch_size: usize,
        rng: &mut R,
        device: &Device,
    ) -> Result<(Tensor, Vec<usize>)> {
        use rand::RngExt;
        if batch_size == 0 || self.is_empty() {
            return Err(Error::InvalidParameter {
                op: "Dsprites::batch",
                name: "batch_size",
                value: batch_size.to_string(),
                reason: "draw at least one image from a non-empty source",
            });
        }
        let n = self.len();
        let idx: Vec<usize> = (0..batch_size).map(|_| rng.random_range(0..n)).collect();
        Ok((self.images(&idx, device)?, idx))
    }
}

#[cfg(test)]
mod tests;
