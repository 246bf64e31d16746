//! The .npy reader: round trips, Fortran order, big-endian, and clear errors on bad files.

use candle_core::{DType, Device, Tensor};
use mi_core::io::{read_npy, write_npy};

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mi_core_npy_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

fn raw_npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn round_trips_f32_and_f64() {
    for dtype in [DType::F32, DType::F64] {
        let t = Tensor::new(&[[1.5f64, -2.0, 3.25], [0.0, 1e-300, -7.0]], &Device::Cpu)
            .and_then(|t| t.to_dtype(dtype))
            .expect("t");
        let p = tmp(&format!("rt_{dtype:?}.npy"));
        write_npy(&t, &p).expect("write");
        let back = read_npy(&p).expect("read");
        assert_eq!(back.dtype(), dtype);
        assert_eq!(back.dims(), &[2, 3]);
        let a = t
            .to_dtype(DType::F64)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f64>())
            .expect("a");
        let b = back
            .to_dtype(DType::F64)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f64>())
            .expect("b");
        assert_eq!(a, b);
        // A transposed (non-contiguous) view is written in its logical order.
        let tp = tmp(&format!("rt_t_{dtype:?}.npy"));
        write_npy(&t.t().expect("t"), &tp).expect("write");
        let back_t = read_npy(&tp).expect("read");
        assert_eq!(back_t.dims(), &[3, 2]);
        assert_eq!(
            back_t
                .to_dtype(DType::F64)
                .and_then(|t| t.to_vec2::<f64>())
                .expect("v"),
            t.t()
                .and_then(|t| t.to_dtype(DType::F64))
                .and_then(|t| t.to_vec2::<f64>())
                .expect("w")
        );
    }
    let ints = Tensor::new(&[1u32, 2], &Device::Cpu).expect("u32");
    let e = write_npy(&ints, tmp("ints_out.npy"))
        .expect_err("u32")
        .to_string();
    assert!(e.contains("write_npy") && e.contains("U32"), "{e}");
}

#[test]
fn reads_fortran_order_and_big_endian() {
    // [[1, 2, 3], [4, 5, 6]] stored column-major: 1 4 2 5 3 6
    let data: Vec<u8> = [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let p = tmp("fortran.npy");
    std::fs::write(&p, raw_npy("<f8", true, "(2, 3)", &data)).expect("write");
    let t = read_npy(&p).expect("read");
    assert_eq!(
        t.to_vec2::<f64>().expect("v"),
        vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]
    );
    let data: Vec<u8> = [1.0f32, -2.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let p = tmp("be.npy");
    std::fs::write(&p, raw_npy(">f4", false, "(2,)", &data)).expect("write");
    assert_eq!(
        read_npy(&p).expect("read").to_vec1::<f32>().expect("v"),
        vec![1.0, -2.0]
    );
}

#[test]
fn bad_files_are_clear_errors() {
    let expect_err = |name: &str, bytes: &[u8], needle: &str| {
        let p = tmp(name);
        std::fs::write(&p, bytes).expect("write");
        let e = read_npy(&p).expect_err(name).to_string();
        assert!(e.contains(name) && e.contains(needle), "{name}: {e}");
    };
    expect_err("empty.npy", b"", "empty");
    expect_err("garbage.npy", b"this is not numpy at all", "magic");
    let good = raw_npy("<f8", false, "(2, 2)", &[0u8; 32]);
    expect_err("truncated.npy", &good[..good.len() - 5], "data bytes");
    expect_err(
        "ints.npy",
        &raw_npy("<i8", false, "(2,)", &[0u8; 16]),
        "<i8",
    );
    // a header promising 10^15 values must not allocate them
    expect_err(
        "huge.npy",
        &raw_npy("<f8", false, "(1000000000000000,)", &[0u8; 8]),
        "data bytes",
    );
    expect_err(
        "overflow.npy",
        &raw_npy("<f8", false, "(99999999999999999, 99999999999)", &[]),
        "overflow",
    );
    // An endless stream of zeros fails at the magic string, at once, without reading it all.
    if std::path::Path::new("/dev/zero").exists() {
        let start = std::time::Instant::now();
        let e = read_npy("/dev/zero").expect_err("/dev/zero").to_string();
        assert!(e.contains("magic"), "{e}");
        assert!(start.elapsed().as_secs_f64() < 5.0, "{:?}", start.elapsed());
    }
    // Bytes beyond what the header promises are an error too.
    let mut long = raw_npy("<f8", false, "(2,)", &[0u8; 16]);
    long.extend_from_slice(&[0u8; 3]);
    expect_err("long.npy", &long, "data bytes");
    let missing = tmp("does_not_exist.npy");
    let e = read_npy(&missing).expect_err("missing").to_string();
    assert!(e.contains("cannot read"), "{e}");
}
