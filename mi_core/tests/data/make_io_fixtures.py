"""Writes the tiny input fixtures of tests/estimate_io.rs with real numpy and pyarrow.

Run from this folder: python make_io_fixtures.py (numpy 2.4.6, pyarrow 26.0.1 wrote the
committed files). The values are simple formulas that the Rust test recomputes.
"""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

i = np.arange(6)
np.savez_compressed(
    "numpy_compressed.npz",
    x=np.stack([i * 0.5, -i * 1.5], axis=1),           # float64 [6, 2]
    y=(i * 0.25).astype(np.float32),                   # float32 [6]
    k=(i - 3).astype(np.int64),                        # int64   [6]
    u=(i * 40).astype(np.uint8),                       # uint8   [6]
    b=(i % 2 == 0),                                    # bool    [6]
    f=np.asfortranarray(np.stack([i, i * 10], axis=1).astype(">f8")),  # big-endian, Fortran
)
table = pa.table(
    {
        "a": pa.array(i * 0.5, pa.float64()),
        "b": pa.array(i - 3, pa.int32()),
        "c": pa.array(i % 2 == 0, pa.bool_()),
        "s": pa.array([f"r{v}" for v in i], pa.string()),
        "n": pa.array([1.0, None, 3.0, 4.0, None, 6.0], pa.float32()),
    }
)
pq.write_table(table, "pyarrow_snappy.parquet")  # snappy: pyarrow's and pandas' default
pq.write_table(table, "pyarrow_zstd.parquet", compression="zstd")
