//! Discovery: walk the input folder in sorted order and list the images.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// File extensions treated as images without looking at their content.
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "apng", "gif", "webp", "tif", "tiff", "bmp", "mpo",
];

/// One input image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// The file on disk.
    pub path: PathBuf,
    /// The path relative to the input root, `/`-separated.
    pub relative: String,
    /// The image identity: a hash of `relative`.
    pub id: u64,
    /// The output path relative to the output root, without copy number
    /// and extension: `<class dirs>/<stem>` or, where two inputs of one
    /// folder share a stem, `<class dirs>/<stem>_<ext>`.
    pub output_stem: String,
}

/// A file that was not taken as an input, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The file on disk.
    pub path: PathBuf,
    /// Why it was left out.
    pub reason: String,
}

/// What discovery found.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// The images, in sorted path order.
    pub inputs: Vec<InputFile>,
    /// Files that are not images (hidden files are not listed).
    pub ignored: Vec<Ignored>,
    /// Folders below the root that contain no images at any depth.
    pub empty_folders: Vec<PathBuf>,
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoverError {
    /// The input folder could not be walked.
    #[error("cannot read input folder {path}")]
    Walk {
        /// The folder or file that failed.
        path: PathBuf,
        /// The walk error.
        source: walkdir::Error,
    },
}

/// True for names that start with a dot (`.DS_Store`, AppleDouble `._x.jpg`).
fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// True when the first bytes are the signature of a format `image` decodes.
fn has_image_magic(path: &Path) -> bool {
    let mut head = [0u8; 16];
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let Ok(n) = file.read(&mut head) else {
        return false;
    };
    image::guess_format(&head[..n]).is_ok()
}

fn relative_string(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Lists the images below `root`, or `root` itself when it is a file.
///
/// Hidden files and folders are skipped. A file counts as an image when its
/// extension (any case) is an image extension, or when its content starts
/// with an image signature, so files without an extension are found too.
/// Files with an image extension are listed even when their content is not
/// an image, so that decoding reports them.
pub fn discover(root: &Path) -> Result<Discovery, DiscoverError> {
    let mut found = Discovery::default();
    let mut folder_counts: Vec<(PathBuf, usize)> = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));

    for entry in walker {
        let entry = entry.map_err(|source| DiscoverError::Walk {
            path: source.path().unwrap_or(root).to_owned(),
            source,
        })?;
        if entry.file_type().is_dir() {
            if entry.depth() > 0 {
                folder_counts.push((entry.path().to_owned(), found.inputs.len()));
            }
            continue;
        }
        let path = entry.path();
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let is_image = IMAGE_EXTENSIONS.contains(&extension.as_str()) || has_image_magic(path);
        if !is_image {
            found.ignored.push(Ignored {
                path: path.to_owned(),
                reason: "not an image".into(),
            });
            continue;
        }
        let relative_path = if entry.depth() == 0 {
            PathBuf::from(path.file_name().unwrap_or_default())
        } else {
            path.strip_prefix(root).unwrap_or(path).to_owned()
        };
        let relative = relative_string(&relative_path);
        found.inputs.push(InputFile {
            path: path.to_owned(),
            id: crate::rng::path_id(&relative),
            relative,
            output_stem: String::new(),
        });
    }

    // A folder is empty when no input path starts with it.
    for (folder, _) in folder_counts {
        if !found.inputs.iter().any(|i| i.path.starts_with(&folder)) {
            found.empty_folders.push(folder);
        }
    }

    assign_output_stems(&mut found.inputs);
    Ok(found)
}

/// Gives every input its output stem, so that no two inputs share one:
/// `a.jpg` and `a.png` in one folder become `a_jpg` and `a_png`. Stems are
/// compared without case, because macOS and Windows folders ignore case.
fn assign_output_stems(inputs: &mut [InputFile]) {
    let stem_of = |relative: &str| -> (String, String) {
        let path = Path::new(relative);
        let parent = path.parent().map(relative_string).unwrap_or_default();
        let stem = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        let joined = if parent.is_empty() { stem } else { format!("{parent}/{stem}") };
        let extension = path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
        (joined, extension)
    };
    let mut counts: HashMap<String, usize> = HashMap::new();
    for input in inputs.iter() {
        *counts.entry(stem_of(&input.relative).0.to_lowercase()).or_default() += 1;
    }
    for input in inputs.iter_mut() {
        let (stem, extension) = stem_of(&input.relative);
        input.output_stem = if counts[&stem.to_lowercase()] > 1 && !extension.is_empty() {
            format!("{stem}_{extension}")
        } else {
            stem
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_stem_inputs_get_distinct_output_stems() {
        let mut inputs: Vec<InputFile> = ["cats/a.jpg", "cats/a.png", "cats/b.jpg", "dogs/a.jpg"]
            .iter()
            .map(|r| InputFile {
                path: PathBuf::from(r),
                relative: r.to_string(),
                id: 0,
                output_stem: String::new(),
            })
            .collect();
        assign_output_stems(&mut inputs);
        let stems: Vec<_> = inputs.iter().map(|i| i.output_stem.as_str()).collect();
        assert_eq!(stems, ["cats/a_jpg", "cats/a_png", "cats/b", "dogs/a"]);
    }
}
