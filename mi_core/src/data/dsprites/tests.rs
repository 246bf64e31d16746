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
    let src = NpzImages::open_fixture(&path).unwrap();
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
    for bad in ["", "owner", "o/n/x", "/n", "o/", "o/n@"] {
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
