//! Rebuilds the package when anything in `site/` changes. `site::bundled_site` compiles the site
//! in with `include_dir!`, whose `include_bytes!` make rustc track the files it found, but not a
//! file added to or removed from the directory: a changed directory reruns this script, and so
//! the package is compiled again with the site as it now is. (Cargo scans a directory given to
//! `rerun-if-changed` for any modification below it.)

fn main() {
    println!("cargo::rerun-if-changed=site");
}
