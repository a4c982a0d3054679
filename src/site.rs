//! The small site kept in the repository (`site/`), compiled into the program:
//! [`bundled_site`]. The web server (`src/main.rs`) and the cookbook examples serve it when no
//! `--root` is given, wherever they run (a copied or `cargo install`ed binary too).

use std::sync::LazyLock;

use include_dir::{include_dir, Dir};
use kamaelia_http::EmbeddedFiles;

/// The files of `site/`, compiled in, for
/// [`Minimal::embedded`](kamaelia_http::Minimal::embedded) or
/// [`MinimalFactory::embedded`](kamaelia_http::MinimalFactory::embedded) to serve.
///
/// ```
/// let site = kamaelia::site::bundled_site();
/// assert!(site.get("index.html").is_some_and(|page| page.starts_with(b"<!")));
/// ```
///
/// `include_dir!` compiles each file of `site/` in as an `include_bytes!`; the first call lists
/// them in an [`EmbeddedFiles`] (and makes their entity tags). The package's build script
/// rebuilds it when a file in `site/` changes, is added or is removed.
pub fn bundled_site() -> &'static EmbeddedFiles {
    static SITE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/site");
    static FILES: LazyLock<EmbeddedFiles> = LazyLock::new(|| {
        let mut files = Vec::new();
        list_files(&SITE, &mut files);
        EmbeddedFiles::new(files).expect("the names of site/'s files are plain names")
    });
    &FILES
}

/// Adds the files of `dir` and of the directories below it to `files`: each path (relative to
/// the site, `/` between names) and its bytes.
fn list_files(dir: &'static Dir<'static>, files: &mut Vec<(&'static str, &'static [u8])>) {
    for file in dir.files() {
        // (include_dir keeps its paths as `str`: never `None`.)
        if let Some(path) = file.path().to_str() {
            files.push((path, file.contents()));
        }
    }
    for below in dir.dirs() {
        list_files(below, files);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_site_is_site_byte_for_byte() {
        // Walks site/ as it is now: a file added, changed or removed since the build would fail
        // here (the build script rebuilds the package when site/ changes).
        fn walk(dir: &std::path::Path, below: &str, found: &mut Vec<(String, Vec<u8>)>) {
            for entry in std::fs::read_dir(dir).expect("site/ is readable") {
                let entry = entry.unwrap();
                let name = entry.file_name().into_string().expect("UTF-8 names");
                let path = if below.is_empty() { name } else { format!("{below}/{name}") };
                if entry.file_type().unwrap().is_dir() {
                    walk(&entry.path(), &path, found);
                } else {
                    found.push((path, std::fs::read(entry.path()).unwrap()));
                }
            }
        }
        let mut on_disk = Vec::new();
        walk(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/site")), "", &mut on_disk);
        on_disk.sort();
        let site = bundled_site();
        let mut embedded: Vec<(String, Vec<u8>)> =
            site.paths().map(|path| (path.to_owned(), site.get(path).unwrap().to_vec())).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
        for page in ["index.html", "style.css", "hello.txt", "docs/index.html"] {
            assert!(embedded.iter().any(|(path, _)| path == page), "{page} is missing");
        }
    }
}
