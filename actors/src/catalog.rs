//! The catalog actor: assets over SQLite plus originals on disk, stored so that nothing is ever half written.
//!
//! Upload order: bytes -> temp file (fsync) -> rename into originals/ (fsync dir) -> row commit.
//! A crash before the commit leaves only an unreferenced file, which `sweep_orphans` removes at start;
//! a row never points at a missing or partial file. Originals are addressed by a fresh random
//! `storage_key` on every write, so caches keyed by it can never serve a replaced original.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix::{Actor, SyncContext};
use rand::RngCore;
use rusqlite::{params, params_from_iter, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::db::{Conn, Pool};
use crate::domain::{now_rfc3339, now_unix, User};
use crate::error::{DomainError, DomainResult};
use crate::outbox::{self, OutboxSignal};
use crate::public_id::{parse_tags, split_version, Folder, PublicId};
use crate::webhooks::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility { Public, Private }

crate::domain::text_enum!(Visibility, "visibility", { Public => "public", Private => "private" });

/// An asset as the catalog knows it. The HTTP layer adds `url`. Deserialize reads the snapshots
/// the outbox keeps (which never hold the storage key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    pub public_id: String,
    pub folder: String,
    pub tags: Vec<String>,
    pub visibility: Visibility,
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub bytes: i64,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    /// The owner's user id.
    pub owner: i64,
    pub owner_email: String,
    /// Name of the original under originals/; never shown to clients.
    #[serde(skip)]
    pub storage_key: String,
    #[serde(skip)]
    pub row_id: i64,
    #[serde(skip)]
    tag: TagCell,
}

impl Asset {
    pub fn may_manage(&self, user: &User) -> bool { user.may_manage(self.owner) }

    /// The asset's CDN cache tag (`public_id::cache_tag`), hashed on first use and kept with this
    /// snapshot: delivery names it on every response, cache hits included.
    pub fn cache_tag(&self) -> &str { self.tag.0.get_or_init(|| crate::public_id::cache_tag(&self.public_id)) }
}

/// A cache of what `public_id` determines, so it takes no part in comparing assets.
#[derive(Debug, Clone, Default)]
struct TagCell(std::sync::OnceLock<String>);

impl PartialEq for TagCell {
    fn eq(&self, _: &Self) -> bool { true }
}

/// What an upload carries besides the bytes. A field left `None` keeps an overwritten asset's
/// value (a new asset gets the default: no folder, no tags, public).
#[derive(Debug, Clone, Default)]
pub struct UploadForm {
    pub file_name: Option<String>,
    pub public_id: Option<String>,
    /// Folder, tags and visibility, validated before the upload costs a render.
    pub fields: AssetFields,
    pub overwrite: bool,
}

/// Folder, tags and visibility as a client sent them, on upload (form fields) or PATCH (JSON).
#[derive(Debug, Clone, Default)]
pub struct AssetFieldsInput {
    pub folder: Option<String>,
    /// Every `tags` value sent, each comma-separated; together they are the tag list.
    pub tags: Option<Vec<String>>,
    pub visibility: Option<String>,
}

impl AssetFieldsInput {
    /// The one validation of these fields, for upload and PATCH alike, so the same bad value gets
    /// the same 400 whichever way it came.
    pub fn validate(&self) -> DomainResult<AssetFields> {
        Ok(AssetFields {
            folder: self.folder.as_deref().map(Folder::parse).transpose()?,
            tags: self.tags.as_ref().map(|t| parse_tags(t.iter().map(String::as_str))).transpose()?,
            visibility: self.visibility.as_deref().map(|v| Visibility::parse(v.trim())).transpose()?,
        })
    }
}

/// Validated folder, tags and visibility, each `None` when the caller left it alone.
#[derive(Debug, Clone, Default)]
pub struct AssetFields {
    folder: Option<Folder>,
    tags: Option<Vec<String>>,
    visibility: Option<Visibility>,
}

impl AssetFields {
    /// Writes the fields that are set onto an existing row; the others keep their value.
    fn apply(&self, tx: &rusqlite::Transaction<'_>, row_id: i64) -> DomainResult<()> {
        if let Some(f) = &self.folder {
            tx.execute("UPDATE assets SET folder = ?1 WHERE id = ?2", params![f.as_str(), row_id])?;
        }
        if let Some(v) = self.visibility {
            tx.execute("UPDATE assets SET visibility = ?1 WHERE id = ?2", params![v.as_str(), row_id])?;
        }
        if let Some(tags) = &self.tags {
            tx.execute("DELETE FROM asset_tags WHERE asset_id = ?1", [row_id])?;
            for t in tags {
                tx.execute("INSERT OR IGNORE INTO asset_tags (asset_id, tag) VALUES (?1, ?2)", params![row_id, t])?;
            }
        }
        Ok(())
    }
}

/// Whether `caller` may store under a public_id whose current owner is `existing` (`None`: free).
fn may_store(caller: &User, public_id: &PublicId, existing: Option<i64>, overwrite: bool) -> DomainResult<()> {
    match existing {
        None => Ok(()),
        Some(_) if !overwrite => Err(DomainError::Conflict(format!("public_id '{}' already exists (use overwrite=true)", public_id.as_str()))),
        Some(o) if !caller.may_manage(o) => {
            Err(DomainError::Forbidden(format!("public_id '{}' belongs to another user", public_id.as_str())))
        }
        Some(_) => Ok(()),
    }
}

