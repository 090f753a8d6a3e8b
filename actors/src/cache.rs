//! Rendition caches: the `RenditionKey`, a byte-capped moka memory tier, and a byte-capped,
//! restart-surviving disk tier under `<data_dir>/cache/<storage_key>/<fingerprint>`.
//!
//! A storage key is new for every stored original, so a replaced or deleted original's renditions
//! are unreachable at once; `purge` only reclaims their memory and disk.
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use imgcloud_engine::{AutoFormat, OutputFormat, Transform};
use sha2::{Digest, Sha256};

/// A finished rendition, shared between caches and responses: everything a cache hit answers with.
#[derive(Debug)]
pub struct Rendition {
    /// Shared, so serving a cached rendition never copies it.
    pub bytes: bytes::Bytes,
    pub format: OutputFormat,
    pub width: u32,
    pub height: u32,
    /// `RenditionKey::etag` of its key, made once when the rendition is made or read from disk
    /// rather than hashed again on every hit.
    pub etag: String,
}

impl Rendition {
    pub fn new(key: &RenditionKey, bytes: bytes::Bytes, format: OutputFormat, width: u32, height: u32) -> Self {
        Self { bytes, format, width, height, etag: key.etag() }
    }

    pub fn content_type(&self) -> &'static str { self.format.content_type() }
}

/// Everything that decides a rendition's bytes: the original, the canonical transform, and for
/// `f_auto` the format chosen from the client's Accept header. Built once per request; the render
/// takes its inputs from it, so what is stored under a key is what the key says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RenditionKey {
    storage_key: String,
    transform: Transform,
    auto: Option<AutoFormat>,
}

impl RenditionKey {
    /// `accept` is the request's Accept header; it is read only when the transform is `f_auto`.
    pub fn new(storage_key: &str, transform: Transform, accept: Option<&str>) -> Self {
        let auto = (transform.f == Some(OutputFormat::Auto)).then(|| AutoFormat::from_accept(accept));
        Self { storage_key: storage_key.to_string(), transform, auto }
    }

    pub fn storage_key(&self) -> &str { &self.storage_key }

    pub fn transform(&self) -> &Transform { &self.transform }

    /// What `f_auto` became; `None` when the transform names its format (or has none).
    pub fn auto(&self) -> Option<AutoFormat> { self.auto }

    /// Hex SHA-256 of the printed key: the disk file name, and the source of the ETag.
    pub fn fingerprint(&self) -> String { hex::encode(Sha256::digest(self.to_string().as_bytes())) }

    /// The strong ETag of the rendition this key names, quoted: it follows from the key alone, so
    /// a 304 needs neither cache nor renderer, and it is the same after a restart.
    pub fn etag(&self) -> String { format!("\"{}\"", &self.fingerprint()[..32]) }
}

/// `<storage_key>/<canonical transform>[|accept=<avif|webp|fallback>]`. The `accept=` spelling is
/// new with the typed key: renditions stored under the old `|avif`/`|plain` keys, some of them
/// poisoned by the old substring match, can never be read again.
impl fmt::Display for RenditionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.storage_key, self.transform)?;
        if let Some(a) = self.auto {
            write!(f, "|accept={}", a.as_str())?;
        }
        Ok(())
    }
}

/// What an entry of the memory tier holds beyond its strings and body: the key and rendition
/// structs, the `Arc`, and moka's own bookkeeping (hash-map node, access-order deque nodes, the
/// frequency sketch's share): RSS grew by 711 bytes per entry over 100k entries with 1-byte bodies
/// and ~60 bytes of key and ETag strings (moka 0.12, glibc, measured 2026-12-01). Counted so
/// that `cache.memory_bytes` bounds the tier's memory, not only the bodies it holds.
const MEMORY_ENTRY_OVERHEAD: usize = 640;

/// The weight of one memory-tier entry in bytes: body, key and ETag strings, fixed overhead.
fn memory_weight(k: &RenditionKey, v: &Rendition) -> u32 {
    let w = v.bytes.len() + v.etag.len() + k.storage_key.len() + MEMORY_ENTRY_OVERHEAD;
    w.try_into().unwrap_or(u32::MAX)
}

