//! Embeds the files of `web/` (the browser chat client, and every other page
//! there) in the binary: writes `$OUT_DIR/web_files.rs`, a table of each
//! file's path under `web/` and its bytes (`include_bytes!`), which
//! `src/http/web.rs` serves. No build step of its own: the files are plain
//! HTML, CSS and ES modules.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let web = root.join("web");
    println!("cargo:rerun-if-changed=web");
    let mut files = Vec::new();
    if web.is_dir() {
        walk(&web, &mut files);
    }
    files.sort();
    let mut out =
        String::from("/// Every file of `web/`: its path there (`/`-separated) and its bytes.\n");
    out.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let rel = file
            .strip_prefix(&web)
            .expect("under web/")
            .to_string_lossy()
            .replace('\\', "/");
        let _ = writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?})),",
            file.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("web_files.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

/// The files under `dir`, hidden ones (`.name`) left out.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}
