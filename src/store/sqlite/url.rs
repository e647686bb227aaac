//! What a `sqlite:` URL names (a file with its parameters, or a private
//! in-memory database), parsed as sqlx parsed it, and opening the file it
//! names.

use std::path::PathBuf;

use rusqlite::{Connection, OpenFlags};

use super::error::DbResult;
use crate::core::error::StoreError;
use crate::store::StoreResult;

/// What a `sqlite:` URL names.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// A private in-memory database, gone when the store is.
    Memory,
    File(FileTarget),
}

#[derive(Debug, PartialEq, Eq)]
pub(super) struct FileTarget {
    pub(super) path: PathBuf,
    /// `mode=ro`.
    pub(super) read_only: bool,
    /// `immutable=true`.
    immutable: bool,
    /// `vfs=NAME`.
    vfs: Option<String>,
}

impl FileTarget {
    pub(super) fn open(&self, flags: OpenFlags) -> StoreResult<Connection> {
        let flags = flags | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if !self.immutable && self.vfs.is_none() {
            return Connection::open_with_flags(&self.path, flags).db();
        }
        // SQLite takes these as parameters of a `file:` URI.
        let path = self.path.to_str().ok_or_else(|| {
            StoreError::Backend(format!("database path {:?} is not UTF-8", self.path))
        })?;
        let mut uri = format!("file:{}?", percent_encode(path));
        if self.immutable {
            uri.push_str("immutable=true&");
        }
        if let Some(vfs) = &self.vfs {
            uri.push_str("vfs=");
            uri.push_str(&percent_encode(vfs));
        }
        let uri = uri.trim_end_matches(['&', '?']);
        Connection::open_with_flags(uri, flags).db()
    }
}

/// `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:` or `sqlite://:memory:`,
/// with optional parameters `mode` (`ro`, `rw`, `rwc`, `memory`), `cache`
/// (`shared`, `private`: accepted, and of no use with one connection per
/// slot), `immutable` and `vfs`. The path is percent-decoded. A file is
/// always created if missing (as `rwc`), unless `mode=ro`.
pub(super) fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    let mut memory = database == ":memory:";
    let mut read_only = false;
    let mut immutable = false;
    let mut vfs = None;
    for pair in params.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (form_decode(key), form_decode(value));
        match (key.as_str(), value.as_str()) {
            ("mode", "ro") => read_only = true,
            ("mode", "rw" | "rwc") => {}
            ("mode", "memory") => memory = true,
            ("cache", "shared" | "private") => {}
            ("immutable", "true" | "1") => immutable = true,
            ("immutable", "false" | "0") => immutable = false,
            ("vfs", _) => vfs = Some(value),
            ("mode" | "cache" | "immutable", _) => {
                return Err(format!("unknown value {value:?} for `{key}`"));
            }
            _ => return Err(format!("unknown query parameter `{key}`")),
        }
    }
    if memory {
        return Ok(Target::Memory);
    }
    let path = String::from_utf8(percent_decode(database))
        .map_err(|e| format!("the path is not UTF-8: {e}"))?;
    Ok(Target::File(FileTarget {
        path: PathBuf::from(path),
        read_only,
        immutable,
        vfs,
    }))
}

/// `%XX` escapes decoded; a `%` not followed by two hex digits stays.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// A query-string component: `+` is a space, then percent-decoded.
fn form_decode(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode(&s.replace('+', " "))).into_owned()
}

/// Every byte but ASCII letters and digits as `%XX`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> Target {
        Target::File(FileTarget {
            path: PathBuf::from(path),
            read_only: false,
            immutable: false,
            vfs: None,
        })
    }

    #[test]
    fn urls_are_parsed_as_sqlx_parsed_them() {
        for memory in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://?mode=memory",
            "sqlite://named?mode=memory&cache=shared",
        ] {
            assert_eq!(parse_url(memory), Ok(Target::Memory), "{memory}");
        }
        assert_eq!(
            parse_url("sqlite://data/confab.db"),
            Ok(file("data/confab.db"))
        );
        assert_eq!(
            parse_url("sqlite:///var/lib/confab/memory.db"),
            Ok(file("/var/lib/confab/memory.db"))
        );
        assert_eq!(parse_url("sqlite:relative.db"), Ok(file("relative.db")));
        // What `Config::database_url` makes of a data directory.
        assert_eq!(
            parse_url("sqlite:///tmp/a%25b%3Fc%23d/confab.db?mode=rwc"),
            Ok(file("/tmp/a%b?c#d/confab.db"))
        );
        let Ok(Target::File(ro)) = parse_url("sqlite://x.db?mode=ro&immutable=1&vfs=unix") else {
            panic!("not a file");
        };
        assert!(ro.read_only && ro.immutable);
        assert_eq!(ro.vfs.as_deref(), Some("unix"));
        assert!(parse_url("sqlite://x.db?mode=rwx").is_err());
        assert!(parse_url("sqlite://x.db?journal=wal").is_err());
    }
}