/// A file in the disk tier: `<dir>/<storage_key>/<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DiskEntry {
    storage_key: String,
    name: String,
}

impl DiskEntry {
    fn of(key: &RenditionKey) -> Self { Self { storage_key: key.storage_key.clone(), name: key.fingerprint() } }
    fn path_in(&self, dir: &Path) -> PathBuf { dir.join(&self.storage_key).join(&self.name) }
}

/// The two cache tiers. Shared with HTTP handlers so hits never touch the supervisor.
#[derive(Clone)]
pub struct RenditionCache {
    memory: moka::sync::Cache<RenditionKey, Arc<Rendition>>,
    /// Index of files on disk (entry -> file size); its eviction listener deletes the file.
    disk: moka::sync::Cache<DiskEntry, u32>,
    dir: PathBuf,
    /// The index of what an earlier run left on disk is still being built (`load_index`).
    indexing: Arc<AtomicBool>,
}

impl RenditionCache {
    pub fn new(dir: PathBuf, memory_bytes: u64, disk_bytes: u64) -> Self {
        let c = Self::unindexed(dir, memory_bytes, disk_bytes);
        // The index is built on a thread of its own, so a large cache does not delay serving;
        // until it is complete, `get_disk` looks at the file itself.
        // File times come from the kernel's coarse clock (a tick behind a precise `now`), so a temp
        // file this run creates in its first milliseconds can look older than the run; with a second's
        // margin, the index never deletes a write still going on (it failed the rename, and lost the
        // rendition, in tests that write at once).
        let started = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
        let bg = c.clone();
        let spawned = std::thread::Builder::new().name("cache-index".into()).spawn(move || bg.load_index(started));
        if spawned.is_err() {
            c.load_index(started);
        }
        c
    }

    /// The two tiers, with the index of what is already on disk still to be built.
    fn unindexed(dir: PathBuf, memory_bytes: u64, disk_bytes: u64) -> Self {
        let memory = moka::sync::Cache::builder()
            .weigher(|k: &RenditionKey, v: &Arc<Rendition>| memory_weight(k, v))
            .max_capacity(memory_bytes)
            .build();
        let evict_dir = dir.clone();
        let disk = moka::sync::Cache::builder()
            .weigher(|_k: &DiskEntry, v: &u32| *v)
            .max_capacity(disk_bytes)
            .eviction_listener(move |k: Arc<DiskEntry>, _v, cause| {
                // Replaced entries keep their file (it was just rewritten); everything else goes.
                if cause != moka::notification::RemovalCause::Replaced {
                    let _ = std::fs::remove_file(k.path_in(&evict_dir));
                }
            })
            .build();
        Self { memory, disk, dir, indexing: Arc::new(AtomicBool::new(true)) }
    }

    /// Whether the index covers everything an earlier run left on disk.
    pub fn indexed(&self) -> bool { !self.indexing.load(Ordering::SeqCst) }

