//! `aiw model pull`: resumable HTTP download of a model into `{data_dir}/models/.partial/`,
//! continued with a `Range` request when a partial file exists, sha256-verified when the hash
//! is known, then renamed into `models/` atomically.
//!
//! Progress is reported through a callback so this file does not print (output.rs does).

use std::path::{Path, PathBuf};

use futures_util::StreamExt as _;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;

use super::catalogue::{
    self, Catalogue, Installed, ModelError, check_gguf, hex, install_file, models_dir, partial_dir,
};

/// What to download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullTarget {
    /// https URL.
    pub url: String,
    /// File name under `models/`.
    pub file: String,
    /// Expected sha256 (lowercase hex), when known.
    pub sha256: Option<String>,
}

impl PullTarget {
    /// Resolves `aiw model pull NAME|URL [--sha256 H]`. A catalogue model with only a `pip:`
    /// source gives an error that says to use `aiw model import`.
    pub fn resolve(name_or_url: &str, sha256: Option<&str>) -> Result<Self, ModelError> {
        let sha = sha256.map(str::to_ascii_lowercase);
        if name_or_url.starts_with("https://") || name_or_url.starts_with("http://") {
            let path = name_or_url.split(['?', '#']).next().unwrap_or(name_or_url);
            let file = path
                .rsplit('/')
                .next()
                .filter(|f| !f.is_empty())
                .unwrap_or("model.gguf");
            let file = if file.to_ascii_lowercase().ends_with(".gguf") {
                file.to_string()
            } else {
                format!("{file}.gguf")
            };
            let sha = sha.or_else(|| {
                Catalogue::builtin()
                    .by_file(&file)
                    .filter(|m| !m.sha256.is_empty())
                    .map(|m| m.sha256.clone())
            });
            return Ok(Self {
                url: name_or_url.to_string(),
                file,
                sha256: sha,
            });
        }
        let entry = Catalogue::builtin()
            .get(name_or_url)
            .ok_or_else(|| ModelError::Unknown {
                name: name_or_url.to_string(),
            })?;
        if entry.url.is_empty() {
            return Err(ModelError::Download {
                url: entry.source.clone(),
                message: format!(
                    "`{}` is not downloadable over HTTP; install it with: {}",
                    entry.name,
                    entry.install_hint()
                ),
            });
        }
        Ok(Self {
            url: entry.url.clone(),
            file: entry.file.clone(),
            sha256: sha.or_else(|| (!entry.sha256.is_empty()).then(|| entry.sha256.clone())),
        })
    }
}

/// Download progress, for the caller's progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The transfer starts: total size if known, bytes already present from an earlier try.
    Start {
        /// Total bytes, when the server said.
        total: Option<u64>,
        /// Bytes resumed from a partial file.
        already: u64,
    },
    /// More bytes arrived.
    Advance(u64),
    /// Verifying the checksum.
    Verifying,
}

/// The result of a pull.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pulled {
    /// What was installed.
    pub installed: Installed,
    /// The sha256 of the file (print it so unknown catalogue hashes can be pinned).
    pub sha256: String,
    /// Whether it was checked against an expected hash.
    pub verified: bool,
    /// Bytes resumed from an earlier, interrupted download.
    pub resumed_from: u64,
}

/// Downloads `target` into `{data_dir}/models/`, resuming a partial file when present.
#[expect(clippy::too_many_lines, reason = "one download, step by step")]
pub async fn pull(
    data_dir: &Path,
    http: &reqwest::Client,
    target: &PullTarget,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Pulled, ModelError> {
    let url = &target.url;
    let dl_err = |message: String| ModelError::Download {
        url: url.clone(),
        message,
    };
    let partial = partial_dir(data_dir);
    tokio::fs::create_dir_all(&partial)
        .await
        .map_err(|source| ModelError::Io {
            path: partial.clone(),
            source,
        })?;
    let part: PathBuf = partial.join(format!("{}.part", target.file));
    let mut have = tokio::fs::metadata(&part).await.map_or(0, |m| m.len());

    let mut req = http.get(url);
    if have > 0 {
        req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let resp = req.send().await.map_err(|e| {
        dl_err(format!(
            "{e}; check the network and run the same command again (it resumes)"
        ))
    })?;
    let status = resp.status();
    let total = if status == reqwest::StatusCode::PARTIAL_CONTENT {
        resp.content_length().map(|n| n + have)
    } else if status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE && have > 0 {
        // The partial file is already complete (or longer than the file): verify it below.
        Some(have)
    } else if status.is_success() {
        // The server ignored the Range header: start over.
        have = 0;
        resp.content_length()
    } else {
        return Err(dl_err(format!("the server answered HTTP {status}")));
    };
    progress(Progress::Start {
        total,
        already: have,
    });
    let resumed_from = have;

    if status != reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(have > 0)
            .truncate(have == 0)
            .open(&part)
            .await
            .map_err(|source| ModelError::Io {
                path: part.clone(),
                source,
            })?;
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                dl_err(format!(
                    "{e} after {have} bytes; run the same command again to resume"
                ))
            })?;
            file.write_all(&chunk)
                .await
                .map_err(|source| ModelError::Io {
                    path: part.clone(),
                    source,
                })?;
            have += chunk.len() as u64;
            progress(Progress::Advance(chunk.len() as u64));
        }
        file.flush().await.map_err(|source| ModelError::Io {
            path: part.clone(),
            source,
        })?;
    }
    if let Some(t) = total.filter(|&t| have < t) {
        return Err(dl_err(format!(
            "the connection ended after {have} of {t} bytes; run the same command again to resume"
        )));
    }

    progress(Progress::Verifying);
    let part2 = part.clone();
    let sha = tokio::task::spawn_blocking(move || sha256_path(&part2))
        .await
        .map_err(|e| dl_err(format!("checksum task failed: {e}")))??;
    let verified = if let Some(expected) = &target.sha256 {
        if !expected.eq_ignore_ascii_case(&sha) {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(ModelError::Checksum {
                path: part,
                expected: expected.clone(),
                actual: sha,
            });
        }
        true
    } else {
        false
    };
    if let Err(e) = check_gguf(&part) {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(e);
    }
    let dest = models_dir(data_dir).join(&target.file);
    install_file(&part, &dest)?;
    let installed = catalogue::list_installed(data_dir)?
        .into_iter()
        .find(|m| m.path == dest)
        .ok_or_else(|| dl_err("the installed file vanished".to_string()))?;
    Ok(Pulled {
        installed,
        sha256: sha,
        verified,
        resumed_from,
    })
}

