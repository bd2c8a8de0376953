//! The attack library: discovery of `attacks/<category>/<name>/`, manifest validation, the suite's
//! default policy, and building native attacks.

pub mod build;
pub mod discover;
pub mod error;
pub mod manifest;
pub mod policy;

pub use discover::{Broken, Library};
pub use error::{LibraryError, LibraryErrorKind};
pub use manifest::{Attack, Backend, OutcomeExpect, SourceKind, VerdictWord};

/// The library root: `$GAUNTLET_ATTACKS`, else `./attacks`, else `attacks/` of the workspace this
/// binary was built from.
pub fn default_root() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("GAUNTLET_ATTACKS") {
        return dir.into();
    }
    let here = std::path::PathBuf::from("attacks");
    if here.join("README.md").is_file() {
        return here;
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../attacks")
}