/// Refuses a new public_id that would make one of another owner's URLs read differently (a
/// delivery path `v<N>/<rest>` is version N of `<rest>` while `<rest>` exists, else the asset
/// `v<N>/<rest>`: see `resolve` in routes/image.rs). Either way round: `v1/logo` while someone
/// else owns `logo`, or `logo` while someone else owns `v1/logo` (any version number). The same
/// owner may hold both; their `url`s name the version (`public_id::url_needs_version`).
fn refuse_cross_owner_shadow(conn: &rusqlite::Connection, caller: &User, public_id: &PublicId) -> DomainResult<()> {
    let id = public_id.as_str();
    let other_owner = |name: &str| -> DomainResult<bool> {
        let owner: Option<i64> = conn.query_row("SELECT owner_id FROM assets WHERE public_id = ?1", [name], |r| r.get(0)).optional()?;
        Ok(owner.is_some_and(|o| o != caller.id))
    };
    if let Some((version, rest)) = split_version(id) {
        if other_owner(rest)? {
            return Err(DomainError::Conflict(format!(
                "public_id '{id}' is refused: its URL /v1/image/{id} reads as version {version} of '{rest}', another user's asset; choose another public_id"
            )));
        }
    }
    // Ids starting with `v` and a digit, ending in `/<id>`; `split_version` has the last word.
    let mut st = conn.prepare_cached(
        "SELECT public_id FROM assets WHERE public_id >= 'v0' AND public_id < 'v:' AND owner_id != ?1 \
         AND substr(public_id, -length(?2) - 1) = '/' || ?2",
    )?;
    let shadowed = st.query_map(params![caller.id, id], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    if let Some(other) = shadowed.iter().find(|o| split_version(o).is_some_and(|(_, rest)| rest == id)) {
        return Err(DomainError::Conflict(format!(
            "public_id '{id}' is refused: another user's asset '{other}' has the URL /v1/image/{other}, which would then read as a version of '{id}'; choose another public_id"
        )));
    }
    Ok(())
}

/// An original already renamed into originals/, waiting for its row.
struct StoredOriginal<'a> {
    info: imgcloud_engine::SourceInfo,
    size: i64,
    storage_key: &'a str,
}

/// The result of a stored upload.
#[derive(Debug, Clone)]
pub struct Stored {
    pub asset: Asset,
    pub created: bool,
    /// The storage key of the original this upload replaced, so its renditions can be purged.
    pub replaced: Option<String>,
}

/// Listing filters, all optional.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub folder: Option<String>,
    pub folder_prefix: Option<String>,
    pub tags: Vec<String>,
    pub prefix: Option<String>,
    pub visibility: Option<Visibility>,
    pub created_after: Option<i64>,
    pub created_before: Option<i64>,
    pub owner: Option<i64>,
    pub limit: u32,
    pub cursor: Option<i64>,
}


#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageFigures {
    pub storage_bytes: i64,
    pub asset_count: i64,
    pub bandwidth_bytes: i64,
    pub requests: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserUsage {
    pub user_id: i64,
    pub email: String,
    #[serde(flatten)]
    pub figures: UsageFigures,
}

/// One UTC day of delivered traffic; days without traffic are present with zeros.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyUsage {
    pub date: String,
    pub bandwidth_bytes: i64,
    pub requests: i64,
}

/// A folder or tag and how many of the caller's listable assets carry it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NameCount {
    pub name: String,
    pub count: i64,
}

/// A folder of the caller's listable assets: `count` directly in it, `total` in it and its
/// sub-folders. A parent that holds only sub-folders is listed with `count` 0, so a folder picker
/// can offer it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FolderCount {
    pub name: String,
    pub count: i64,
    pub total: i64,
}

#[derive(Debug, Clone)]
pub struct CatalogSettings {
    pub data_dir: PathBuf,
    /// A CDN purger is configured: overwrite, delete and visibility changes write purge rows to the outbox.
    pub purge_enabled: bool,
}

/// The logic, shared by every catalog actor thread. Also holds the metadata cache that delivery reads.
#[derive(Clone)]
pub struct CatalogStore {
    pool: Pool,
    settings: Arc<CatalogSettings>,
    meta: moka::sync::Cache<String, Arc<Asset>>,
    /// Catalog writes so far, counted after each commit and before its invalidation (`forget`).
    writes: Arc<AtomicU64>,
    outbox: OutboxSignal,
}

const ASSET_SELECT: &str = "SELECT a.id, a.public_id, a.folder, a.visibility, a.format, a.width, a.height, a.bytes, a.version, \
     a.created_at, a.updated_at, a.owner_id, u.email, a.storage_key, \
     (SELECT group_concat(tag, ',') FROM (SELECT tag FROM asset_tags t WHERE t.asset_id = a.id ORDER BY t.rowid)) \
     FROM assets a JOIN users u ON u.id = a.owner_id";

fn asset_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Asset> {
    let tags: Option<String> = r.get(14)?;
    Ok(Asset {
        row_id: r.get(0)?,
        public_id: r.get(1)?,
        folder: r.get(2)?,
        visibility: r.get(3)?,
        format: r.get(4)?,
        width: r.get(5)?,
        height: r.get(6)?,
        bytes: r.get(7)?,
        version: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        owner: r.get(11)?,
        owner_email: r.get(12)?,
        storage_key: r.get(13)?,
        tags: tags.map(|t| t.split(',').map(str::to_string).collect()).unwrap_or_default(),
        tag: TagCell::default(),
    })
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn format_name(f: imgcloud_engine::InputFormat) -> &'static str {
    use imgcloud_engine::InputFormat::*;
    match f { Jpeg => "jpg", Png => "png", Webp => "webp", Gif => "gif", Tiff => "tiff", Bmp => "bmp", Avif => "avif" }
}

