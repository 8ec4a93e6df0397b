//! A small directory tree for the path-resolver targets, made once per process under the
//! system's temporary directory:
//!
//! ```text
//! <base>/secret.txt                 outside the root: must never be served or rendered
//! <base>/root/index.html
//! <base>/root/a/b.txt
//! <base>/root/a/index.html
//! <base>/root/.hidden
//! <base>/linked/                    the same files, and:
//! <base>/linked/out -> ../secret.txt  a symlink leading out
//! <base>/linked/up -> ..              a directory symlink leading out
//! ```
//!
//! Templates are read from `root` (a template folder's symlinks are its owner's choice, as in
//! Tornado and Jinja); static files from `linked` (StaticFileHandler refuses symlinks that
//! lead out, as Tornado's `validate_absolute_path` does).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What the secret file holds: a resolver that returns it has left its root.
pub const SECRET: &str = "SECRET-OUTSIDE-THE-ROOT";

/// The folder holding both roots and the secret (made on first use).
fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        // One fixed folder, rewritten identically by every process: runs leave nothing behind.
        let base = std::env::temp_dir().join("cyclone-fuzz-tree");
        let made = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(&base)?;
            std::fs::write(base.join("secret.txt"), SECRET)?;
            for name in ["root", "linked"] {
                let root = base.join(name);
                std::fs::create_dir_all(root.join("a"))?;
                std::fs::write(root.join("index.html"), "index {{ 1 + 1 }}")?;
                std::fs::write(root.join("a/b.txt"), "b")?;
                std::fs::write(root.join("a/index.html"), "a index")?;
                std::fs::write(root.join(".hidden"), "hidden")?;
            }
            #[cfg(unix)]
            {
                let linked = base.join("linked");
                let _ = std::os::unix::fs::symlink("../secret.txt", linked.join("out"));
                let _ = std::os::unix::fs::symlink("..", linked.join("up"));
            }
            Ok(())
        })();
        if let Err(error) = made {
            panic!(
                "cannot make the fuzz tree under {}: {error}",
                base.display()
            );
        }
        base
    })
}

/// The template root: files only.
pub fn root() -> PathBuf {
    base().join("root")
}

/// The static root: files and symlinks that lead out.
pub fn linked() -> PathBuf {
    base().join("linked")
}
