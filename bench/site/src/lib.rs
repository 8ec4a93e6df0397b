//! What the two Rust servers share: the fortunes, read from SQLite on a blocking thread with
//! one connection per thread, as TechEmpower's "fortunes" test asks, and the page as an askama
//! template compiled in (the actix-web peer's engine; cyclone serves it too, at
//! `/fortunes-askama`, to tell the framework's cost from the template engine's).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use askama::Template;
use serde::Serialize;

/// One row of the `Fortune` table.
#[derive(Debug, Clone, Serialize)]
pub struct Fortune {
    /// The row id.
    pub id: i64,
    /// The text, escaped by the template.
    pub message: String,
}

/// The fortunes page, compiled from `templates/fortunes.html` (the same file minijinja loads
/// at run time: the two engines share Jinja2's syntax for it).
#[derive(Template)]
#[template(path = "fortunes.html")]
pub struct FortunesPage {
    /// The rows, sorted.
    pub fortunes: Vec<Fortune>,
}

/// The fortune every answer adds before sorting.
pub const ADDED_AT_REQUEST_TIME: &str = "Additional fortune added at request time.";

/// Whether the connections keep their shared lock between queries: `--locking exclusive` (the
/// default) or `--locking normal`, read from the command line once.
static EXCLUSIVE_LOCKING: LazyLock<bool> =
    LazyLock::new(|| flag::<String>("--locking").as_deref() != Some("normal"));

thread_local! {
    /// This blocking thread's connection and its file.
    static CONNECTION: RefCell<Option<(PathBuf, rusqlite::Connection)>> = const { RefCell::new(None) };
}

/// Every fortune, plus the one added at request time, sorted by message. Blocking: call it on
/// a blocking thread.
pub fn fortunes(database: &Path) -> rusqlite::Result<Vec<Fortune>> {
    CONNECTION.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.as_ref().is_none_or(|(path, _)| path != database) {
            // NO_MUTEX as in rusqlite's default flags: the connection never leaves its
            // thread, so SQLite's per-call locks (about 80 lock pairs a request) guard nothing.
            let connection = rusqlite::Connection::open_with_flags(
                database,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            // The table is read-only: with `--locking exclusive` (the default) a connection
            // keeps its shared lock between queries (SQLite's EXCLUSIVE locking mode; readers'
            // shared locks still coexist), so a query no longer locks and unlocks the file with
            // fcntl, stats the journal and re-reads the header to validate its cache: ~14 % of
            // cyclone's CPU a page, in the kernel, a cost no framework owns. `--locking normal`
            // keeps SQLite's default. The Tornado peer does the same.
            if *EXCLUSIVE_LOCKING {
                connection.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
            }
            *cell = Some((database.to_owned(), connection));
        }
        let Some((_, connection)) = cell.as_ref() else {
            return Ok(Vec::new());
        };
        let mut statement = connection.prepare_cached("SELECT id, message FROM Fortune")?;
        let mut rows: Vec<Fortune> = statement
            .query_map([], |row| {
                Ok(Fortune {
                    id: row.get(0)?,
                    message: row.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.push(Fortune {
            id: 0,
            message: ADDED_AT_REQUEST_TIME.to_owned(),
        });
        rows.sort_by(|a, b| a.message.cmp(&b.message));
        Ok(rows)
    })
}

/// The value after `name` on the command line, if any.
pub fn flag<T: std::str::FromStr>(name: &str) -> Option<T> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|arg| arg == name)?;
    args.get(at + 1)?.parse().ok()
}
