//! [`HttpFile`] and [`Files`]: the uploads of a `multipart/form-data` body.

use bytes::Bytes;

use super::multimap::MultiMap;

/// One uploaded file: a multipart part whose `Content-Disposition` has a non-empty
/// `filename`, as Tornado's `HTTPFile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpFile {
    /// The name the client gave the file, decoded from `filename` or, when present,
    /// `filename*=UTF-8''...` (RFC 5987). It is untrusted: clients may send full paths
    /// (`C:\Users\...`) or `../`; never use it as a path without sanitizing.
    pub filename: String,
    /// The part's `Content-Type`, or `application/unknown` when the part has none (Tornado's
    /// default).
    pub content_type: String,
    /// The file's bytes: a slice of the request body, not a copy.
    pub body: Bytes,
}

/// Uploaded files by form field name, names in first-seen order, as Tornado's
/// `request.files` (`dict[str, list[HTTPFile]]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Files {
    /// The files by field name.
    map: MultiMap<HttpFile>,
}

impl Files {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `file` to field `name`'s files.
    pub fn push(&mut self, name: impl Into<String>, file: HttpFile) {
        self.map.push(name.into(), file);
    }

    /// All files of field `name` in arrival order; empty if there are none.
    pub fn get_all(&self, name: &str) -> &[HttpFile] {
        self.map.get_all(name)
    }

    /// The first file of field `name` (Tornado code reads `request.files[name][0]`).
    pub fn get(&self, name: &str) -> Option<&HttpFile> {
        self.map.get_all(name).first()
    }

    /// Whether field `name` has at least one file.
    pub fn contains(&self, name: &str) -> bool {
        self.map.contains(name)
    }

    /// Removes field `name` and returns its files.
    pub fn remove(&mut self, name: &str) -> Vec<HttpFile> {
        self.map.remove(name)
    }

    /// Number of distinct field names.
    pub fn len(&self) -> usize {
        self.map.names()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.map.names() == 0
    }

    /// Field names with their files, in the order the names first appeared.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[HttpFile])> {
        self.map.iter()
    }

    /// Appends every file of `other` after this map's files of the same field.
    pub fn merge(&mut self, other: Files) {
        self.map.merge(other.map);
    }
}
