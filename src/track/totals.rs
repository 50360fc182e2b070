//! The file that keeps a camera's line totals across restarts: JSON under the state directory,
//! written at most once per interval while the totals change and at close, replaced atomically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::lines::{Lines, Totals};

/// `schema` of the totals file under the state directory.
pub const TOTALS_FILE_SCHEMA: &str = "lookout.line_totals.v1";

/// The totals file of one camera: JSON, replaced atomically (write a temporary file beside it,
/// then rename), so a crash or power loss leaves either the old or the new totals.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedFile {
    schema: String,
    lines: BTreeMap<String, Totals>,
}

/// Where a camera's line totals persist, and when they were last written.
#[derive(Debug)]
pub struct TotalsFile {
    path: PathBuf,
    min_interval: Duration,
    saved_generation: u64,
    last_write: Option<Instant>,
}

impl TotalsFile {
    /// `path`: e.g. `<state_dir>/lines/<camera>.json` (its directory is created on first write).
    /// Totals are written at most once per `min_interval`, and by [`Self::flush`].
    pub fn new(path: impl Into<PathBuf>, min_interval: Duration) -> TotalsFile {
        TotalsFile {
            path: path.into(),
            min_interval,
            saved_generation: 0,
            last_write: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved totals; empty when there is no file yet. A file that cannot be read or parsed is
    /// logged and ignored (totals restart at 0), never fatal; an unparsable one is moved aside to
    /// `<path>.corrupt` so the next write does not destroy it.
    pub fn load(&self) -> BTreeMap<String, Totals> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return BTreeMap::new(),
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e,
                    "line totals unreadable: counting starts at 0; check the file's permissions");
                return BTreeMap::new();
            }
        };
        match serde_json::from_str::<SavedFile>(&text) {
            Ok(f) if f.schema == TOTALS_FILE_SCHEMA => f.lines,
            Ok(f) => {
                tracing::warn!(path = %self.path.display(), schema = %f.schema,
                    "line totals written by another version: counting starts at 0");
                self.move_aside();
                BTreeMap::new()
            }
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e,
                    "line totals corrupt: counting starts at 0; the file is kept as .corrupt");
                self.move_aside();
                BTreeMap::new()
            }
        }
    }

    fn move_aside(&self) {
        let mut aside = self.path.clone().into_os_string();
        aside.push(".corrupt");
        if let Err(e) = std::fs::rename(&self.path, &aside) {
            tracing::warn!(path = %self.path.display(), error = %e,
                "could not move the bad line totals aside; the next write replaces them");
        }
    }

    /// Writes the totals if they changed since the last write and `min_interval` has passed since
    /// then. Call it every frame (it is free when there is nothing to do). `Ok(true)`: written.
    /// On error counting goes on, and the next call tries again.
    pub fn save_if_due(&mut self, lines: &Lines, now: Instant) -> crate::Result<bool> {
        let due = self
            .last_write
            .is_none_or(|t| now.saturating_duration_since(t) >= self.min_interval);
        if !due || lines.generation() == self.saved_generation {
            return Ok(false);
        }
        self.last_write = Some(now);
        self.write(lines)?;
        Ok(true)
    }

    /// Writes the totals now if they changed since the last write (at close).
    pub fn flush(&mut self, lines: &Lines) -> crate::Result<()> {
        if lines.generation() != self.saved_generation {
            self.write(lines)?;
        }
        Ok(())
    }

    fn write(&mut self, lines: &Lines) -> crate::Result<()> {
        let file = SavedFile {
            schema: TOTALS_FILE_SCHEMA.into(),
            lines: lines.totals(),
        };
        let json = serde_json::to_vec_pretty(&file)
            .map_err(|e| crate::Error::Internal(format!("line totals: {e}")))?;
        write_atomically(&self.path, &json).map_err(|e| {
            crate::Error::Io(std::io::Error::new(
                e.kind(),
                format!(
                    "line totals {}: {e}; counting goes on, make the state directory writable",
                    self.path.display()
                ),
            ))
        })?;
        self.saved_generation = lines.generation();
        Ok(())
    }
}

