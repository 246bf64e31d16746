//! Loader and dataset tests: fixtures in the exact upstream npz format (keys `imgs`,
//! `latents_values`, `latents_classes`, a pickled `metadata` object array; deflate-compressed like
//! `np.savez_compressed`), written at test time, read directly and — with the `hub` feature —
//! through hf-hub from a hub-cache layout built in a temp folder.

use super::*;
use crate::io::fixture::{npy_bytes, npz_bytes, temp_dir, write_file};
use rand::SeedableRng;
use std::path::Path;

/// Bytes of an upstream-format npz holding the first `n` images (drawn by `Procedural`, as no
/// upstream image is available here), their latents and a pickled `metadata` member.
pub(super) fn fixture_npz(n: usize) -> Vec<u8> {
    let mut imgs = Vec::with_capacity(n * IMAGE_PIXELS);
    let mut values = Vec::new();
    let mut classes = Vec::new();
    let mut buf = vec![0.0f32; IMAGE_PIXELS];
    for i in 0..n {
        Procedural.write_image(i, &mut buf).unwrap();
        imgs.extend(buf.iter().map(|&p| p as u8));
        let f = Factors::from_index(i).unwrap();
        values.extend(1.0f64.to_le_bytes());
        for v in f.values() {
            values.extend(v.to_le_bytes());
        }
        classes.extend(0i64.to_le_bytes());
        for c in f.classes() {
            classes.extend((c as i64).to_le_bytes());
        }
    }
    // A protocol-2 pickle of a small dict, as an object-dtype 0-d array: must be skipped.
    let pickle = b"\x80\x02}q\x00X\x04\x00\x00\x00dateq\x01X\x0a\x00\x00\x00April 2017q\x02s.";
    npz_bytes(
        &[
            ("metadata", npy_bytes("|O", &[], pickle)),
            ("imgs", npy_bytes("|u1", &[n, 64, 64], &imgs)),
            ("latents_classes", npy_bytes("<i8", &[n, 6], &classes)),
            ("latents_values", npy_bytes("<f8", &[n, 6], &values)),
        ],
        true,
    )
}

fn fixture_file(dir: &Path, n: usize) -> std::path::PathBuf {
    let path = dir.join(UPSTREAM_FILE);
    write_file(&path, &fixture_npz(n));
    path
}

#[test]
fn batches_are_seeded_binary_and_match_single_images() {
    let data = Dsprites::procedural();
    assert_eq!((data.len(), data.source_name()), (NUM_IMAGES, "procedural"));
    let dev = Device::Cpu;
    let mut r1 = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut r2 = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let (x1, i1) = data.batch(37, &mut r1, &dev).unwrap();
    let (x2, i2) = data.batch(37, &mut r2, &dev).unwrap();
    assert_eq!(x1.dims(), &[37, 1, 64, 64]);
    assert_eq!(i1, i2);
    let v1: Vec<f32> = x1.flatten_all().unwrap().to_vec1().unwrap();
    let v2: Vec<f32> = x2.flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(v1, v2);
    assert!(v1.iter().all(|&p| p == 0.0 || p == 1.0));
    let mut one = vec![0.0f32; IMAGE_PIXELS];
    for (k, &i) in i1.iter().enumerate() {
        Procedural.write_image(i, &mut one).unwrap();
        assert_eq!(&v1[k * IMAGE_PIXELS..(k + 1) * IMAGE_PIXELS], &one[..]);
    }
    let f = data.factors(&i1).unwrap();
    assert!(f.iter().zip(&i1).all(|(f, &i)| f.index() == i));
    assert!(data.batch(0, &mut r1, &dev).is_err());
    assert!(data.images(&[NUM_IMAGES], &dev).is_err());
    assert!(data.images(&[], &dev).is_err());
}

