//! What the benches share: the PyTorch worker process (one JSON line per request), medians and
//! the CPU's name.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

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

/// The CPU's model name from /proc/cpuinfo.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

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
