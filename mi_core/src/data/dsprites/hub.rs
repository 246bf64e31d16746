//! The upstream dSprites npz from a Hugging Face dataset repo, through the `hf-hub` crate (0.5,
//! blocking `ureq` client) and its standard cache (`datasets--owner--name/{refs, snapshots,
//! blobs}`, shared with Python's `huggingface_hub`).
//!
//! Order: the cache (a hit costs a few file-system calls and no network), then — unless offline
//! (`HF_HUB_OFFLINE=1`, read here: hf-hub does not) — one download without retries, run on a
//! worker thread that is abandoned after [`LoadOptions::timeout`], so a silent endpoint cannot
//! hang the caller. hf-hub downloads into a `.part` file and renames it into `blobs/` when
//! complete, so a failed download leaves no half-written file where the cache is read.

use super::{how_to_get, HubFile, LoadOptions};
use crate::error::{Error, Result};
use hf_hub::{Cache, Repo, RepoType};
use std::path::PathBuf;

/// The cache folder: `opts.cache_dir`, else `HF_HUB_CACHE` (read into `opts` by `from_env`),
/// else `$HF_HOME/hub`, else `~/.cache/huggingface/hub` (hf-hub's `Cache::from_env`).
fn cache(opts: &LoadOptions) -> Cache {
    match &opts.cache_dir {
        Some(dir) => Cache::new(dir.clone()),
        None => Cache::from_env(),
    }
}

fn repo(hub: &HubFile) -> Repo {
    Repo::with_revision(hub.repo.clone(), RepoType::Dataset, hub.revision.clone())
}

/// The cached file, if any: through `refs/<revision>` (a branch, or a commit hf-hub fetched),
/// else `snapshots/<revision>/` when the revision is a commit hash.
fn cached(cache: &Cache, hub: &HubFile) -> Option<PathBuf> {
    let r = cache.repo(repo(hub));
    r.get(&hub.filename).or_else(|| {
        let p = r.pointer_path(&hub.revision).join(&hub.filename);
        p.is_file().then_some(p)
    })
}

/// The local path of `hub`'s file: from the cache, else downloaded (unless offline).
pub(super) fn fetch(hub: &HubFile, opts: &LoadOptions) -> Result<PathBuf> {
    let cache = cache(opts);
    if let Some(p) = cached(&cache, hub) {
        return Ok(p);
    }
    let what = format!("{}@{}/{}", hub.repo, hub.revision, hub.filename);
    let unavailable = |why: String| Error::Unavailable {
        what: "dSprites",
        detail: format!("{why}; {}", how_to_get()),
    };
    if opts.offline {
        return Err(unavailable(format!(
            "HF_HUB_OFFLINE is set and {what} is not in the hub cache {}",
            cache.path().display()
        )));
    }
    let mut builder = hf_hub::api::sync::ApiBuilder::from_cache(cache.clone())
        .with_progress(false)
        .with_retries(0);
    if let Some(endpoint) = &opts.endpoint {
        builder = builder.with_endpoint(endpoint.clone());
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let (file, r) = (hub.filename.clone(), repo(hub));
    // Detached on timeout: a silent endpoint keeps only this thread waiting.
    std::thread::spawn(move || {
        let got = builder
            .build()
            .and_then(|api| api.repo(r).get(&file))
            .map_err(|e| e.to_string());
        let _ = tx.send(got);
    });
    match rx.recv_timeout(opts.timeout) {
        Ok(Ok(path)) => Ok(path),
        Ok(Err(e)) => Err(unavailable(format!("cannot download {what}: {e}"))),
        Err(_) => Err(unavailable(format!(
            "no answer from the hub for {what} within {:.1} s (offline?)",
            opts.timeout.as_secs_f64()
        ))),
    }
}
