//! The blog's SQLite database. Every query runs on the blocking pool (`run_in_executor`), never
//! on a loop; every write is one transaction. Each pool thread keeps its own connection.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cyclone::ioloop::{ExecutorError, run_in_executor};
use cyclone::web::HttpError;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

/// The tables, created on first start (the demo's `schema.sql`).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS authors (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    hashed_password TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES authors(id),
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    markdown TEXT NOT NULL,
    html TEXT NOT NULL,
    published INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_published ON entries(published);
CREATE TABLE IF NOT EXISTS config (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// How long a writer waits for another's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite refused or failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The blocking pool refused the query (full) or the query panicked.
    #[error("database query not run: {0}")]
    Executor(#[from] ExecutorError),
}

impl From<DbError> for HttpError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Executor(ExecutorError::QueueFull { .. }) => {
                HttpError::new(http::StatusCode::SERVICE_UNAVAILABLE).log_message(error.to_string())
            }
            error => HttpError::internal(error),
        }
    }
}

/// An author.
#[derive(Debug, Clone, Serialize)]
pub struct Author {
    /// The row id (in the signed cookie).
    pub id: i64,
    /// Log-in name.
    pub email: String,
    /// Shown on entries.
    pub name: String,
    /// The Argon2 hash, in PHC string form.
    #[serde(skip)]
    pub hashed_password: String,
}

/// An entry, as templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The row id (`/compose?id=`).
    pub id: i64,
    /// Who wrote it.
    pub author_id: i64,
    /// Their name.
    pub author_name: String,
    /// Its URL name: `/entry/<slug>`.
    pub slug: String,
    /// The title.
    pub title: String,
    /// What the author wrote.
    pub markdown: String,
    /// The Markdown as HTML (made when written).
    pub html: String,
    /// When first published, `2026-11-26 10:00`.
    pub published: String,
    /// The same as RFC 3339, for the feed.
    pub published_iso: String,
    /// When last edited, RFC 3339.
    pub updated_iso: String,
}

/// What a compose form writes.
#[derive(Debug, Clone)]
pub struct EntryText {
    /// The title.
    pub title: String,
    /// The Markdown.
    pub markdown: String,
    /// The Markdown as HTML.
    pub html: String,
}

/// The database: a file, opened by each pool thread once.
#[derive(Debug, Clone)]
pub struct Db {
    /// The SQLite file.
    path: Arc<PathBuf>,
}

thread_local! {
    /// This pool thread's connections, by database file.
    static CONNECTIONS: RefCell<HashMap<PathBuf, Connection>> = RefCell::new(HashMap::new());
}

/// `SELECT` columns of an entry with its author, and the dates formatted by SQLite.
const ENTRY_COLUMNS: &str = "entries.id, author_id, authors.name, slug, title, markdown, html,
    strftime('%Y-%m-%d %H:%M', published, 'unixepoch'),
    strftime('%Y-%m-%dT%H:%M:%SZ', published, 'unixepoch'),
    strftime('%Y-%m-%dT%H:%M:%SZ', updated, 'unixepoch')
    FROM entries JOIN authors ON authors.id = entries.author_id";

fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: row.get(0)?,
        author_id: row.get(1)?,
        author_name: row.get(2)?,
        slug: row.get(3)?,
        title: row.get(4)?,
        markdown: row.get(5)?,
        html: row.get(6)?,
        published: row.get(7)?,
        published_iso: row.get(8)?,
        updated_iso: row.get(9)?,
    })
}

fn author_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Author> {
    Ok(Author {
        id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        hashed_password: row.get(3)?,
    })
}

impl Db {
    /// Opens `path`, creating the file and its tables if missing.
    pub async fn open(path: PathBuf) -> Result<Db, DbError> {
        let db = Db {
            path: Arc::new(path),
        };
        db.call(|connection| connection.execute_batch(SCHEMA))
            .await?;
        Ok(db)
    }

    /// Runs `query` with this thread's connection on the blocking pool.
    pub async fn call<T, F>(&self, query: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let path = self.path.clone();
        run_in_executor(move || with_connection(&path, query)).await?
    }

    /// The secret signing cookies, made on first start and kept, so sessions survive restarts.
    pub async fn cookie_secret(&self) -> Result<String, DbError> {
        let fresh = random_hex(32);
        self.call(move |connection| {
            let transaction = connection.transaction()?;
            transaction.execute(
                "INSERT OR IGNORE INTO config (key, value) VALUES ('cookie_secret', ?1)",
                params![fresh],
            )?;
            let secret = transaction.query_row(
                "SELECT value FROM config WHERE key = 'cookie_secret'",
                [],
                |row| row.get(0),
            )?;
            transaction.commit()?;
            Ok(secret)
        })
        .await
    }

    /// Whether any author exists.
    pub async fn any_author_exists(&self) -> Result<bool, DbError> {
        self.call(|connection| {
            connection.query_row("SELECT EXISTS (SELECT 1 FROM authors)", [], |row| {
                row.get(0)
            })
        })
        .await
    }

    /// The author with `id`.
    pub async fn author_by_id(&self, id: i64) -> Result<Option<Author>, DbError> {
        self.call(move |connection| {
            connection
                .query_row(
                    "SELECT id, email, name, hashed_password FROM authors WHERE id = ?1",
                    params![id],
                    author_from_row,
                )
                .optional()
        })
        .await
    }

