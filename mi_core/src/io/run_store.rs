//! A folder of finished runs, one JSON file each — `NAME.json` holding `{"key": …, "result": …}` —
//! reused by a later call whose key (every setting the result depends on) matches, so a long
//! sweep can be stopped and resumed. Files are written all or nothing ([`super::write_atomic`]).

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The run store in one folder.
#[derive(Clone, Debug)]
pub struct RunStore {
    dir: PathBuf,
}

#[derive(Serialize)]
struct StoredRef<'a, K, R> {
    key: &'a K,
    result: &'a R,
}

#[derive(Deserialize)]
struct Stored<K, R> {
    key: K,
    result: R,
}

impl RunStore {
    /// The store in `dir` (created on the first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// The stored result of `name`, if there is one and it was stored under an equal `key`
    /// (a missing, unreadable or mismatched entry reads as absent: the run is done again).
    pub fn load<K, R>(&self, name: &str, key: &K) -> Option<R>
    where
        K: DeserializeOwned + PartialEq,
        R: DeserializeOwned,
    {
        let text = std::fs::read_to_string(self.path(name)).ok()?;
        let stored: Stored<K, R> = serde_json::from_str(&text).ok()?;
        (stored.key == *key).then_some(stored.result)
    }

    /// Stores `result` of `name` under `key`, replacing any earlier entry.
    pub fn save<K: Serialize, R: Serialize>(&self, name: &str, key: &K, result: &R) -> Result<()> {
        let io = |e: &dyn std::fmt::Display| Error::Io {
            path: self.dir.display().to_string(),
            detail: e.to_string(),
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&e))?;
        let json = serde_json::to_string(&StoredRef { key, result }).map_err(|e| io(&e))?;
        super::write_atomic(&self.path(name), |tmp| {
            std::fs::write(tmp, json).map_err(|e| io(&e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_key_mismatch_and_no_leftovers() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("mi_core_run_store_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = RunStore::new(&dir);
        assert_eq!(store.load::<u32, Vec<f64>>("a", &1), None);
        store.save("a", &1u32, &vec![0.5f64, 2.0])?;
        assert_eq!(store.load::<u32, Vec<f64>>("a", &1), Some(vec![0.5, 2.0]));
        assert_eq!(store.load::<u32, Vec<f64>>("a", &2), None, "another key");
        let text = std::fs::read_to_string(dir.join("a.json")).map_err(|e| Error::Io {
            path: "a.json".into(),
            detail: e.to_string(),
        })?;
        assert_eq!(text, r#"{"key":1,"result":[0.5,2.0]}"#);
        std::fs::write(dir.join("b.json"), "{truncated").map_err(|e| Error::Io {
            path: "b.json".into(),
            detail: e.to_string(),
        })?;
        assert_eq!(
            store.load::<u32, Vec<f64>>("b", &1),
            None,
            "corrupt reads as absent"
        );
        let names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| Error::Io {
                path: dir.display().to_string(),
                detail: e.to_string(),
            })?
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