#[test]
fn fixture_npz_reads_back_and_agrees_with_its_source() {
    let dir = temp_dir("dsprites_npz");
    let n = 1100;
    let path = fixture_file(&dir, n);
    let src = FileImages::open_fixture(&path).unwrap();
    assert_eq!(src.len(), n);
    let idx: Vec<usize> = (0..n).step_by(7).collect();
    // The fixture was drawn by `Procedural`: this checks the reader (deflate, bit packing),
    // not the fidelity of the procedural shapes to upstream, which is unmeasured here.
    assert_eq!(pixel_agreement(&Procedural, &src, &idx).unwrap(), 1.0);
    let data = Dsprites::new(Box::new(src));
    let x = data.images(&[0, 5, 1099], &Device::Cpu).unwrap();
    assert_eq!(x.dims(), &[3, 1, 64, 64]);
    assert!(data.images(&[n], &Device::Cpu).is_err());
    // The public loader insists on the full dataset and says so.
    let opts = LoadOptions {
        path: Some(path.clone()),
        ..Default::default()
    };
    let e = load(&opts).err().unwrap().to_string();
    assert!(
        e.contains("holds 1100 images") && e.contains("737280"),
        "{e}"
    );
    assert!(e.contains(&*path.display().to_string()), "{e}");
}

