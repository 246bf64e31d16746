//! File input and output. Everything that touches the file system lives here.

pub mod npy;

pub use npy::{read_npy, write_npy};
