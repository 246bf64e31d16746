//! Where `estimate` trains: the CPU, or a CUDA device when the crate is built with `cuda`.

use crate::error::{Error, Result};
use candle_core::Device;
use serde::{Deserialize, Serialize};

/// The device `estimate` trains on (`cpu`, `cuda` or `cuda:N`). The data are split and
/// transformed on the CPU either way, so a seed picks the same rows on every device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChoice {
    /// The CPU (the default).
    #[default]
    Cpu,
    /// The CUDA device with this ordinal (needs the `cuda` feature).
    Cuda(usize),
}

impl DeviceChoice {
    /// Errors when this build cannot reach the device (CUDA without the `cuda` feature), without
    /// touching the device.
    pub fn check(&self) -> Result<()> {
        match self {
            DeviceChoice::Cpu => Ok(()),
            DeviceChoice::Cuda(_) if cfg!(feature = "cuda") => Ok(()),
            DeviceChoice::Cuda(_) => Err(Error::Unavailable {
                what: "CUDA",
                detail: "this binary was built without the `cuda` feature (rebuild with \
                         `--features mi_core/cuda`, or use --device cpu)"
                    .into(),
            }),
        }
    }

    /// The candle device (a CUDA device is opened here).
    pub fn device(&self) -> Result<Device> {
        self.check()?;
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Cuda(ordinal) => {
                Device::new_cuda(*ordinal).map_err(|e| Error::Unavailable {
                    what: "CUDA",
                    // The driver's error; not the backtrace candle appends under RUST_BACKTRACE.
                    detail: format!(
                        "cannot open device {ordinal}: {}",
                        e.to_string().lines().next().unwrap_or("unknown error")
                    ),
                })
            }
        }
    }
}

impl std::str::FromStr for DeviceChoice {
    type Err = Error;

    /// `cpu`, `cuda` (device 0) or `cuda:N`.
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        let bad = || Error::InvalidParameter {
            op: "estimate",
            name: "device",
            value: s.clone(),
            reason: "use cpu, cuda or cuda:N",
        };
        match s.as_str() {
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceChoice::Cuda)
                .ok_or_else(bad),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_a_cuda_device_it_cannot_open() {
        assert_eq!("cpu".parse::<DeviceChoice>().ok(), Some(DeviceChoice::Cpu));
        assert_eq!(
            " CUDA:1 ".parse::<DeviceChoice>().ok(),
            Some(DeviceChoice::Cuda(1))
        );
        assert!("tpu".parse::<DeviceChoice>().is_err());
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
        assert!(DeviceChoice::Cpu.device().is_ok());
        if !cfg!(feature = "cuda") {
            let e = DeviceChoice::Cuda(0).device().map(|_| ()).unwrap_err();
            assert!(e.to_string().contains("without the `cuda` feature"), "{e}");
        } else {
            // No machine has device 4096: a clear error, not a panic. Without a GPU (the driver
            // stub of `just check-cuda`) every ordinal fails this way.
            let e = DeviceChoice::Cuda(4096).device().map(|_| ()).unwrap_err();
            assert!(e.to_string().contains("CUDA"), "{e}");
        }
    }
}