#[test]
fn no_source_is_an_error_saying_how_to_get_the_data() {
    let e = load(&LoadOptions::default()).err().unwrap().to_string();
    assert!(e.contains(PATH_ENV) && e.contains(UPSTREAM_URL), "{e}");
    let e = load(&LoadOptions {
        path: Some("/nonexistent/dsprites.npz".into()),
        ..Default::default()
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("/nonexistent/dsprites.npz"), "{e}");
}

#[test]
fn hub_specs_parse() {
    let h = HubFile::parse("owner/name").unwrap();
    assert_eq!(
        (h.repo.as_str(), h.revision.as_str()),
        ("owner/name", "main")
    );
    assert_eq!(h.filename, UPSTREAM_FILE);
    let h = HubFile::parse("o/n@0123abcd").unwrap();
    assert_eq!(h.revision, "0123abcd");
    let h = HubFile::parse("o/n@0123abcd:data/train-00000-of-00001.parquet").unwrap();
    assert_eq!(
        (h.repo.as_str(), h.revision.as_str(), h.filename.as_str()),
        ("o/n", "0123abcd", "data/train-00000-of-00001.parquet")
    );
    assert_eq!(HubFile::parse("o/n:x.parquet").unwrap().revision, "main");
    for bad in [
        "", "owner", "o/n/x", "/n", "o/", "o/n@", "o/n:", "o/n:/abs", "o/n:../x", "o/n:a//b",
    ] {
        assert!(HubFile::parse(bad).is_err(), "{bad}");
    }
}

#[cfg(feature = "hub")]
mod hub {
    use super::*;
    use crate::io::fixture::list_files;
    use std::time::{Duration, Instant};

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
    const REPO: &str = "fixture-owner/dsprites-npz";

    /// Lays out `cache/datasets--fixture-owner--dsprites-npz/{refs/main, blobs/<etag>,
    /// snapshots/<SHA>/<file>}` as hf-hub and Python's huggingface_hub write it (the snapshot
    /// entry a symlink to the blob on Unix).
    fn hub_cache(cache: &Path, bytes: &[u8]) -> std::path::PathBuf {
        let repo = cache.join("datasets--fixture-owner--dsprites-npz");
        write_file(&repo.join("refs/main"), SHA.as_bytes());
        let blob = repo.join("blobs/5f1e0c0ffee");
        write_file(&blob, bytes);
        let snap = repo.join("snapshots").join(SHA).join(UPSTREAM_FILE);
        crate::io::fixture::link_or_copy(&blob, &snap);
        snap
    }

    fn opts(cache: &Path, revision: &str) -> LoadOptions {
        LoadOptions {
            hub: Some(HubFile {
                repo: REPO.into(),
                revision: revision.into(),
                filename: UPSTREAM_FILE.into(),
            }),
            cache_dir: Some(cache.to_path_buf()),
            // Nothing listens there: any network attempt would fail.
            endpoint: Some("http://127.0.0.1:9".into()),
            timeout: Duration::from_secs(3),
            ..Default::default()
        }
    }

    #[test]
    fn cache_hit_loads_without_network_and_fast() {
        let cache = temp_dir("dsprites_hub_hit");
        hub_cache(&cache, &fixture_npz(300));
        for rev in ["main", SHA] {
            let t = Instant::now();
            let src = load_inner(&opts(&cache, rev), false).unwrap();
            assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
            assert_eq!(src.len(), 300);
            assert!(src.name().contains(SHA), "{}", src.name());
            let idx: Vec<usize> = (0..300).collect();
            assert_eq!(pixel_agreement(&Procedural, &*src, &idx).unwrap(), 1.0);
        }
        // Offline is fine on a cache hit.
        let o = LoadOptions {
            offline: true,
            ..opts(&cache, "main")
        };
        assert_eq!(load_inner(&o, false).unwrap().len(), 300);
    }

    /// The parquet copy through the hub cache, under its repo path `data/train-….parquet`.
    #[cfg(feature = "parquet")]
    #[test]
    fn parquet_copy_loads_from_the_hub_cache() {
        let cache = temp_dir("dsprites_hub_parquet");
        let src_dir = temp_dir("dsprites_hub_parquet_src");
        let file = src_dir.join("train.parquet");
        super::parquet_files::write_fixture(&file, &(0..200).rev().collect::<Vec<_>>(), false);
        let repo = cache.join("datasets--fixture-owner--dsprites-npz");
        write_file(&repo.join("refs/main"), SHA.as_bytes());
        let blob = repo.join("blobs/9a7b0c0ffee");
        write_file(&blob, &std::fs::read(&file).unwrap());
        let snap = repo.join("snapshots").join(SHA).join(PARQUET_HUB_FILE);
        crate::io::fixture::link_or_copy(&blob, &snap);
        let o = LoadOptions {
            hub: Some(HubFile::parse(&format!("{REPO}@main:{PARQUET_HUB_FILE}")).unwrap()),
            offline: true,
            ..opts(&cache, "main")
        };
        let t = Instant::now();
        let src = load_inner(&o, false).unwrap();
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        assert_eq!(src.len(), 200);
        assert!(
            src.name().contains(SHA) && src.name().ends_with(".parquet"),
            "{}",
            src.name()
        );
        let idx: Vec<usize> = (0..200).collect();
        assert_eq!(pixel_agreement(&Procedural, &*src, &idx).unwrap(), 1.0);
    }

    #[test]
    fn empty_cache_fails_fast_offline_and_writes_nothing() {
        let cache = temp_dir("dsprites_hub_empty");
        let t = Instant::now();
        let o = LoadOptions {
            offline: true,
            ..opts(&cache, "main")
        };
        let e = load(&o).err().unwrap().to_string();
        assert!(t.elapsed() < Duration::from_secs(1));
        assert!(e.contains("HF_HUB_OFFLINE") && e.contains(PATH_ENV), "{e}");
        // Not offline, nothing listening: the download fails at once.
        let t = Instant::now();
        let e = load(&opts(&cache, "main")).err().unwrap().to_string();
        assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
        assert!(e.contains(REPO) && e.contains(PATH_ENV), "{e}");
        assert_eq!(list_files(&cache), Vec::<String>::new());
    }

    #[test]
    fn silent_endpoint_is_abandoned_at_the_timeout() {
        // Accepts TCP connections (the kernel's backlog) and never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let cache = temp_dir("dsprites_hub_silent");
        let o = LoadOptions {
            endpoint: Some(format!("http://{}", listener.local_addr().unwrap())),
            timeout: Duration::from_millis(1500),
            ..opts(&cache, "main")
        };
        let t = Instant::now();
        let e = load(&o).err().unwrap().to_string();
        let took = t.elapsed();
        assert!(took < Duration::from_secs(3), "{took:?}");
        assert!(
            e.contains("no answer") || e.contains("cannot download"),
            "{e}"
        );
        assert!(e.contains(PATH_ENV), "{e}");
        assert_eq!(list_files(&cache), Vec::<String>::new());
        drop(listener);
    }

    #[test]
    fn corrupt_or_truncated_cached_file_is_a_clear_error_naming_it() {
        let cache = temp_dir("dsprites_hub_corrupt");
        let full = fixture_npz(64);
        let snap = hub_cache(&cache, &full[..full.len() * 2 / 3]);
        let before = list_files(&cache);
        let e = load_inner(&opts(&cache, "main"), false)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains(UPSTREAM_FILE) && e.contains(SHA), "{e}");
        assert!(
            e.contains(&*snap.display().to_string()) || e.contains("blobs"),
            "{e}"
        );
        // Garbage instead of a zip archive.
        let cache2 = temp_dir("dsprites_hub_garbage");
        hub_cache(&cache2, b"<html>rate limited</html>");
        let e = load_inner(&opts(&cache2, "main"), false)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("not a valid .npz"), "{e}");
        // The loader wrote nothing into the cache.
        assert_eq!(list_files(&cache), before);
    }
}

