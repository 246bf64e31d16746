//! Named tensors on disk as safetensors (checkpoints: weights, optimizer moments), and the small
//! file helpers the checkpoint format needs. The checkpoint *format* (which files, which names,
//! `config.json`) lives with the trainer (`train/checkpoint.rs`); the file system lives here.

use super::{io_error, write_atomic};
use crate::error::Result;
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// Reads every tensor of a safetensors file onto the CPU; an empty or unreadable file is an error
/// naming the path (an empty one is what an interrupted copy leaves).
pub fn read_safetensors(path: impl AsRef<Path>) -> Result<HashMap<String, Tensor>> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.len() == 0 {
        return Err(io_error(path, "empty file (an interrupted save?)"));
    }
    candle_core::safetensors::load(path, &Device::Cpu)
        .map_err(|e| io_error(path, format!("not a readable safetensors file: {e}")))
}

/// Writes named tensors (any device; copied to the host) as one safetensors file, all or nothing
/// ([`write_atomic`]).
pub fn write_safetensors(path: impl AsRef<Path>, tensors: &HashMap<String, Tensor>) -> Result<()> {
    let path = path.as_ref();
    write_atomic(path, |p| {
        candle_core::safetensors::save(tensors, p).map_err(|e| io_error(p, e))
    })
}

/// Creates `dir` and its parents.
pub fn create_dir(dir: impl AsRef<Path>) -> Result<()> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, format!("cannot create: {e}")))
}

/// Reads a whole text file; `hint` is appended to the error (what the file was expected to be).
pub fn read_text(path: impl AsRef<Path>, hint: &str) -> Result<String> {
    let path = path.as_ref();
    std::fs::read_to_string(path).map_err(|e| io_error(path, format!("{e}{hint}")))
}

/// Writes a text file all or nothing ([`write_atomic`]); the folder must exist.
pub fn write_text_atomic(path: impl AsRef<Path>, text: &str) -> Result<()> {
    let path = path.as_ref();
    write_atomic(path, |p| {
        std::fs::write(p, text).map_err(|e| io_error(p, e))
    })
}
