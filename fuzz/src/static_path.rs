//! `StaticFileHandler`'s path resolution: a request path (decoded by routing) names a file
//! under the root or is refused; it never reaches a file outside, by `..`, an absolute path, a
//! backslash, a NUL, or a symlink that leads out.

use cyclone_web::StaticFileHandler;

use super::input::Input;
use super::tree;

/// Resolves the path the input holds.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let default_filename = (input.byte() & 1 == 1).then_some("index.html");
    let path = String::from_utf8_lossy(input.rest()).into_owned();
    let root = tree::linked();
    let canonical_root = root
        .canonicalize()
        .unwrap_or_else(|error| panic!("{error}"));
    if let Ok(found) = StaticFileHandler::resolve_path(&root, &path, default_filename) {
        assert!(
            found.starts_with(&canonical_root),
            "{path:?} resolved to {}, outside the root",
            found.display()
        );
        assert!(
            found.is_file(),
            "{path:?} resolved to {}, not a file",
            found.display()
        );
        let content = std::fs::read_to_string(&found).unwrap_or_default();
        assert!(
            !content.contains(tree::SECRET),
            "{path:?} reached the secret"
        );
    }
}
