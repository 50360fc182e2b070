//! Where a model named by a relative path is looked for: the one search that the command line,
//! the config file and the daemon's reload all use, so a model found once is found everywhere.

use std::path::{Path, PathBuf};

/// Where installed packages put the bundled models.
const SYSTEM_MODELS: &str = "/usr/share/lookout";

/// The model file `model` names, in this order:
/// 1. as given: absolute, or relative to the working directory;
/// 2. beside the config file (`config_file`'s directory), so a config and its model travel together;
/// 3. next to the executable's install tree (`target/release/lookout` → the repository's
///    `models/`), so the bundled models are found from any working directory;
/// 4. under /usr/share/lookout.
///
/// When none exists the path comes back as given, and loading it names it in the error.
pub fn model_path(model: &Path, config_file: Option<&Path>) -> PathBuf {
    let exe = std::env::current_exe().ok();
    // The executable's own directory and three above it.
    let install_tree = exe.iter().flat_map(|e| e.ancestors().skip(1).take(4));
    let roots = config_file
        .and_then(Path::parent)
        .into_iter()
        .chain(install_tree)
        .chain([Path::new(SYSTEM_MODELS)]);
    search(model, roots)
}

/// `model` as given when it exists or is absolute, else the first root that has it.
fn search<'a>(model: &Path, roots: impl Iterator<Item = &'a Path>) -> PathBuf {
    // An empty name would find every root itself (a folder): it stays empty, and is named so.
    if model.as_os_str().is_empty() || model.is_absolute() || model.exists() {
        return model.to_path_buf();
    }
    roots
        .map(|root| root.join(model))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| model.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_root_that_has_the_model_wins() {
        let dir = tempfile::tempdir().expect("tmp");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d.join("models")).expect("mkdir");
        }
        let name = Path::new("models/only-in-tests-3f9c.toml");
        std::fs::write(b.join(name), "").expect("write");
        let roots = || [a.as_path(), b.as_path()].into_iter();
        assert_eq!(search(name, roots()), b.join(name));
        std::fs::write(a.join(name), "").expect("write");
        assert_eq!(search(name, roots()), a.join(name), "an earlier root wins");
        let missing = Path::new("models/nowhere-3f9c.toml");
        assert_eq!(search(missing, roots()), missing, "not found: as given");
    }

    #[test]
    fn existing_and_absolute_paths_are_kept() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("Cargo.toml"), "").expect("write");
        // The working directory (the crate root under cargo test) comes before any root.
        let here = Path::new("Cargo.toml");
        assert_eq!(search(here, [dir.path()].into_iter()), here);
        let abs = Path::new("/nonexistent-3f9c/m.toml");
        assert_eq!(search(abs, [dir.path()].into_iter()), abs);
    }

    #[test]
    fn beside_the_config_after_the_working_directory() {
        let dir = tempfile::tempdir().expect("tmp");
        let name = Path::new("models/nanodet-m-fp32.toml");
        std::fs::create_dir_all(dir.path().join("models")).expect("mkdir");
        std::fs::write(dir.path().join(name), "").expect("write");
        let config = dir.path().join("lookout.toml");
        // Under cargo test the working directory has models/: as given wins.
        assert_eq!(model_path(name, Some(&config)), name);
        let other = Path::new("models/beside-only-3f9c.toml");
        std::fs::write(dir.path().join(other), "").expect("write");
        assert_eq!(model_path(other, Some(&config)), dir.path().join(other));
    }
}
