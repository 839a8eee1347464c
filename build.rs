//! Makes sure the pages' third-party libraries are installed from `web/package-lock.json`
//! (`npm ci` in `web/`) before the binary embeds them, so `cargo build` works in a fresh clone
//! on a machine with Node.js and npm. Nothing is downloaded when `web/node_modules` is current.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-changed=web/package.json");
    let web = Path::new("web");
    let marker = web.join("node_modules/.package-lock.json");
    let lock = web.join("package-lock.json");
    let stale = match (marker.metadata(), lock.metadata()) {
        (Ok(m), Ok(l)) => match (m.modified(), l.modified()) {
            (Ok(m), Ok(l)) => m < l,
            _ => true,
        },
        _ => true,
    };
    let needed = [
        "node_modules/maplibre-gl/dist/maplibre-gl.mjs",
        "node_modules/echarts/dist/echarts.esm.min.mjs",
        "node_modules/terra-draw/dist/terra-draw.umd.js",
        "node_modules/terra-draw-maplibre-gl-adapter/dist/terra-draw-maplibre-gl-adapter.umd.js",
    ];
    if !stale && needed.iter().all(|f| web.join(f).exists()) {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(web)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            panic!("`npm ci` in web/ failed ({s}): the pages' libraries could not be installed")
        }
        Err(e) => panic!(
            "`npm ci` in web/ could not run ({e}): install Node.js and npm to build tessera's pages"
        ),
    }
}
