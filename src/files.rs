//! Writing files, in one place: reports and exports replaced atomically (a temporary file in
//! the same directory, synced, renamed over the target) and only where the target is a regular
//! file or does not exist yet, never through a symbolic link or into a device; `-` and
//! `/dev/stdout` recognised as "standard output" (the caller prints through `output`); and
//! aiw's own state (sessions, log, journal, health, queue) kept private: directories 0700,
//! files 0600.
//!
//! Reading untrusted input is bounded here too: [`read_bounded`] reads a file, a pipe or a
//! child's output with a size cap and a deadline, on a thread of its own so that an endless
//! or silent input (`/dev/zero`, a pipe that never closes) cannot hold aiw past its limits.
//!
//! Every other module writes files through these helpers; none opens a temporary file or
//! renames one itself.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Who may read a file aiw writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A report or export the user asked for: the usual permissions (0666 minus the umask).
    Public,
    /// aiw's own state: owner only (0600).
    Private,
}

impl Access {
    #[cfg(unix)]
    fn mode(self) -> u32 {
        match self {
            Self::Public => 0o666,
            Self::Private => 0o600,
        }
    }
}

/// Whether `path` means standard output: `-` or `/dev/stdout`.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-" || path == Path::new("/dev/stdout")
}

fn refuse(path: &Path, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "refusing to write {}: it is {what}, and aiw writes files only to regular files \
             (remove it or choose another path; `-` means standard output)",
            path.display()
        ),
    )
}

/// Checks that `path` is a regular file or does not exist: never a symbolic link, a device,
/// a pipe, a socket or a directory.
pub fn check_target(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) => {
            let t = m.file_type();
            if t.is_symlink() {
                Err(refuse(path, "a symbolic link"))
            } else if t.is_dir() {
                Err(refuse(path, "a directory"))
            } else if !t.is_file() {
                Err(refuse(path, "a device, pipe or socket, not a regular file"))
            } else {
                Ok(())
            }
        }
    }
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Replaces `path` with `bytes` atomically: readers see the old content or the new, never a
/// half-written file. The directory must exist. Refuses targets that are not regular files
/// (see [`check_target`]). Returns the metadata of the new file (for mtime caches).
pub fn write_atomic(path: &Path, bytes: &[u8], access: Access) -> io::Result<fs::Metadata> {
    check_target(path)?;
    let dir = parent_of(path);
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(fs::Permissions::from_mode(access.mode()));
    }
    #[cfg(not(unix))]
    let _ = access;
    let mut tmp = builder.tempfile_in(&dir).map_err(|e| {
        let why = if e.kind() == io::ErrorKind::NotFound {
            "the directory does not exist".to_string()
        } else {
            e.kind().to_string()
        };
        io::Error::new(
            e.kind(),
            format!("cannot create a file in {}: {why}", dir.display()),
        )
    })?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    // The check above and the rename are not one step; a link planted in between is
    // replaced (rename never follows it), not written through.
    let file = tmp.persist(path).map_err(|e| e.error)?;
    let meta = file.metadata()?;
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(meta)
}

/// Appends `bytes` to `path` (created if missing), which must be a regular file: for the
/// files a CI runner hands over (`GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`).
pub fn append(path: &Path, bytes: &[u8]) -> io::Result<()> {
    check_target(path)?;
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(bytes)
}

/// Creates `dir` and any missing parents, each new one readable by the owner only (0700).
/// Existing directories are left as they are: the user may have chosen a shared one.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(dir)
}

/// `OpenOptions` whose newly created files are readable by the owner only (0600); set the
/// access flags on it as usual.
pub fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o
}

/// Opens one of aiw's own append-only files (log, journal) for appending, creating it 0600
/// in a 0700 directory; an existing file that others could read is made private. Refuses
/// symbolic links and other non-regular files.
pub fn open_private_append(path: &Path) -> io::Result<File> {
    private_dir(&parent_of(path))?;
    check_target(path)?;
    let f = private_options().create(true).append(true).open(path)?;
    make_private(&f)?;
    Ok(f)
}

/// Creates (or opens) one of aiw's own files for writing without truncating it, 0600; used
/// for lock files.
pub fn open_private(path: &Path) -> io::Result<File> {
    private_dir(&parent_of(path))?;
    check_target(path)?;
    let f = private_options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    make_private(&f)?;
    Ok(f)
}