/// TEST ONLY: `IMGCLOUD_TEST_PAUSE_AFTER_RENAME_MS` holds every upload that long between its rename into
/// originals/ and its row commit, so a crash test (tests/api/resilience.rs) kills the server inside that
/// window every time instead of by luck. Read only in debug builds (what `cargo test` runs); a release
/// build has no such pause whatever its environment says.
fn pause_after_rename_for_tests() {
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("IMGCLOUD_TEST_PAUSE_AFTER_RENAME_MS").ok().and_then(|v| v.parse::<u64>().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

fn fsync_dir(dir: &Path) {
    // Directory fsync makes the rename durable; failure here is not fatal (the data itself is synced).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

impl CatalogStore {
    pub fn new(pool: Pool, settings: CatalogSettings) -> Self {
        let meta = moka::sync::Cache::builder().max_capacity(100_000).build();
        Self { pool, settings: Arc::new(settings), meta, writes: Arc::default(), outbox: OutboxSignal::default() }
    }

    /// Notified after every commit that wrote outbox rows; the outbound worker waits on it.
    pub fn outbox_signal(&self) -> OutboxSignal { self.outbox.clone() }

    fn conn(&self) -> DomainResult<Conn> { Ok(self.pool.get()?) }

    pub fn originals_dir(&self) -> PathBuf { self.settings.data_dir.join("originals") }

    pub fn original_path(&self, storage_key: &str) -> PathBuf { self.originals_dir().join(storage_key) }

    /// The metadata cache lookup delivery does without an actor hop; `None` means ask the actor.
    pub fn cached(&self, public_id: &str) -> Option<Arc<Asset>> { self.meta.get(public_id) }

    pub fn get(&self, public_id: &str) -> DomainResult<Arc<Asset>> {
        if let Some(a) = self.meta.get(public_id) {
            return Ok(a);
        }
        let writes = self.writes.load(Ordering::SeqCst);
        let a = Arc::new(self.read_row(public_id)?);
        self.remember(public_id, a.clone(), writes);
        Ok(a)
    }

    fn read_row(&self, public_id: &str) -> DomainResult<Asset> {
        self.conn()?
            .query_row(&format!("{ASSET_SELECT} WHERE a.public_id = ?1"), [public_id], asset_from_row)
            .optional()?
            .ok_or_else(|| DomainError::NotFound(format!("asset '{public_id}'")))
    }

    /// Caches a row read after `writes_before` writes had been counted. A write that committed after
    /// that read may have invalidated before this insert; the row would then be cached for good
    /// (delivery serving an asset made private, or deleted). Such a write has counted itself by now,
    /// or will invalidate after this insert.
    fn remember(&self, public_id: &str, a: Arc<Asset>, writes_before: u64) {
        self.meta.insert(public_id.to_string(), a);
        if self.writes.load(Ordering::SeqCst) != writes_before {
            self.meta.invalidate(public_id);
        }
    }

    /// Drops a public_id's cached row after a committed write (see `get` for why it counts first).
    fn forget(&self, public_id: &str) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.meta.invalidate(public_id);
    }

    /// Drops every cached row after a user's email changed: each row carries its owner's email
    /// (`Asset::owner_email`), and one user owns any number of rows. Email changes are rare admin
    /// edits, so dropping all is cheaper than indexing rows by owner. Counts as a write (see `get`).
    pub fn forget_all(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.meta.invalidate_all();
    }

    /// After a committed write: drop the cached row, then wake the outbound worker, in that order.
    /// Woken first, the worker could purge the CDN while delivery still serves the old row from this
    /// cache, and a CDN refetch in that window would cache the old image again, for max-age.
    fn committed(&self, public_id: &str) {
        self.forget(public_id);
        self.outbox.notify();
    }

    /// For owner/admin endpoints: 400 for an id no asset could have, 404 when missing, 403 when it is someone else's.
    pub fn get_managed(&self, user: &User, public_id: &str) -> DomainResult<Arc<Asset>> {
        let a = self.get(PublicId::parse(public_id)?.as_str())?;
        if !a.may_manage(user) {
            return Err(DomainError::Forbidden(format!("asset '{public_id}' belongs to another user")));
        }
        Ok(a)
    }

    pub fn store_upload(&self, owner: &User, image: crate::render::Validated, form: UploadForm) -> DomainResult<Stored> {
        let fields = form.fields;
        let public_id = match form.public_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(p) => PublicId::parse(p)?,
            None => PublicId::generate(form.file_name.as_deref(), fields.folder.as_ref().unwrap_or(&Folder::default()))?,
        };
        let info = image.info();
        let bytes = image.into_bytes();

        // Cheap early refusal before the file is written; only the check inside the commit's transaction counts.
        let existing: Option<i64> = self
            .conn()?
            .query_row("SELECT owner_id FROM assets WHERE public_id = ?1", [public_id.as_str()], |r| r.get(0))
            .optional()?;
        may_store(owner, &public_id, existing, form.overwrite)?;
        if existing.is_none() {
            refuse_cross_owner_shadow(&*self.conn()?, owner, &public_id)?;
        }

        let tmp = self.settings.data_dir.join("tmp").join(format!("{}.part", random_hex(8)));
        let storage_key = format!("{}.{}", random_hex(12), format_name(info.format));
        let final_path = self.original_path(&storage_key);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &final_path)?;
            fsync_dir(&self.originals_dir());
            Ok(())
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            let _ = std::fs::remove_file(&final_path);
            return Err(DomainError::Internal(format!("storing original: {e}")));
        }
        pause_after_rename_for_tests();
        let original = StoredOriginal { info, size: bytes.len() as i64, storage_key: &storage_key };
        match self.commit_upload(owner, &public_id, &fields, &original, form.overwrite) {
            Ok((row_id, created, replaced)) => {
                self.committed(public_id.as_str());
                if let Some(old) = &replaced {
                    let _ = std::fs::remove_file(self.original_path(old));
                }
                let asset = self.get_by_row(row_id)?;
                Ok(Stored { asset, created, replaced })
            }
            Err(e) => {
                let _ = std::fs::remove_file(&final_path);
                Err(e)
            }
        }
    }

    /// The row write of an upload, in one IMMEDIATE transaction: the owner and overwrite rule is
    /// decided on what this transaction reads, so no concurrent upload can slip in between.
    fn commit_upload(
        &self,
        caller: &User,
        public_id: &PublicId,
        fields: &AssetFields,
        original: &StoredOriginal<'_>,
        overwrite: bool,
    ) -> DomainResult<(i64, bool, Option<String>)> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let existing: Option<(i64, i64, String, i64)> = tx
            .query_row("SELECT id, version, storage_key, owner_id FROM assets WHERE public_id = ?1", [public_id.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        may_store(caller, public_id, existing.as_ref().map(|e| e.3), overwrite)?;
        let info = &original.info;
        let now = now_rfc3339();
        // Dimensions as displayed: EXIF orientations 5-8 swap the stored width and height.
        let shown = if info.orientation >= 5 { (info.height, info.width) } else { (info.width, info.height) };
        let (row_id, created, replaced) = match existing {
            Some((id, version, old_key, _)) => {
                tx.execute(
                    "UPDATE assets SET format = ?1, width = ?2, height = ?3, bytes = ?4, version = ?5, storage_key = ?6, updated_at = ?7 \
                     WHERE id = ?8",
                    params![format_name(info.format), shown.0, shown.1, original.size, version + 1, original.storage_key, now, id],
                )?;
                fields.apply(&tx, id)?;
                (id, false, Some(old_key))
            }
            None => {
                refuse_cross_owner_shadow(&tx, caller, public_id)?;
                let folder = fields.folder.clone().unwrap_or_default();
                let visibility = fields.visibility.unwrap_or(Visibility::Public);
                tx.execute(
                    "INSERT INTO assets (public_id, owner_id, folder, visibility, format, width, height, bytes, version, storage_key, \
                     created_at, updated_at, created_unix) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
                     COALESCE((SELECT version FROM retired_versions WHERE public_id = ?1), 0) + 1, ?9, ?10, ?10, ?11)",
                    params![
                        public_id.as_str(),
                        caller.id,
                        folder.as_str(),
                        visibility.as_str(),
                        format_name(info.format),
                        shown.0,
                        shown.1,
                        original.size,
                        original.storage_key,
                        now,
                        now_unix()
                    ],
                )?;
                let id = tx.last_insert_rowid();
                AssetFields { tags: fields.tags.clone(), ..Default::default() }.apply(&tx, id)?;
                (id, true, None)
            }
        };
        // The events and the purge commit with the change, or not at all.
        let snapshot = tx.query_row(&format!("{ASSET_SELECT} WHERE a.id = ?1"), [row_id], asset_from_row)?;
        if created {
            outbox::enqueue_event(&tx, Event::Uploaded, &snapshot, &now)?;
        } else {
            outbox::enqueue_event(&tx, Event::Overwritten, &snapshot, &now)?;
            if self.settings.purge_enabled {
                outbox::enqueue_purge(&tx, public_id.as_str())?;
            }
        }
        tx.commit()?;
        // The caller wakes the outbound worker (`committed`) once the cached row is gone, not here.
        Ok((row_id, created, replaced))
    }

    fn get_by_row(&self, row_id: i64) -> DomainResult<Asset> {
        Ok(self.conn()?.query_row(&format!("{ASSET_SELECT} WHERE a.id = ?1"), [row_id], asset_from_row)?)
    }

    pub fn list(&self, caller: &User, q: &ListQuery) -> DomainResult<(Vec<Asset>, Option<i64>)> {
        let mut sql = format!("{ASSET_SELECT} WHERE 1=1");
        let mut args: Vec<rusqlite::types::Value> = vec![];
        let mut arg = |sql: &mut String, clause: &str, v: rusqlite::types::Value| {
            args.push(v);
            sql.push_str(&clause.replace("?", &format!("?{}", args.len())));
        };
        let owner = caller.owner_scope().or(q.owner);
        if let Some(o) = owner {
            arg(&mut sql, " AND a.owner_id = ?", o.into());
        }
        if let Some(f) = &q.folder {
            arg(&mut sql, " AND a.folder = ?", Folder::parse(f)?.as_str().to_string().into());
        }
        if let Some(f) = &q.folder_prefix {
            let f = Folder::parse(f)?.as_str().to_string();
            if !f.is_empty() {
                arg(&mut sql, " AND (a.folder = ?", f.clone().into());
                arg(&mut sql, " OR substr(a.folder, 1, length(?)) = ?)", format!("{f}/").into());
            }
        }
        if let Some(p) = &q.prefix {
            arg(&mut sql, " AND substr(a.public_id, 1, length(?)) = ?", p.clone().into());
        }
        if let Some(v) = q.visibility {
            arg(&mut sql, " AND a.visibility = ?", v.as_str().to_string().into());
        }
        if let Some(t) = q.created_after {
            arg(&mut sql, " AND a.created_unix > ?", t.into());
        }
        if let Some(t) = q.created_before {
            arg(&mut sql, " AND a.created_unix < ?", t.into());
        }
        for t in &q.tags {
            arg(&mut sql, " AND EXISTS (SELECT 1 FROM asset_tags t WHERE t.asset_id = a.id AND t.tag = ?)", t.clone().into());
        }
        if let Some(c) = q.cursor {
            arg(&mut sql, " AND a.id < ?", c.into());
        }
        let page = crate::limits::LIST_PAGE;
        let limit = u64::from(q.limit).clamp(page.min, page.max);
        sql.push_str(&format!(" ORDER BY a.id DESC LIMIT {}", limit + 1));
        let conn = self.conn()?;
        let mut st = conn.prepare(&sql)?;
        let mut rows = st.query_map(params_from_iter(args.iter()), asset_from_row)?.collect::<Result<Vec<_>, _>>()?;
        let next = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|a| a.row_id)
        } else {
            None
        };
        Ok((rows, next))
    }

    pub fn update(&self, caller: &User, public_id: &str, changes: AssetFields) -> DomainResult<Asset> {
        let a = self.get_managed(caller, public_id)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let select = format!("{ASSET_SELECT} WHERE a.id = ?1");
        let before = tx.query_row(&select, [a.row_id], asset_from_row).optional()?.ok_or_else(|| DomainError::NotFound(format!("asset '{public_id}'")))?;
        changes.apply(&tx, a.row_id)?;
        let now = now_rfc3339();
        tx.execute("UPDATE assets SET updated_at = ?1 WHERE id = ?2", params![now, a.row_id])?;
        let after = tx.query_row(&select, [a.row_id], asset_from_row)?;
        outbox::enqueue_event(&tx, Event::Updated, &after, &now)?;
        // Folder and tags change no delivered byte; visibility decides whether the CDN may serve it at all.
        if self.settings.purge_enabled && before.visibility != after.visibility {
            outbox::enqueue_purge(&tx, &after.public_id)?;
        }
        tx.commit()?;
        self.committed(public_id);
        Ok(after)
    }

    /// Deletes the row (with its event and purge, in one transaction), then the original.
    /// Returns the storage key so renditions can be purged.
    pub fn delete(&self, caller: &User, public_id: &str) -> DomainResult<String> {
        let a = self.get_managed(caller, public_id)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let snapshot = tx
            .query_row(&format!("{ASSET_SELECT} WHERE a.id = ?1"), [a.row_id], asset_from_row)
            .optional()?
            .ok_or_else(|| DomainError::NotFound(format!("asset '{public_id}'")))?;
        tx.execute("DELETE FROM assets WHERE id = ?1", [a.row_id])?;
        // Versions of a public_id never repeat (see migrations/0005_retired_versions.sql).
        tx.execute(
            "INSERT INTO retired_versions (public_id, version) VALUES (?1, ?2) \
             ON CONFLICT(public_id) DO UPDATE SET version = max(version, excluded.version)",
            params![snapshot.public_id, snapshot.version],
        )?;
        outbox::enqueue_event(&tx, Event::Deleted, &snapshot, &now_rfc3339())?;
        if self.settings.purge_enabled {
            outbox::enqueue_purge(&tx, &snapshot.public_id)?;
        }
        tx.commit()?;
        self.committed(public_id);
        let _ = std::fs::remove_file(self.original_path(&snapshot.storage_key));
        Ok(snapshot.storage_key)
    }

    pub fn usage(&self, user_id: i64) -> DomainResult<UsageFigures> {
        let conn = self.conn()?;
        let (storage_bytes, asset_count) =
            conn.query_row("SELECT COALESCE(SUM(bytes), 0), COUNT(*) FROM assets WHERE owner_id = ?1", [user_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let (bandwidth_bytes, requests) = conn
            .query_row("SELECT bandwidth_bytes, requests FROM usage_counters WHERE user_id = ?1", [user_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((0, 0));
        Ok(UsageFigures { storage_bytes, asset_count, bandwidth_bytes, requests })
    }

    pub fn usage_all(&self) -> DomainResult<Vec<UserUsage>> {
        let ids: Vec<(i64, String)> = {
            let conn = self.conn()?;
            let mut st = conn.prepare("SELECT id, email FROM users ORDER BY id")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
            rows
        };
        ids.into_iter().map(|(user_id, email)| Ok(UserUsage { user_id, email, figures: self.usage(user_id)? })).collect()
    }

    /// Adds batched delivery counters in one transaction: the all-time totals and today's (UTC) row.
    /// Traffic is dated by its flush, so a batch straddling midnight lands on the new day. Counts of
    /// a user deleted since the delivery are dropped (user ids are never reused, so nobody else can
    /// own them); they must not fail the batch, or every other user's counts would wait forever.
    /// Returns how many users' counts were dropped.
    pub fn add_usage(&self, counts: &[(i64, u64, u64)]) -> DomainResult<usize> {
        let today = time::OffsetDateTime::now_utc().date().to_string();
        let mut conn = self.conn()?;
        // IMMEDIATE: the existence check and the writes see the same users (no delete in between).
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut dropped = 0;
        for (user, bytes, requests) in counts {
            let written = tx.execute(
                "INSERT INTO usage_counters (user_id, bandwidth_bytes, requests) \
                 SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?1) \
                 ON CONFLICT(user_id) DO UPDATE SET bandwidth_bytes = bandwidth_bytes + ?2, requests = requests + ?3",
                params![user, *bytes as i64, *requests as i64],
            )?;
            if written == 0 {
                dropped += 1;
                continue;
            }
            tx.execute(
                "INSERT INTO usage_daily (user_id, day, bandwidth_bytes, requests) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT(user_id, day) DO UPDATE SET bandwidth_bytes = bandwidth_bytes + ?3, requests = requests + ?4",
                params![user, today, *bytes as i64, *requests as i64],
            )?;
        }
        tx.commit()?;
        Ok(dropped)
    }

    /// The last `days` UTC days ending today, oldest first, for one user or (None) everyone.
    pub fn usage_daily(&self, user_id: Option<i64>, days: u32) -> DomainResult<Vec<DailyUsage>> {
        let today = time::OffsetDateTime::now_utc().date();
        let dates: Vec<String> =
            (0..days as i64).rev().map(|back| (today - time::Duration::days(back)).to_string()).collect();
        let first = dates.first().cloned().unwrap_or_else(|| today.to_string());
        let conn = self.conn()?;
        let mut st = conn.prepare(
            "SELECT day, SUM(bandwidth_bytes), SUM(requests) FROM usage_daily \
             WHERE day >= ?1 AND (?2 IS NULL OR user_id = ?2) GROUP BY day",
        )?;
        let found: std::collections::HashMap<String, (i64, i64)> =
            st.query_map(params![first, user_id], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?.collect::<Result<_, _>>()?;
        Ok(dates
            .into_iter()
            .map(|date| {
                let (bandwidth_bytes, requests) = found.get(&date).copied().unwrap_or((0, 0));
                DailyUsage { date, bandwidth_bytes, requests }
            })
            .collect())
    }

    /// Every folder (root left out) of the assets `caller` may list (their own, or all for an
    /// admin) and every parent of those folders, sorted by name.
    pub fn folders(&self, caller: &User) -> DomainResult<Vec<FolderCount>> {
        let direct = self.name_counts(
            "SELECT folder, COUNT(*) FROM assets WHERE folder != '' AND (?1 IS NULL OR owner_id = ?1) GROUP BY folder",
            caller,
        )?;
        let mut all: std::collections::BTreeMap<String, FolderCount> = std::collections::BTreeMap::new();
        for d in direct {
            // `a/b/c` adds its assets to the totals of `a`, `a/b` and itself (folders never end in '/').
            let ends = d.name.match_indices('/').map(|(i, _)| i).chain([d.name.len()]);
            for end in ends {
                let name = &d.name[..end];
                let f = all.entry(name.to_string()).or_insert_with(|| FolderCount { name: name.to_string(), count: 0, total: 0 });
                f.total += d.count;
                if end == d.name.len() {
                    f.count = d.count;
                }
            }
        }
        Ok(all.into_values().collect())
    }

    /// Tags of the assets `caller` may list, as for `folders`.
    pub fn tags(&self, caller: &User) -> DomainResult<Vec<NameCount>> {
        self.name_counts(
            "SELECT t.tag, COUNT(*) FROM asset_tags t JOIN assets a ON a.id = t.asset_id \
             WHERE (?1 IS NULL OR a.owner_id = ?1) GROUP BY t.tag ORDER BY t.tag",
            caller,
        )
    }

    fn name_counts(&self, sql: &str, caller: &User) -> DomainResult<Vec<NameCount>> {
        let owner = caller.owner_scope();
        let conn = self.conn()?;
        let mut st = conn.prepare(sql)?;
        let rows = st.query_map([owner], |r| Ok(NameCount { name: r.get(0)?, count: r.get(1)? }))?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// At start: drop temp files and originals no row points to (left by a crash between rename and commit).
    pub fn sweep_orphans(&self) -> DomainResult<usize> {
        let mut removed = 0;
        for e in std::fs::read_dir(self.settings.data_dir.join("tmp")).into_iter().flatten().flatten() {
            if std::fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
        let conn = self.conn()?;
        let mut st = conn.prepare("SELECT 1 FROM assets WHERE storage_key = ?1")?;
        for e in std::fs::read_dir(self.originals_dir()).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !st.exists([&name])? && std::fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

pub struct CatalogActor(pub CatalogStore);

impl Actor for CatalogActor {
    type Context = SyncContext<Self>;
}

crate::store_messages! { CatalogActor;
    StoreUpload { owner: User, image: crate::render::Validated, form: UploadForm } -> Stored => |s, m| s.store_upload(&m.owner, m.image, m.form);
    GetAsset { public_id: String } -> Arc<Asset> => |s, m| s.get(&m.public_id);
    GetManaged { caller: User, public_id: String } -> Arc<Asset> => |s, m| s.get_managed(&m.caller, &m.public_id);
    ListAssets { caller: User, query: ListQuery } -> (Vec<Asset>, Option<i64>) => |s, m| s.list(&m.caller, &m.query);
    UpdateAsset { caller: User, public_id: String, patch: AssetFields } -> Asset => |s, m| s.update(&m.caller, &m.public_id, m.patch);
    DeleteAsset { caller: User, public_id: String } -> String => |s, m| s.delete(&m.caller, &m.public_id);
    Usage { user_id: i64 } -> UsageFigures => |s, m| s.usage(m.user_id);
    UsageAll {} -> Vec<UserUsage> => |s, _m| s.usage_all();
    AddUsage { counts: Vec<(i64, u64, u64)> } -> usize => |s, m| s.add_usage(&m.counts);
    UsageDaily { user_id: Option<i64>, days: u32 } -> Vec<DailyUsage> => |s, m| s.usage_daily(m.user_id, m.days);
    Folders { caller: User } -> Vec<FolderCount> => |s, m| s.folders(&m.caller);
    Tags { caller: User } -> Vec<NameCount> => |s, m| s.tags(&m.caller);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthSettings, AuthStore};
    use crate::domain::Role;

    fn setup() -> (tempfile::TempDir, CatalogStore, User, User) {
        let (dir, pool) = crate::db::test_pool();
        let auth = AuthStore::new(pool.clone(), AuthSettings { bcrypt_cost: 4, session_ttl_secs: 3600 });
        let alice = auth.create_user("alice@x.io", "password1", Role::User).unwrap();
        let bob = auth.create_user("bob@x.io", "password1", Role::User).unwrap();
        let store = CatalogStore::new(pool, CatalogSettings { data_dir: dir.path().to_path_buf(), purge_enabled: true });
        (dir, store, alice, bob)
    }

    fn original(storage_key: &str) -> StoredOriginal<'_> {
        let info = imgcloud_engine::SourceInfo { format: imgcloud_engine::InputFormat::Png, width: 8, height: 8, orientation: 1, has_alpha: false, frames: 1, plays: 0 };
        StoredOriginal { info, size: 100, storage_key }
    }

    /// The metadata cache's read-during-write guard, its interleaving made deterministic: a delivery
    /// reads the public row, a PATCH to private commits and invalidates, then the read inserts.
    #[test]
    fn a_read_that_overlapped_a_write_is_not_left_cached() {
        let (_d, s, alice, _) = setup();
        let id = PublicId::parse("race/x").unwrap();
        let public = AssetFields { visibility: Some(Visibility::Public), ..Default::default() };
        s.commit_upload(&alice, &id, &public, &original("a.png"), false).unwrap();
        s.get(id.as_str()).unwrap();
        assert!(s.cached(id.as_str()).is_some(), "a read with no write beside it is cached");
        s.forget(id.as_str());

        let before = s.writes.load(Ordering::SeqCst);
        let stale = Arc::new(s.read_row(id.as_str()).unwrap());
        s.conn().unwrap().execute("UPDATE assets SET visibility = 'private' WHERE public_id = ?1", [id.as_str()]).unwrap();
        s.committed(id.as_str());
        s.remember(id.as_str(), stale, before);
        assert!(s.cached(id.as_str()).is_none(), "the public row read before the write must not stay cached");
        assert_eq!(s.get(id.as_str()).unwrap().visibility, Visibility::Private);
    }

    /// The interleaving the race produced, made deterministic: Bob's early check ran while the id was
    /// free, then Alice committed, then Bob's commit step runs. The commit step alone must refuse him.
    #[test]
    fn commit_decides_ownership_inside_its_transaction() {
        let (_d, s, alice, bob) = setup();
        let id = PublicId::parse("shared/x").unwrap();
        let private = AssetFields { visibility: Some(Visibility::Private), ..Default::default() };
        s.commit_upload(&alice, &id, &private, &original("alice.png"), false).unwrap();

        let public = AssetFields { visibility: Some(Visibility::Public), ..Default::default() };
        let e = s.commit_upload(&bob, &id, &public, &original("bob.png"), true).unwrap_err();
        assert!(matches!(e, DomainError::Forbidden(_)), "{e:?}");
        let e = s.commit_upload(&bob, &id, &public, &original("bob2.png"), false).unwrap_err();
        assert!(matches!(e, DomainError::Conflict(_)), "{e:?}");

        let a = s.get(id.as_str()).unwrap();
        assert_eq!((a.owner, a.version, a.visibility, a.storage_key.as_str()), (alice.id, 1, Visibility::Private, "alice.png"));
        // The owner still may.
        let (_, created, replaced) = s.commit_upload(&alice, &id, &AssetFields::default(), &original("alice2.png"), true).unwrap();
        assert!(!created);
        assert_eq!(replaced.as_deref(), Some("alice.png"));
    }

    #[test]
    fn visibility_names_are_exact() {
        for v in Visibility::ALL {
            assert_eq!(v.as_str().parse::<Visibility>(), Ok(*v));
        }
        for bad in ["Private", "PRIVATE", "hidden", "", "public "] {
            let e = bad.parse::<Visibility>().unwrap_err();
            assert_eq!(e.to_string(), format!("visibility must be 'public' or 'private' (got '{bad}')"));
        }
    }

    /// A row whose visibility is none of the names (written around the CHECK constraint, as a
    /// hand edit or a future migration might) is an internal error, never a public asset.
    #[test]
    fn a_stored_unknown_visibility_is_an_error_not_public() {
        let (_d, s, alice, _) = setup();
        let id = PublicId::parse("odd").unwrap();
        s.commit_upload(&alice, &id, &AssetFields::default(), &original("odd.png"), false).unwrap();
        {
            let conn = s.conn().unwrap();
            conn.execute_batch("PRAGMA ignore_check_constraints = ON; UPDATE assets SET visibility = 'Private'; PRAGMA ignore_check_constraints = OFF;").unwrap();
        }
        s.forget("odd");
        let e = s.get("odd").unwrap_err();
        assert!(matches!(&e, DomainError::Internal(m) if m.contains("visibility must be")), "{e:?}");
    }

    /// (kind, target, event type or purged public_id) of every outbox row, oldest first.
    fn outbox(s: &CatalogStore) -> Vec<(String, String, String)> {
        let conn = s.conn().unwrap();
        let mut st = conn.prepare("SELECT kind, target, payload FROM outbox ORDER BY id").unwrap();
        let rows = st
            .query_map([], |r| {
                let payload: serde_json::Value = serde_json::from_str(&r.get::<_, String>(2)?).unwrap();
                let what = payload.get("type").or(payload.get("public_id")).and_then(|v| v.as_str()).unwrap_or_default().to_string();
                Ok((r.get(0)?, r.get(1)?, what))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        conn.execute("DELETE FROM outbox", []).unwrap();
        rows
    }

    #[test]
    fn changes_write_their_events_and_purges_with_them() {
        let (_d, s, alice, bob) = setup();
        let hooks = crate::webhooks::WebhookStore::new(s.pool.clone());
        let a = hooks.create(&alice, "https://a.example/", &[]).unwrap().endpoint.id;
        hooks.create(&bob, "https://b.example/", &[]).unwrap();
        let id = PublicId::parse("evt").unwrap();
        let row = |k: &str, t: &str, w: &str| (k.to_string(), t.to_string(), w.to_string());

        s.commit_upload(&alice, &id, &AssetFields::default(), &original("e1.png"), false).unwrap();
        assert_eq!(outbox(&s), [row("webhook", &a, "asset.uploaded")], "a new asset: nothing cached to purge");
        s.commit_upload(&alice, &id, &AssetFields::default(), &original("e2.png"), true).unwrap();
        assert_eq!(outbox(&s), [row("webhook", &a, "asset.overwritten"), row("purge", "", "evt")]);
        s.update(&alice, "evt", AssetFields { tags: Some(vec!["t".into()]), ..Default::default() }).unwrap();
        assert_eq!(outbox(&s), [row("webhook", &a, "asset.updated")], "tags change no delivered byte");
        s.update(&alice, "evt", AssetFields { visibility: Some(Visibility::Private), ..Default::default() }).unwrap();
        assert_eq!(outbox(&s), [row("webhook", &a, "asset.updated"), row("purge", "", "evt")]);
        s.update(&alice, "evt", AssetFields { visibility: Some(Visibility::Private), ..Default::default() }).unwrap();
        assert_eq!(outbox(&s), [row("webhook", &a, "asset.updated")], "unchanged visibility");
        s.delete(&alice, "evt").unwrap();
        assert_eq!(outbox(&s), [row("webhook", &a, "asset.deleted"), row("purge", "", "evt")]);
    }

    /// Whether a wake-up of the outbound worker is pending (taking it, if so).
    fn woken(s: &CatalogStore) -> bool {
        use std::future::Future;
        let mut n = std::pin::pin!(s.outbox.notified());
        n.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())).is_ready()
    }

    /// The overwrite race: the worker purges the CDN when woken, so it must not be woken while the
    /// old row is still in the metadata cache (a CDN refetch would be served the old image and keep
    /// it for max-age). The transaction step wakes nobody; `committed` drops the row, then wakes.
    /// (`store_upload` itself needs a `Validated` image, which only the render module makes.)
    #[test]
    fn the_worker_is_woken_only_after_the_cached_row_is_dropped() {
        let (_d, s, alice, _) = setup();
        let id = PublicId::parse("race").unwrap();
        s.commit_upload(&alice, &id, &AssetFields::default(), &original("r1.png"), false).unwrap();
        assert!(!woken(&s), "the transaction step wakes nobody");
        s.committed("race");
        assert!(woken(&s));
        assert_eq!(s.get("race").unwrap().version, 1);

        s.commit_upload(&alice, &id, &AssetFields::default(), &original("r2.png"), true).unwrap();
        assert_eq!(s.cached("race").map(|a| a.version), Some(1), "committed, but the old row is still cached");
        assert!(!woken(&s), "so the purge may not start yet");
        s.committed("race");
        assert!(s.cached("race").is_none());
        assert!(woken(&s), "the row is gone: now the purge may go");
        assert_eq!(s.get("race").unwrap().version, 2);

        // update and delete go through the same step.
        s.update(&alice, "race", AssetFields { visibility: Some(Visibility::Private), ..Default::default() }).unwrap();
        assert!(s.cached("race").is_none() && woken(&s));
        s.get("race").unwrap();
        s.delete(&alice, "race").unwrap();
        assert!(s.cached("race").is_none() && woken(&s));
    }

    #[test]
    fn overwrite_keeps_the_fields_it_does_not_set() {
        let (_d, s, alice, _) = setup();
        let id = PublicId::parse("kept").unwrap();
        let first = AssetFields {
            folder: Some(Folder::parse("albums/2024").unwrap()),
            tags: Some(vec!["a".into(), "b".into()]),
            visibility: Some(Visibility::Private),
        };
        s.commit_upload(&alice, &id, &first, &original("k1.png"), false).unwrap();
        let (row, ..) = s.commit_upload(&alice, &id, &AssetFields::default(), &original("k2.png"), true).unwrap();
        let a = s.get_by_row(row).unwrap();
        assert_eq!((a.folder.as_str(), a.tags.clone(), a.visibility, a.version), ("albums/2024", vec!["a".to_string(), "b".into()], Visibility::Private, 2));
        let only_tags = AssetFields { tags: Some(vec![]), ..Default::default() };
        let (row, ..) = s.commit_upload(&alice, &id, &only_tags, &original("k3.png"), true).unwrap();
        let a = s.get_by_row(row).unwrap();
        assert_eq!((a.folder.as_str(), a.tags.len(), a.visibility), ("albums/2024", 0, Visibility::Private));
    }
}
