//! Opening a store and the column-family layout.

use std::collections::HashMap;
use std::path::Path;

use im_model::keys;
use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, Options, WriteOptions, DB};

/// Column families of the message store. Names are part of the on-disk format.
pub mod cf {
    /// Applied Kafka offsets and the store epoch.
    pub const META: &str = "meta";
    /// `session` -> `SessionRecord`.
    pub const SESSIONS: &str = "sessions";
    /// `session 0 user` -> `Periods` (who is or was a member, by session).
    pub const MEMBERS: &str = "members";
    /// `user 0 session` -> `Periods` (the same facts, by user).
    pub const USER_SESSIONS: &str = "user_sessions";
    /// `session 0 seq` -> `LogEntry`: the shared per-session log (both modes).
    pub const LOG: &str = "log";
    /// `user 0 inbox_seq` -> `InboxEntry`: write-diffusion copies, dense per user.
    pub const INBOX: &str = "inbox";
    /// `user` -> last inbox seq (u64 BE).
    pub const INBOX_HEAD: &str = "inbox_head";
    /// `session 0 token` -> seq (u64 BE) or 0: effects already applied.
    pub const DEDUP: &str = "dedup";

    pub const ALL: &[&str] = &[META, SESSIONS, MEMBERS, USER_SESSIONS, LOG, INBOX, INBOX_HEAD, DEDUP];
}

const EPOCH_KEY: &[u8] = b"epoch";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    #[error("corrupt value in {cf}: {reason}")]
    Corrupt { cf: &'static str, reason: String },
    #[error("store at {0} has no epoch; was it ever opened by its writer?")]
    NoEpoch(String),
}

/// A RocksDB instance with a fixed set of column families.
pub struct Store {
    pub(crate) db: DB,
    epoch: String,
    write_options: WriteOptionsSync,
}

/// `WriteOptions` is not `Sync`; keep the flag and build options per write.
#[derive(Clone, Copy)]
struct WriteOptionsSync {
    fsync: bool,
}

fn db_options() -> Options {
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
    opts.increase_parallelism(2);
    // Readers tail the WAL as secondaries; keep it around long enough for them.
    opts.set_wal_ttl_seconds(600);
    opts
}

impl Store {
    /// Opens (creating if needed) the store as its single writer. `fsync` makes each
    /// batch survive a machine crash, not only a process crash; either way a lost
    /// tail is re-applied from Kafka because offsets live in the same batch.
    pub fn open_primary(path: &Path, column_families: &[&str], fsync: bool) -> Result<Self, StoreError> {
        let descriptors = column_families.iter().map(|name| ColumnFamilyDescriptor::new(*name, Options::default()));
        let db = DB::open_cf_descriptors(&db_options(), path, descriptors)?;
        let meta = db.cf_handle(cf::META).expect("meta column family is always opened");
        let epoch = match db.get_cf(meta, EPOCH_KEY)? {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => {
                let epoch = format!("{:016x}", rand::random::<u64>());
                db.put_cf(meta, EPOCH_KEY, epoch.as_bytes())?;
                epoch
            }
        };
        Ok(Self { db, epoch, write_options: WriteOptionsSync { fsync } })
    }

    /// Opens a read-only secondary view of the store at `primary`, keeping its own
    /// metadata under `secondary`. Call [`Store::catch_up`] to see newer writes.
    pub fn open_secondary(primary: &Path, secondary: &Path, column_families: &[&str]) -> Result<Self, StoreError> {
        let mut opts = db_options();
        opts.set_max_open_files(-1);
        let db = DB::open_cf_as_secondary(&opts, primary, secondary, column_families.iter().copied())?;
        let meta = db.cf_handle(cf::META).expect("meta column family is always opened");
        let epoch = db
            .get_cf(meta, EPOCH_KEY)?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .ok_or_else(|| StoreError::NoEpoch(primary.display().to_string()))?;
        Ok(Self { db, epoch, write_options: WriteOptionsSync { fsync: false } })
    }

    /// Secondary only: applies the primary's newer writes.
    pub fn catch_up(&self) -> Result<(), StoreError> {
        Ok(self.db.try_catch_up_with_primary()?)
    }

    /// Random id of this store's incarnation. A rebuilt store gets a new epoch, so
    /// cursors issued against the old one are recognisably expired.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    pub(crate) fn handle(&self, name: &str) -> &ColumnFamily {
        self.db.cf_handle(name).unwrap_or_else(|| panic!("column family {name} was not opened"))
    }

    /// Commits a batch atomically: data and offsets together or nothing.
    pub fn write(&self, batch: crate::Batch) -> Result<(), StoreError> {
        let mut options = WriteOptions::default();
        options.set_sync(self.write_options.fsync);
        Ok(self.db.write_opt(batch.into_inner(), &options)?)
    }

    /// Next offset to consume per partition of `topic`, as last committed.
    pub fn offsets(&self, topic: &str) -> Result<HashMap<i32, i64>, StoreError> {
        let meta = self.handle(cf::META);
        let prefix = keys::id_pair("offset", topic);
        let mut offsets = HashMap::new();
        for item in self.db.prefix_iterator_cf(meta, &prefix) {
            let (key, value) = item?;
            if !key.starts_with(&prefix) {
                break;
            }
            let partition = key[prefix.len() + 1..].try_into().map(u32::from_be_bytes);
            let offset = value.as_ref().try_into().map(i64::from_be_bytes);
            match (partition, offset) {
                (Ok(partition), Ok(offset)) => offsets.insert(partition as i32, offset),
                _ => return Err(StoreError::Corrupt { cf: cf::META, reason: "offset entry".into() }),
            };
        }
        Ok(offsets)
    }

    /// Approximate number of keys in a column family (RocksDB's estimate).
    pub fn estimate_keys(&self, name: &str) -> u64 {
        self.db
            .property_int_value_cf(self.handle(name), "rocksdb.estimate-num-keys")
            .ok()
            .flatten()
            .unwrap_or(0)
    }
}