/// Removes group and other permissions from an open file of aiw's own.
fn make_private(f: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = f.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            f.set_permissions(fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = f;
    Ok(())
}

/// Why [`read_bounded`] stopped before the end of its input.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The input is longer than the limit (in bytes).
    #[error("the input is larger than the limit of {} bytes", .0)]
    TooLarge(usize),
    /// The deadline passed before the input ended.
    #[error("the input did not end before the time limit")]
    TimedOut,
    /// Opening or reading failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Reads what `open` returns to its end, at most `limit` bytes and until `deadline`. The
/// reading happens on a thread of its own (also the opening: opening a FIFO blocks until it
/// has a writer), so a silent input cannot block the caller past the deadline; memory stays
/// within `limit` plus a few 64 KiB buffers, whatever the input.
pub async fn read_bounded<R, F>(
    open: F,
    limit: usize,
    deadline: Option<tokio::time::Instant>,
) -> Result<Vec<u8>, ReadError>
where
    F: FnOnce() -> io::Result<R> + Send + 'static,
    R: io::Read,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel::<io::Result<Vec<u8>>>(4);
    // Detached on purpose: a thread stuck in `read` on a silent pipe must not keep aiw
    // alive; it ends with the process, or as soon as its next send fails.
    std::thread::Builder::new()
        .name("aiw-read".into())
        .spawn(move || {
            let mut reader = match open() {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            };
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        if tx.blocking_send(Ok(buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                }
            }
        })?;
    let mut out = Vec::new();
    loop {
        let next = match deadline {
            Some(d) => tokio::time::timeout_at(d, rx.recv())
                .await
                .map_err(|_| ReadError::TimedOut)?,
            None => rx.recv().await,
        };
        match next {
            None => return Ok(out),
            Some(Ok(chunk)) => {
                if out.len() + chunk.len() > limit {
                    return Err(ReadError::TooLarge(limit));
                }
                out.extend_from_slice(&chunk);
            }
            Some(Err(e)) => return Err(ReadError::Io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt as _;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        write_atomic(&p, b"one", Access::Public).unwrap();
        write_atomic(&p, b"two", Access::Public).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(write_atomic(&dir.path().join("no/such/dir/x"), b"x", Access::Public).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_devices_and_directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = write_atomic(&link, b"x", Access::Public).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let e = write_atomic(Path::new("/dev/null"), b"x", Access::Public).unwrap_err();
        assert!(e.to_string().contains("device"), "{e}");
        let e = append(Path::new("/dev/null"), b"x").unwrap_err();
        assert!(e.to_string().contains("regular files"), "{e}");
        let e = write_atomic(dir.path(), b"x", Access::Public).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
        assert!(append(&link, b"x").is_err());
    }

    /// A reader that never answers.
    struct Silent;

    impl io::Read for Silent {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            std::thread::sleep(std::time::Duration::from_secs(3600));
            Ok(0)
        }
    }

    #[tokio::test]
    async fn bounded_reads_stop_at_the_limit_and_the_deadline() {
        let got = read_bounded(|| Ok(&b"hello"[..]), 5, None).await.unwrap();
        assert_eq!(got, b"hello");
        let err = read_bounded(|| Ok(io::repeat(0)), 1 << 20, None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ReadError::TooLarge(n) if n == 1 << 20),
            "{err}"
        );
        // A reader that never answers: the deadline ends the wait.
        let soon = tokio::time::Instant::now() + std::time::Duration::from_millis(50);
        let err = read_bounded(|| Ok(Silent), 10, Some(soon))
            .await
            .unwrap_err();
        assert!(matches!(err, ReadError::TimedOut), "{err}");
        let err = read_bounded(|| File::open("/no/such/file"), 10, None)
            .await
            .unwrap_err();
        assert!(matches!(err, ReadError::Io(_)), "{err}");
    }

    #[test]
    fn stdout_names() {
        assert!(is_stdout(Path::new("-")));
        assert!(is_stdout(Path::new("/dev/stdout")));
        assert!(!is_stdout(Path::new("./-x")));
        assert!(!is_stdout(Path::new("out.json")));
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600_in_0700_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("a/b");
        let log = state.join("aiw.log");
        let mut f = open_private_append(&log).unwrap();
        f.write_all(b"line\n").unwrap();
        assert_eq!(mode(&log), 0o600);
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        let json = state.join("health.json");
        write_atomic(&json, b"{}", Access::Private).unwrap();
        assert_eq!(mode(&json), 0o600);
        // An old world-readable file is tightened when aiw opens it.
        let old = state.join("journal.jsonl");
        fs::write(&old, b"").unwrap();
        fs::set_permissions(&old, fs::Permissions::from_mode(0o644)).unwrap();
        drop(open_private_append(&old).unwrap());
        assert_eq!(mode(&old), 0o600);
        let lock = state.join("x.lock");
        drop(open_private(&lock).unwrap());
        assert_eq!(mode(&lock), 0o600);
    }
}
