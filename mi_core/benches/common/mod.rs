//! What the benches share: the PyTorch worker process (one JSON line per request), medians, the
//! CPU's name and the matmul ceiling.
#![allow(dead_code)] // each bench uses its own part

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

/// The Python that has PyTorch: `BENCH_PYTHON`, else the venv `just bench` installs at the
/// workspace root (an absolute path: cargo runs a bench from the package directory).
pub fn default_python() -> String {
    std::env::var("BENCH_PYTHON").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv-bench/bin/python").into()
    })
}

/// A PyTorch worker: `python bench/SCRIPT THREADS`, answering each request line with one JSON
/// line, and `quit` on drop.
pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    /// Starts `bench/{script}` with `threads` threads and reads its greeting.
    pub fn start(python: &str, script: &str, threads: usize) -> Result<Self, String> {
        let path = format!("{}/../bench/{script}", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new(python)
            .arg(path)
            .arg(threads.to_string())
            .env("OMP_NUM_THREADS", threads.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start `{python}` ({e}); `just bench` installs PyTorch into .venv-bench, or pass --no-torch"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut w = Worker {
            child,
            stdin,
            stdout,
        };
        let hello = w.line()?;
        eprintln!("bench: PyTorch worker {hello}");
        Ok(w)
    }

    fn line(&mut self) -> Result<String, String> {
        let mut s = String::new();
        match self.stdout.read_line(&mut s) {
            Ok(0) => Err("the PyTorch worker exited (see its error above)".into()),
            Ok(_) => Ok(s.trim().to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Sends one request line and parses the JSON reply.
    pub fn request(&mut self, line: &str) -> Result<serde_json::Value, String> {
        writeln!(self.stdin, "{line}")
            .and_then(|_| self.stdin.flush())
            .map_err(|e| e.to_string())?;
        let reply = self.line()?;
        serde_json::from_str(&reply).map_err(|e| format!("{e}: {reply}"))
    }

    /// A request answered with `{"times": [seconds, ...]}`.
    pub fn times(&mut self, line: &str) -> Result<Vec<f64>, String> {
        let v = self.request(line)?;
        v["times"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
            .ok_or_else(|| format!("bad reply: {v}"))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}

/// The median (NaN for no values); sorts `v`.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

pub use mi_core::limits::cpu_model;

/// Milliseconds with two decimals, "—" for NaN.
pub fn fmt_ms(v: f64) -> String {
    if v.is_nan() {
        "—".into()
    } else {
        format!("{v:.2}")
    }
}

/// a / b as "0.87×", "—" when b is NaN.
pub fn fmt_ratio(a: f64, b: f64) -> String {
    if b.is_nan() {
        "—".into()
    } else {
        format!("{:.2}×", a / b)
    }
}

/// PyTorch's GFLOP/s for an `[m, k] · [k, n]` f32 product (the worker's `matmul` request).
pub fn torch_matmul(w: &mut Worker, m: usize, k: usize, n: usize) -> Result<f64, String> {
    let v = w.request(&format!("matmul {m} {k} {n}"))?;
    v["gflops"]
        .as_f64()
        .ok_or_else(|| format!("bad reply: {v}"))
}

/// GFLOP/s of our `[m, k] · [k, n]` product: the gemm crate called directly, and candle.
pub fn our_ceiling(threads: usize, m: usize, k: usize, n: usize) -> Result<(f64, f64), String> {
    let a: Vec<f32> = (0..m * k)
        .map(|i| ((i % 97) as f32 - 48.0) / 97.0)
        .collect();
    let b: Vec<f32> = (0..k * n)
        .map(|i| ((i % 89) as f32 - 44.0) / 89.0)
        .collect();
    let mut c = vec![0f32; m * n];
    let par = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let flops = 2.0 * (m * k * n) as f64;
    let reps = 20;
    let mut direct = Vec::new();
    for _ in 0..reps {
        let t0 = Instant::now();
        // SAFETY: a is m×k, b is k×n, c is m×n, all row-major and sized exactly so.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                1,
                k as isize,
                b.as_ptr(),
                1,
                n as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                par,
            )
        };
        direct.push(t0.elapsed().as_secs_f64());
    }
    let ta = candle_core::Tensor::from_vec(a, (m, k), &candle_core::Device::Cpu)
        .map_err(|e| e.to_string())?;
    let tb = candle_core::Tensor::from_vec(b, (k, n), &candle_core::Device::Cpu)
        .map_err(|e| e.to_string())?;
    let mut via_candle = Vec::new();
    for _ in 0..reps {
        let t0 = Instant::now();
        let out = ta.matmul(&tb).map_err(|e| e.to_string())?;
        via_candle.push(t0.elapsed().as_secs_f64());
        drop(out);
    }
    Ok((
        flops / median(&mut direct) / 1e9,
        flops / median(&mut via_candle) / 1e9,
    ))
}