    /// The author with `email`.
    pub async fn author_by_email(&self, email: String) -> Result<Option<Author>, DbError> {
        self.call(move |connection| {
            connection
                .query_row(
                    "SELECT id, email, name, hashed_password FROM authors WHERE email = ?1",
                    params![email],
                    author_from_row,
                )
                .optional()
        })
        .await
    }

    /// Adds an author, or `None` when the email is taken (checked and written in one
    /// transaction).
    pub async fn create_author(
        &self,
        email: String,
        name: String,
        hashed_password: String,
    ) -> Result<Option<i64>, DbError> {
        self.call(move |connection| {
            let transaction = connection.transaction()?;
            let taken: bool = transaction.query_row(
                "SELECT EXISTS (SELECT 1 FROM authors WHERE email = ?1)",
                params![email],
                |row| row.get(0),
            )?;
            if taken {
                return Ok(None);
            }
            transaction.execute(
                "INSERT INTO authors (email, name, hashed_password) VALUES (?1, ?2, ?3)",
                params![email, name, hashed_password],
            )?;
            let id = transaction.last_insert_rowid();
            transaction.commit()?;
            Ok(Some(id))
        })
        .await
    }

    /// The newest `limit` entries (all with `None`).
    pub async fn latest_entries(&self, limit: Option<u32>) -> Result<Vec<Entry>, DbError> {
        self.call(move |connection| {
            let limit = limit.map_or(-1, i64::from);
            let mut statement = connection.prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} ORDER BY published DESC, entries.id DESC LIMIT ?1"
            ))?;
            let rows = statement.query_map(params![limit], entry_from_row)?;
            rows.collect()
        })
        .await
    }

    /// The entry at `slug`.
    pub async fn entry_by_slug(&self, slug: String) -> Result<Option<Entry>, DbError> {
        self.call(move |connection| {
            connection
                .query_row(
                    &format!("SELECT {ENTRY_COLUMNS} WHERE slug = ?1"),
                    params![slug],
                    entry_from_row,
                )
                .optional()
        })
        .await
    }

    /// The entry with `id`.
    pub async fn entry_by_id(&self, id: i64) -> Result<Option<Entry>, DbError> {
        self.call(move |connection| {
            connection
                .query_row(
                    &format!("SELECT {ENTRY_COLUMNS} WHERE entries.id = ?1"),
                    params![id],
                    entry_from_row,
                )
                .optional()
        })
        .await
    }

    /// Publishes a new entry by `author_id` with a slug made from its title (`-2` appended
    /// until it is free, as the demo does), in one transaction; its slug.
    pub async fn insert_entry(&self, author_id: i64, text: EntryText) -> Result<String, DbError> {
        self.call(move |connection| {
            let transaction = connection.transaction()?;
            let mut slug = slugify(&text.title);
            while slug_taken(&transaction, &slug)? {
                slug.push_str("-2");
            }
            transaction.execute(
                "INSERT INTO entries (author_id, title, slug, markdown, html, published, updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, unixepoch(), unixepoch())",
                params![author_id, text.title, slug, text.markdown, text.html],
            )?;
            transaction.commit()?;
            Ok(slug)
        })
        .await
    }

    /// Rewrites entry `id`; its slug, or `None` when there is no such entry.
    pub async fn update_entry(&self, id: i64, text: EntryText) -> Result<Option<String>, DbError> {
        self.call(move |connection| {
            let transaction = connection.transaction()?;
            let slug: Option<String> = transaction
                .query_row(
                    "SELECT slug FROM entries WHERE id = ?1",
                    params![id],
                    |row| row.get(0),
                )
                .optional()?;
            if slug.is_some() {
                transaction.execute(
                    "UPDATE entries SET title = ?1, markdown = ?2, html = ?3, updated = unixepoch()
                     WHERE id = ?4",
                    params![text.title, text.markdown, text.html, id],
                )?;
            }
            transaction.commit()?;
            Ok(slug)
        })
        .await
    }
}

fn slug_taken(transaction: &Transaction<'_>, slug: &str) -> rusqlite::Result<bool> {
    transaction.query_row(
        "SELECT EXISTS (SELECT 1 FROM entries WHERE slug = ?1)",
        params![slug],
        |row| row.get(0),
    )
}

/// The demo's slug: lower-case ASCII letters and digits, other runs as one `-`; `entry` when
/// nothing is left.
pub fn slugify(title: &str) -> String {
    let words: Vec<String> = title
        .to_lowercase()
        .split(|character: char| !character.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect();
    if words.is_empty() {
        "entry".to_owned()
    } else {
        words.join("-")
    }
}

/// Runs `query` with this thread's connection to `path`, opening it the first time.
fn with_connection<T>(
    path: &Path,
    query: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
) -> Result<T, DbError> {
    CONNECTIONS.with(|connections| {
        let mut connections = connections.borrow_mut();
        let connection = match connections.entry(path.to_owned()) {
            std::collections::hash_map::Entry::Occupied(open) => open.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let connection = Connection::open(path)?;
                connection.busy_timeout(BUSY_TIMEOUT)?;
                // Readers do not wait for the writer, and the writer syncs less often.
                connection.pragma_update(None, "journal_mode", "WAL")?;
                connection.pragma_update(None, "foreign_keys", "ON")?;
                slot.insert(connection)
            }
        };
        Ok(query(connection)?)
    })
}

/// `bytes` random bytes as hex, from the operating system.
fn random_hex(bytes: usize) -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut secret = vec![0u8; bytes];
    OsRng.fill_bytes(&mut secret);
    secret.iter().map(|byte| format!("{byte:02x}")).collect()
}
