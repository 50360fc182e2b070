//! Where `detect --annotate` writes its pictures: one file for one image, or a folder with a
//! picture per input named after it. An input is never overwritten.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use lookout::annotate::{self, Annotation, Format};
use lookout::Error;

/// The extensions `--annotate FILE` accepts.
const OUT_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

pub struct Annotated {
    /// One file (a single image) or a folder.
    file: Option<PathBuf>,
    dir: PathBuf,
    /// Pictures written in this run, so two inputs of the same name do not overwrite each other.
    written: HashSet<PathBuf>,
}

impl Annotated {
    /// `out` is a file when it ends in .jpg, .jpeg or .png and is not a folder; otherwise a
    /// folder, created if missing.
    pub fn new(out: &Path, inputs: &[PathBuf], files: &[PathBuf]) -> Result<Annotated, Error> {
        let ext = out
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        let names_file =
            !out.is_dir() && ext.as_deref().is_some_and(|e| OUT_EXTENSIONS.contains(&e));
        if names_file {
            if files.len() != 1 || inputs.iter().any(|p| p.is_dir()) {
                return Err(Error::Usage(format!(
                    "--annotate {} names one picture, but {} image(s) are given; name a folder to annotate several",
                    out.display(),
                    files.len()
                )));
            }
            let dir = out.parent().unwrap_or(Path::new("")).to_path_buf();
            return Ok(Annotated {
                file: Some(out.to_path_buf()),
                dir,
                written: HashSet::new(),
            });
        }
        std::fs::create_dir_all(out).map_err(|e| {
            Error::Usage(format!(
                "--annotate {}: cannot create the folder ({e}); pick a writable place",
                out.display()
            ))
        })?;
        Ok(Annotated {
            file: None,
            dir: out.to_path_buf(),
            written: HashSet::new(),
        })
    }

    /// The picture of `input`: the file, or `<dir>/<input's name>` (.png stays PNG, anything
    /// else becomes .jpg), with `-2`, `-3`, … when that name was already written in this run.
    fn path_for(&self, input: &Path) -> PathBuf {
        if let Some(f) = &self.file {
            return f.clone();
        }
        let stem = input
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "image".into());
        let ext = match Format::for_path(input) {
            Format::Png => "png",
            Format::Jpeg { .. } => "jpg",
        };
        let mut path = self.dir.join(format!("{stem}.{ext}"));
        let mut n = 2;
        while self.written.contains(&path) {
            path = self.dir.join(format!("{stem}-{n}.{ext}"));
            n += 1;
        }
        path
    }

    /// Draws `annotations` on the image (`rgb`, taken and given back) and writes it.
    pub fn write(
        &mut self,
        input: &Path,
        rgb: &mut Vec<u8>,
        (width, height): (u32, u32),
        annotations: &[Annotation],
    ) -> Result<(), String> {
        let path = self.path_for(input);
        if same_file(&path, input) {
            return Err(format!(
                "--annotate would overwrite the input {}; pick another folder",
                input.display()
            ));
        }
        let pixels = std::mem::take(rgb);
        let Some(mut img) = image::RgbImage::from_raw(width, height, pixels) else {
            return Err(format!("{}: decoded to the wrong size", input.display()));
        };
        annotate::draw(&mut img, annotations);
        let encoded = annotate::encode(&img, Format::for_path(&path));
        *rgb = img.into_raw();
        let bytes = encoded.map_err(|e| format!("{}: cannot encode: {e}", path.display()))?;
        std::fs::write(&path, bytes).map_err(|e| {
            format!(
                "cannot write {} ({e}); check the folder is writable",
                path.display()
            )
        })?;
        self.written.insert(path);
        Ok(())
    }
}

/// Whether both paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