    /// Rebuilds the disk index after a restart from file names and sizes alone (one readdir per
    /// original and one stat per file): reading every file whole made a full 2 GB cache read 2 GB
    /// before serving. A file is checked when it is read (`read_file`), and one that fails is
    /// dropped then. Temp files older than this run go. Newest files are indexed first, so when
    /// the cap is lower than what is on disk, the oldest are the ones evicted (and deleted).
    fn load_index(&self, started: std::time::SystemTime) {
        let clock = std::time::Instant::now();
        let mut found = Vec::new();
        for sub in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let storage_key = sub.file_name().to_string_lossy().into_owned();
            for f in std::fs::read_dir(sub.path()).into_iter().flatten().flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                let Ok(meta) = f.metadata() else { continue };
                let modified = meta.modified().unwrap_or(std::time::SystemTime::UNIX_EPOCH);
                if name.ends_with(".tmp") {
                    // A newer one belongs to a write of this run, still going on.
                    if modified < started {
                        let _ = std::fs::remove_file(f.path());
                    }
                    continue;
                }
                let weight = u32::try_from(meta.len()).unwrap_or(u32::MAX);
                found.push((modified, DiskEntry { storage_key: storage_key.clone(), name }, weight));
            }
        }
        found.sort_unstable_by(|a, b| b.0.cmp(&a.0));
        let files = found.len();
        for (_, entry, weight) in found {
            // A rendition this run already wrote or read is indexed as it is now.
            if !self.disk.contains_key(&entry) {
                self.disk.insert(entry, weight);
            }
        }
        settle(&self.disk);
        self.indexing.store(false, Ordering::SeqCst);
        let (entries, bytes) = (self.disk.entry_count(), self.disk.weighted_size());
        tracing::info!(files, entries, bytes, ms = clock.elapsed().as_millis() as u64, "disk cache indexed");
    }

    /// A file is a one-line JSON header (its printed key, type, size) and the bytes. `None` for a
    /// file that is short (a crash between write and rename's durability), unreadable, or holds
    /// another key's rendition: such a file is never served.
    fn read_file(path: &Path, key: &RenditionKey) -> Option<Rendition> {
        let data = std::fs::read(path).ok()?;
        let nl = data.iter().position(|b| *b == b'\n')?;
        let head: serde_json::Value = serde_json::from_slice(&data[..nl]).ok()?;
        let body = &data[nl + 1..];
        if body.len() as u64 != head["len"].as_u64()? || head["key"].as_str()? != key.to_string() {
            return None;
        }
        let content_type = head["content_type"].as_str()?;
        let format = OutputFormat::ALL.into_iter().find(|f| f.content_type() == content_type)?;
        let (width, height) = (head["width"].as_u64()? as u32, head["height"].as_u64()? as u32);
        Some(Rendition::new(key, bytes::Bytes::copy_from_slice(body), format, width, height))
    }

    pub fn get_memory(&self, key: &RenditionKey) -> Option<Arc<Rendition>> { self.memory.get(key) }

    /// Blocking: reads a disk entry and promotes it to memory. A file that fails its check is
    /// dropped from the index (and so deleted), and the rendition is made again. While the index
    /// is still being built, a file it does not know yet is read all the same.
    pub fn get_disk(&self, key: &RenditionKey) -> Option<Arc<Rendition>> {
        let entry = DiskEntry::of(key);
        let known = self.disk.get(&entry).is_some();
        if !known && self.indexed() {
            return None;
        }
        let path = entry.path_in(&self.dir);
        let Some(r) = Self::read_file(&path, key) else {
            if known {
                tracing::warn!(key = %key, "a cached rendition failed its check and was dropped");
                self.disk.invalidate(&entry);
            } else if path.exists() {
                let _ = std::fs::remove_file(&path);
            }
            return None;
        };
        if !known {
            let weight = std::fs::metadata(&path).map_or(u32::MAX, |m| u32::try_from(m.len()).unwrap_or(u32::MAX));
            self.disk.insert(entry, weight);
        }
        let r = Arc::new(r);
        self.memory.insert(key.clone(), r.clone());
        Some(r)
    }

    /// Blocking: writes both tiers; the disk file appears whole (temp file + rename) or not at all.
    pub fn put(&self, key: &RenditionKey, r: Arc<Rendition>) {
        self.memory.insert(key.clone(), r.clone());
        let entry = DiskEntry::of(key);
        let path = entry.path_in(&self.dir);
        let write = || -> std::io::Result<u32> {
            std::fs::create_dir_all(path.parent().unwrap_or(&self.dir))?;
            let tmp = path.with_extension("tmp");
            let head = serde_json::json!({ "key": key.to_string(), "content_type": r.content_type(), "width": r.width, "height": r.height, "len": r.bytes.len() });
            let head = head.to_string();
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(head.as_bytes())?;
            f.write_all(b"\n")?;
            f.write_all(&r.bytes)?;
            std::fs::rename(&tmp, &path)?;
            // Weighed as the file's size, as `load_index` weighs it after a restart.
            Ok(u32::try_from(head.len() + 1 + r.bytes.len()).unwrap_or(u32::MAX))
        };
        match write() {
            Ok(weight) => self.disk.insert(entry, weight),
            Err(e) => tracing::warn!(error = %e, path = %path.display(), "rendition not written to the disk cache"),
        }
    }

    /// Blocking: drops every rendition of one original (after overwrite or delete) from both tiers
    /// and removes its directory. Returns how many entries were dropped from memory and disk.
    pub fn purge(&self, storage_key: &str) -> std::io::Result<(u64, u64)> {
        let mut memory = 0;
        for (k, _) in self.memory.iter() {
            if k.storage_key == storage_key {
                self.memory.invalidate(&*k);
                memory += 1;
            }
        }
        let mut disk = 0;
        for (k, _) in self.disk.iter() {
            if k.storage_key == storage_key {
                // The eviction listener deletes the file.
                self.disk.invalidate(&*k);
                disk += 1;
            }
        }
        metrics::counter!("renditions_purged_total", "tier" => "memory").increment(memory);
        metrics::counter!("renditions_purged_total", "tier" => "disk").increment(disk);
        // The directory also holds files the index never learnt of (a write racing this purge).
        let removed = match std::fs::remove_dir_all(self.dir.join(storage_key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok((memory, disk)),
        };
        self.run_pending();
        removed
    }

    /// Runs moka's pending evictions (and so disk deletions) and publishes the tiers' sizes.
    pub fn run_pending(&self) {
        settle(&self.memory);
        settle(&self.disk);
        metrics::gauge!("rendition_cache_bytes", "tier" => "memory").set(self.memory.weighted_size() as f64);
        metrics::gauge!("rendition_cache_bytes", "tier" => "disk").set(self.disk.weighted_size() as f64);
        metrics::gauge!("rendition_cache_entries", "tier" => "memory").set(self.memory.entry_count() as f64);
        metrics::gauge!("rendition_cache_entries", "tier" => "disk").set(self.disk.entry_count() as f64);
    }

    /// Entries in (memory, disk); exact after `run_pending`.
    pub fn entry_counts(&self) -> (u64, u64) { (self.memory.entry_count(), self.disk.entry_count()) }
}