/// Temporary file in the same directory, synced, renamed over `path`, directory synced.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp); // best effort: the error below is what matters
    }
    result?;
    // The rename is durable once the directory is; some filesystems refuse to sync a directory.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::lines::tests::{across, totals, walk};
    use super::super::lines::InOut;
    use super::*;

    #[test]
    fn totals_persist_and_restore() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("lines").join("front.json");
        let mut file = TotalsFile::new(&path, Duration::from_secs(5));
        assert!(file.load().is_empty(), "no file yet");
        let mut lines = Lines::new(&[across()], &["person".to_string()]);
        let t0 = Instant::now();
        assert!(!file.save_if_due(&lines, t0).expect("nothing to write"));
        walk(&mut lines, 1, "person", &[(0.5, 0.4), (0.5, 0.6)]);
        assert!(file.save_if_due(&lines, t0).expect("written"));
        walk(&mut lines, 2, "car", &[(0.5, 0.6), (0.5, 0.4)]);
        // Within the interval: not yet; after it: written.
        assert!(!file
            .save_if_due(&lines, t0 + Duration::from_secs(1))
            .expect("held"));
        assert_eq!(
            TotalsFile::new(&path, Duration::ZERO).load()["walk"].len(),
            1
        );
        assert!(file
            .save_if_due(&lines, t0 + Duration::from_secs(6))
            .expect("due"));
        walk(&mut lines, 3, "car", &[(0.5, 0.6), (0.5, 0.4)]);
        file.flush(&lines).expect("flushed at close");

        let saved = TotalsFile::new(&path, Duration::ZERO).load();
        let mut restarted = Lines::new(&[across()], &["person".to_string()]);
        restarted.restore(&saved);
        let expected = totals(&[("car", 0, 2), ("person", 1, 0)]);
        assert_eq!(restarted.current()[0].totals, expected);
        assert_eq!(
            restarted.generation(),
            0,
            "restoring is not a change to save"
        );
        // Counting continues from the restored totals.
        walk(&mut restarted, 1, "person", &[(0.5, 0.4), (0.5, 0.6)]);
        assert_eq!(
            restarted.current()[0].totals["person"],
            InOut { r#in: 2, out: 0 }
        );
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("listable")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            leftovers,
            vec![std::ffi::OsString::from("front.json")],
            "no temp files"
        );
    }

    #[test]
    fn corrupt_or_unreadable_file_is_ignored() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("front.json");
        std::fs::write(
            &path,
            "{\"schema\": \"lookout.line_totals.v1\", \"lines\": {\"walk\": ",
        )
        .expect("write");
        let file = TotalsFile::new(&path, Duration::ZERO);
        assert!(file.load().is_empty());
        assert!(!path.exists(), "moved aside");
        assert!(dir.path().join("front.json.corrupt").exists());
        // Valid JSON of another shape or version is ignored too.
        std::fs::write(
            &path,
            r#"{"schema": "lookout.line_totals.v9", "lines": {}}"#,
        )
        .expect("w");
        assert!(file.load().is_empty());
        std::fs::write(&path, r#"{"walk": {"person": {"in": -1}}}"#).expect("write");
        assert!(file.load().is_empty());
        // A directory where the file should be: unreadable, ignored, and writing fails cleanly.
        std::fs::create_dir(&path).expect("mkdir");
        assert!(file.load().is_empty());
        let mut file = TotalsFile::new(&path, Duration::ZERO);
        let mut lines = Lines::new(&[across()], &[]);
        walk(&mut lines, 1, "person", &[(0.5, 0.4), (0.5, 0.6)]);
        let err = file
            .save_if_due(&lines, Instant::now())
            .expect_err("cannot replace a dir");
        assert!(
            err.to_string()
                .contains("make the state directory writable"),
            "{err}"
        );
    }
}