/// Parquet fixtures in the Hugging Face copies' schema (`eurecom-ds/dsprites`, after TFDS): a
/// struct column `image {bytes: PNG, path}`, the five `label_*` class columns (int64) and the
/// `value_*` columns the reader ignores, written by polars with snappy compression.
#[cfg(feature = "parquet")]
mod parquet_files {
    use super::*;
    use crate::io::png_bits_fixture::encode;
    use png::{BitDepth, ColorType};
    use polars::prelude::{
        Column, DataFrame, IntoColumn, IntoSeries, NamedFrom, ParquetCompression, ParquetWriter,
        Series, StructChunked,
    };

    /// The grid's images `rows` (in that row order) as such a file at `path`; `scale255` writes
    /// pixels as 0/255 instead of TFDS's raw 0/1.
    pub(super) fn write_fixture(path: &Path, rows: &[usize], scale255: bool) {
        let mut buf = vec![0.0f32; IMAGE_PIXELS];
        let mut pngs = Vec::new();
        let mut paths = Vec::new();
        let mut labels = vec![Vec::new(); 5];
        let mut values = vec![Vec::new(); 5];
        for &i in rows {
            Procedural.write_image(i, &mut buf).unwrap();
            let px: Vec<u8> = buf
                .iter()
                .map(|&p| if scale255 { 255 * p as u8 } else { p as u8 })
                .collect();
            pngs.push(encode(&px, 64, ColorType::Grayscale, BitDepth::Eight));
            paths.push(format!("{i}.png"));
            let f = Factors::from_index(i).unwrap();
            for (k, (c, v)) in f.classes().iter().zip(f.values()).enumerate() {
                labels[k].push(*c as i64);
                values[k].push(v as f32);
            }
        }
        let image = StructChunked::from_series(
            "image".into(),
            rows.len(),
            [
                Series::new("bytes".into(), &pngs[..]),
                Series::new("path".into(), &paths[..]),
            ]
            .iter(),
        )
        .unwrap()
        .into_series()
        .into_column();
        let mut cols: Vec<Column> = vec![image];
        let value_names = ["shape", "scale", "orientation", "x_position", "y_position"];
        for k in 0..5 {
            cols.push(Column::new(LABEL_COLUMNS[k].into(), &labels[k]));
            cols.push(Column::new(
                format!("value_{}", value_names[k]).into(),
                &values[k],
            ));
        }
        let mut df = DataFrame::new_infer_height(cols).unwrap();
        let file = std::fs::File::create(path).unwrap();
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Snappy)
            .finish(&mut df)
            .unwrap();
    }

    /// The first `n` grid indices in a fixed shuffled order.
    fn shuffled(n: usize) -> Vec<usize> {
        let mut rows: Vec<usize> = (0..n).collect();
        rows.reverse();
        for k in (1..n).step_by(3) {
            rows.swap(k, (k * 7919) % n);
        }
        rows
    }

    #[test]
    fn shuffled_rows_land_in_grid_order_for_raw_and_scaled_pixels() {
        let dir = temp_dir("dsprites_parquet");
        let n = 1100;
        for (tag, scale255) in [("raw", false), ("255", true)] {
            let path = dir.join(format!("train_{tag}.parquet"));
            write_fixture(&path, &shuffled(n), scale255);
            let src = FileImages::open_fixture(&path).unwrap();
            assert_eq!(src.len(), n);
            let idx: Vec<usize> = (0..n).collect();
            // Drawn by `Procedural`: checks the reader (PNG decoding, label → index, order),
            // not the procedural shapes' fidelity to upstream.
            assert_eq!(pixel_agreement(&Procedural, &src, &idx).unwrap(), 1.0);
            // The public loader insists on the full grid.
            let e = load(&LoadOptions {
                path: Some(path.clone()),
                ..Default::default()
            })
            .err()
            .unwrap()
            .to_string();
            assert!(
                e.contains("holds 1100 images") && e.contains(&*path.display().to_string()),
                "{e}"
            );
        }
    }

    #[test]
    fn repeated_or_missing_labels_bad_pngs_and_truncated_files_are_errors_naming_the_file() {
        let dir = temp_dir("dsprites_parquet_bad");
        let open = |p: &Path| FileImages::open_fixture(p).err().unwrap().to_string();
        // Row 3 repeats grid index 1.
        let p = dir.join("dup.parquet");
        write_fixture(&p, &[0, 1, 2, 1], false);
        let e = open(&p);
        assert!(
            e.contains("row 3 repeats") && e.contains("dup.parquet"),
            "{e}"
        );
        // Not the first n of the grid: index 40 in a 3-row file.
        let p = dir.join("gap.parquet");
        write_fixture(&p, &[0, 1, 40], false);
        let e = open(&p);
        assert!(
            e.contains("row 2 is grid index 40") && e.contains("first n"),
            "{e}"
        );
        // Truncated, garbage, empty.
        let good = dir.join("good.parquet");
        write_fixture(&good, &(0..64).collect::<Vec<_>>(), false);
        let bytes = std::fs::read(&good).unwrap();
        for (name, b) in [
            ("trunc.parquet", &bytes[..bytes.len() * 2 / 3]),
            ("html.parquet", &b"<html>rate limited</html>"[..]),
            ("empty.parquet", &b""[..]),
        ] {
            let p = dir.join(name);
            write_file(&p, b);
            let e = open(&p);
            assert!(e.contains(name) && e.contains("parquet"), "{name}: {e}");
        }
    }

    #[test]
    fn wrong_schema_and_undecodable_images_are_clear_errors() {
        let dir = temp_dir("dsprites_parquet_schema");
        let write = |name: &str, cols: Vec<Column>| {
            let p = dir.join(name);
            let mut df = DataFrame::new_infer_height(cols).unwrap();
            ParquetWriter::new(std::fs::File::create(&p).unwrap())
                .finish(&mut df)
                .unwrap();
            FileImages::open_fixture(&p).err().unwrap().to_string()
        };
        let labels = |n: usize| -> Vec<Column> {
            LABEL_COLUMNS
                .iter()
                .map(|c| Column::new((*c).into(), &vec![0i64; n]))
                .collect()
        };
        // A numeric table, not dSprites: the missing column is named with what was found.
        let e = write("table.parquet", vec![Column::new("a".into(), &[1.0f64])]);
        assert!(
            e.contains("no column `label_shape`") && e.contains("a (f64)"),
            "{e}"
        );
        // Labels but a binary image column holding no PNG.
        let mut cols = labels(1);
        cols.push(Column::new("image".into(), &[b"GIF89a".to_vec()][..]));
        let e = write("gif.parquet", cols);
        assert!(
            e.contains("row 0") && e.contains("not a readable PNG"),
            "{e}"
        );
        // A 32×32 PNG.
        let mut cols = labels(1);
        let small = encode(&[0u8; 32 * 32], 32, ColorType::Grayscale, BitDepth::Eight);
        cols.push(Column::new("image".into(), &[small][..]));
        let e = write("small.parquet", cols);
        assert!(e.contains("32×32") && e.contains("64×64"), "{e}");
        // Labels out of range and float labels.
        let mut cols = labels(1);
        cols[2] = Column::new("label_orientation".into(), &[40i64]);
        cols.push(Column::new("image".into(), &[Vec::<u8>::new()][..]));
        let e = write("range.parquet", cols);
        assert!(e.contains("row 0"), "{e}");
        let mut cols = labels(1);
        cols[0] = Column::new("label_shape".into(), &[0.0f64]);
        let e = write("float.parquet", cols);
        assert!(e.contains("label_shape") && e.contains("integers"), "{e}");
    }

    #[test]
    fn without_a_name_the_parquet_copy_is_the_default_hub_file() {
        let h = HubFile::default_file();
        if cfg!(feature = "hub") {
            let h = h.unwrap();
            assert_eq!(
                (h.repo.as_str(), h.filename.as_str()),
                (PARQUET_HUB_REPO, PARQUET_HUB_FILE)
            );
        } else {
            assert!(h.is_none());
        }
    }
}