fn sha256_path(path: &Path) -> Result<String, ModelError> {
    let mut hasher = Sha256::new();
    let mut f = std::fs::File::open(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    std::io::copy(&mut f, &mut hasher).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::AsyncReadExt as _;
    use tokio::net::TcpListener;

    /// A valid GGUF file of about 5 kB (one string of metadata, no tensors).
    fn model_bytes() -> Vec<u8> {
        let mut payload = 5000u64.to_le_bytes().to_vec();
        payload.extend((0..5000u32).map(|i| (i % 251) as u8));
        super::super::gguf::build(&[("test.payload", 8, payload)], &[], 32)
    }

    /// A tiny HTTP/1.1 server on 127.0.0.1 that serves `body` and honours `Range: bytes=N-`
    /// when `ranges` is true. Records the Range headers it saw.
    async fn serve(body: Vec<u8>, ranges: bool) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        tokio::spawn(async move {
            loop {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 4096];
                let n = sock.read(&mut buf).await.unwrap();
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let range = req
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("range: bytes=")
                            .map(str::to_string)
                    })
                    .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok());
                seen2.lock().unwrap().push(format!("{range:?}"));
                let (status, slice) = match range {
                    Some(from) if ranges && from >= body.len() => {
                        ("416 Range Not Satisfiable", &body[0..0])
                    }
                    Some(from) if ranges => ("206 Partial Content", &body[from..]),
                    _ => ("200 OK", &body[..]),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    slice.len()
                );
                sock.write_all(head.as_bytes()).await.unwrap();
                sock.write_all(slice).await.unwrap();
                sock.shutdown().await.ok();
            }
        });
        (format!("http://{addr}/m/Test.gguf"), seen)
    }

    #[tokio::test]
    async fn pull_resumes_with_range_and_verifies_sha256() {
        let body = model_bytes();
        let sha = hex(&Sha256::digest(&body));
        let (url, seen) = serve(body.clone(), true).await;
        let tmp = tempfile::tempdir().unwrap();
        // an earlier, interrupted download left 1000 bytes
        std::fs::create_dir_all(partial_dir(tmp.path())).unwrap();
        std::fs::write(
            partial_dir(tmp.path()).join("Test.gguf.part"),
            &body[..1000],
        )
        .unwrap();
        let target = PullTarget::resolve(&url, Some(&sha)).unwrap();
        let mut events = Vec::new();
        let pulled = pull(tmp.path(), &reqwest::Client::new(), &target, &mut |p| {
            events.push(p);
        })
        .await
        .unwrap();
        assert_eq!(seen.lock().unwrap().as_slice(), ["Some(1000)"]);
        assert_eq!(pulled.resumed_from, 1000);
        assert!(pulled.verified);
        assert_eq!(std::fs::read(&pulled.installed.path).unwrap(), body);
        assert_eq!(
            events[0],
            Progress::Start {
                total: Some(body.len() as u64),
                already: 1000
            }
        );
        assert!(!partial_dir(tmp.path()).join("Test.gguf.part").exists());
    }

    #[tokio::test]
    async fn pull_with_wrong_sha_removes_the_file() {
        let body = model_bytes();
        let (url, _) = serve(body, false).await;
        let tmp = tempfile::tempdir().unwrap();
        let target = PullTarget::resolve(&url, Some(&"0".repeat(64))).unwrap();
        let err = pull(tmp.path(), &reqwest::Client::new(), &target, &mut |_| {})
            .await
            .unwrap_err();
        assert!(matches!(err, ModelError::Checksum { .. }), "{err}");
        assert!(!models_dir(tmp.path()).join("Test.gguf").exists());
        assert!(!partial_dir(tmp.path()).join("Test.gguf.part").exists());
    }

    #[tokio::test]
    async fn pull_of_an_html_page_is_rejected() {
        let (url, _) = serve(b"<html>login</html>".to_vec(), false).await;
        let tmp = tempfile::tempdir().unwrap();
        let target = PullTarget::resolve(&url, None).unwrap();
        let err = pull(tmp.path(), &reqwest::Client::new(), &target, &mut |_| {})
            .await
            .unwrap_err();
        assert!(err.to_string().contains("GGUF magic"), "{err}");
    }

    #[test]
    fn pip_only_and_unknown_names_explain_themselves() {
        assert!(PullTarget::resolve("qwen2.5-coder-0.5b", None).is_ok());
        let err = PullTarget::resolve("no-such-model", None).unwrap_err();
        assert!(err.to_string().contains("aiw model list"));
        let t = PullTarget::resolve("smollm2-135m", None).unwrap();
        assert_eq!(t.sha256.as_deref().map(str::len), Some(64));
    }
}