/// Applies every pending write to a moka cache. One `run_pending_tasks` applies a bounded batch
/// (a few hundred writes), so after a burst of inserts (the index of 20,000 files) the counts lag
/// until it has run again; repeat until they hold still.
fn settle<K, V>(cache: &moka::sync::Cache<K, V>)
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    let mut last = (u64::MAX, u64::MAX);
    for _ in 0..64 {
        cache.run_pending_tasks();
        let now = (cache.entry_count(), cache.weighted_size());
        if now == last {
            break;
        }
        last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendition(n: usize) -> Arc<Rendition> {
        Arc::new(Rendition { bytes: vec![7u8; n].into(), format: OutputFormat::Png, width: 1, height: 1, etag: String::new() })
    }

    fn key(storage: &str, t: &str) -> RenditionKey { RenditionKey::new(storage, Transform::parse(t).unwrap(), None) }

    /// A cache over `dir`, once its index of what is already there is complete.
    /// A cache whose index of what is on disk is complete. Tests that write at once start from
    /// here: an index still reading the directory could find a file just purged and list it again.
    fn reopened(dir: &Path, disk_bytes: u64) -> RenditionCache {
        let c = RenditionCache::new(dir.to_path_buf(), 1 << 20, disk_bytes);
        while !c.indexed() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        c
    }

    fn files_under(dir: &Path) -> usize {
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|d| std::fs::read_dir(d.path()).map_or(0, |f| f.count())).sum()
    }

    #[test]
    fn the_memory_cap_counts_each_entrys_overhead_not_only_its_body() {
        let d = tempfile::tempdir().unwrap();
        // 1 MiB of one-byte bodies: weighed by body alone it would take a million entries.
        let c = RenditionCache::unindexed(d.path().to_path_buf(), 1 << 20, 0);
        for i in 0..10_000 {
            c.memory.insert(key(&format!("{i:08}.png"), "w_10"), rendition(1));
        }
        c.run_pending();
        let (entries, weight) = (c.memory.entry_count(), c.memory.weighted_size());
        assert!(weight <= 1 << 20, "weighed {weight} bytes over a 1 MiB cap");
        assert!(entries <= (1 << 20) / MEMORY_ENTRY_OVERHEAD as u64, "{entries} entries of 1-byte bodies kept in 1 MiB");
        assert!(entries > 1000, "the cap still holds many small entries: {entries}");
    }

    #[test]
    fn purge_drops_one_originals_renditions_from_both_tiers() {
        let d = tempfile::tempdir().unwrap();
        let c = reopened(d.path(), 1 << 20);
        let (a1, a2, b) = (key("aaa.png", "w_10"), key("aaa.png", "w_20,f_auto"), key("bbb.png", "w_10"));
        for k in [&a1, &a2, &b] {
            c.put(k, rendition(100));
        }
        c.run_pending();
        assert_eq!(c.entry_counts(), (3, 3));
        assert_eq!(files_under(d.path()), 3);

        assert_eq!(c.purge("aaa.png").unwrap(), (2, 2));
        assert_eq!(c.entry_counts(), (1, 1));
        assert!(c.get_memory(&a1).is_none() && c.get_memory(&a2).is_none());
        assert!(c.get_disk(&a1).is_none());
        assert!(!d.path().join("aaa.png").exists());
        assert_eq!(files_under(d.path()), 1);
        assert!(c.get_memory(&b).is_some() && c.get_disk(&b).is_some());
        // Purging what is already gone is not an error.
        assert_eq!(c.purge("aaa.png").unwrap(), (0, 0));
    }

    #[test]
    fn disk_tier_survives_a_restart_and_checks_the_key() {
        let d = tempfile::tempdir().unwrap();
        let k = key("aaa.png", "w_10");
        reopened(d.path(), 1 << 20).put(&k, rendition(10));
        let c = reopened(d.path(), 1 << 20);
        assert!(c.get_memory(&k).is_none());
        assert_eq!(c.get_disk(&k).unwrap().bytes.len(), 10);
        assert!(c.get_memory(&k).is_some(), "a disk hit is promoted to memory");
        assert!(c.get_disk(&key("aaa.png", "w_11")).is_none());
    }

    /// Every file under the cache directory, with its size.
    fn files_with_sizes(dir: &Path) -> Vec<(PathBuf, u64)> {
        let subs = std::fs::read_dir(dir).unwrap().flatten();
        subs.flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten().map(|f| (f.path(), f.metadata().unwrap().len())).collect::<Vec<_>>()).collect()
    }

    #[test]
    fn a_restart_indexes_many_renditions_by_name_and_serves_them() {
        let d = tempfile::tempdir().unwrap();
        let keys: Vec<RenditionKey> = (0..20_000).map(|i| key(&format!("s{}.png", i % 100), &format!("w_{}", i / 100 + 1))).collect();
        let c = reopened(d.path(), 1 << 30);
        for (i, k) in keys.iter().enumerate() {
            c.put(k, Arc::new(Rendition::new(k, vec![(i % 251) as u8; 100].into(), OutputFormat::Webp, 7, 5)));
        }
        drop(c);
        // Cut one file short after the fact, as a crash before the rename reached the disk would.
        let short = DiskEntry::of(&keys[7]).path_in(d.path());
        let len = std::fs::metadata(&short).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(&short).unwrap().set_len(len - 1).unwrap();

        let c = reopened(d.path(), 1 << 30);
        c.run_pending();
        // Indexed from names and sizes, the short file included: nothing was read.
        assert_eq!(c.entry_counts(), (0, 20_000));
        for i in [0, 1, 99, 100, 12_345, 19_999] {
            let r = c.get_disk(&keys[i]).unwrap_or_else(|| panic!("rendition {i} not served after the restart"));
            assert_eq!((r.bytes.len(), r.bytes[0], r.format, r.width, r.height), (100, (i % 251) as u8, OutputFormat::Webp, 7, 5));
            assert_eq!(r.etag, keys[i].etag());
        }
        // The short file is never served; it leaves the index and the disk, to be rendered again.
        assert!(c.get_disk(&keys[7]).is_none());
        c.run_pending();
        assert_eq!(c.entry_counts().1, 19_999);
        assert!(!short.exists());
    }

    #[test]
    fn renditions_are_served_before_the_index_reaches_them_and_checked_the_same() {
        let d = tempfile::tempdir().unwrap();
        let (good, short) = (key("s.png", "w_1"), key("s.png", "w_2"));
        let c = reopened(d.path(), 1 << 30);
        for k in [&good, &short] {
            c.put(k, Arc::new(Rendition::new(k, vec![3u8; 50].into(), OutputFormat::Gif, 2, 2)));
        }
        let short_path = DiskEntry::of(&short).path_in(d.path());
        let len = std::fs::metadata(&short_path).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(&short_path).unwrap().set_len(len - 10).unwrap();
        drop(c);

        // A restart whose index has not got to these files yet.
        let c = RenditionCache::unindexed(d.path().to_path_buf(), 1 << 20, 1 << 30);
        assert!(!c.indexed());
        assert_eq!(c.get_disk(&good).unwrap().bytes.len(), 50);
        assert!(c.get_disk(&short).is_none(), "a short file is not served");
        assert!(!short_path.exists(), "and is removed, to be rendered again");
        c.run_pending();
        assert_eq!(c.entry_counts().1, 1, "the file read is indexed");
    }

    #[test]
    fn the_disk_cap_holds_after_a_restart_keeping_the_newest() {
        let d = tempfile::tempdir().unwrap();
        let keys: Vec<RenditionKey> = (0..40).map(|i| key("s.png", &format!("w_{}", i + 1))).collect();
        let c = reopened(d.path(), 1 << 30);
        for k in &keys {
            c.put(k, Arc::new(Rendition::new(k, vec![1u8; 1000].into(), OutputFormat::Png, 1, 1)));
        }
        drop(c);
        // Distinct ages, oldest first, whatever the file system's timestamp resolution.
        let epoch = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        for (i, k) in keys.iter().enumerate() {
            let f = std::fs::File::options().write(true).open(DiskEntry::of(k).path_in(d.path())).unwrap();
            f.set_modified(epoch + std::time::Duration::from_secs(i as u64 * 60)).unwrap();
        }
        let file_size = files_with_sizes(d.path())[0].1;

        let cap = 10 * file_size + file_size / 2;
        let c = reopened(d.path(), cap);
        c.run_pending();
        let on_disk = files_with_sizes(d.path());
        assert_eq!(on_disk.len() as u64, c.entry_counts().1, "evicted entries take their files with them");
        assert!(on_disk.iter().map(|f| f.1).sum::<u64>() <= cap, "{} files over a cap of {cap} bytes", on_disk.len());
        assert!(on_disk.len() >= 5, "the cap holds 10 files; only {} kept", on_disk.len());
        for k in &keys[40 - on_disk.len()..] {
            assert!(c.get_disk(k).is_some(), "the newest renditions are the ones kept");
        }
    }

    #[test]
    fn f_auto_keys_carry_the_chosen_format_not_the_header() {
        let t = Transform::parse("w_10,f_auto").unwrap();
        let k = |accept: Option<&str>| RenditionKey::new("s.jpg", t.clone(), accept);
        assert_eq!(k(Some("IMAGE/AVIF")), k(Some("image/avif,image/webp,*/*")));
        assert_ne!(k(Some("IMAGE/AVIF")), k(Some("*/*")));
        assert_eq!(k(Some("image/avif;q=0, image/webp")), k(Some("image/webp")));
        assert_eq!(k(Some("*/*")), k(None));
        assert_eq!(k(Some("image/avif")).to_string(), "s.jpg/w_10,f_auto|accept=avif");
        assert_ne!(k(Some("image/avif")).fingerprint(), k(None).fingerprint());
        // Without f_auto the header changes nothing.
        let plain = |accept| RenditionKey::new("s.jpg", Transform::parse("w_10").unwrap(), accept);
        assert_eq!(plain(Some("image/avif")), plain(None));
        assert_eq!(plain(None).to_string(), "s.jpg/w_10");
    }
}
