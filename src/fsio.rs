//! Files that hold secrets: atomic writes (a private temporary file, then a rename), the
//! lock two t3s3 runs on one `.env` take turns with, what a killed write leaves, and how a
//! file is kept private (Unix modes; Windows ACLs through icacls).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::exit::Failure;

/// Where temporary files of an atomic write go: named so that `*.env` covers them (they
/// hold the whole new .env, secret included, until the rename).
pub const TEMP_PREFIX: &str = ".t3s3-";
pub const TEMP_SUFFIX: &str = ".tmp.env";

/// The most t3s3 reads of a project's text file (a .env, `.gitignore`, a venv's `.pth`).
pub const PROJECT_FILE_CAP: u64 = 1 << 20;

/// `O_NONBLOCK`: opening a FIFO must not wait for a writer.
#[cfg(any(target_os = "linux", target_os = "android"))]
const O_NONBLOCK: i32 = 0o4000;
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
const O_NONBLOCK: i32 = 0x0004;

/// Why a project file was not read.
#[derive(Debug)]
pub enum ReadError {
    Missing,
    /// A FIFO, a socket, a device (a link to `/dev/zero`): reading it could block or never end.
    NotAFile(&'static str),
    /// Larger than the cap: no project text file t3s3 reads is that large.
    TooLarge(u64),
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Missing => f.write_str("it does not exist"),
            ReadError::NotAFile(kind) => write!(f, "it is {kind}, not a regular file"),
            ReadError::TooLarge(cap) => write!(f, "it is larger than {} KiB", cap / 1024),
            ReadError::Io(error) => write!(f, "{error}"),
        }
    }
}

/// What kind of file `metadata` describes, for a refusal.
fn kind_of(metadata: &fs::Metadata) -> &'static str {
    let kind = metadata.file_type();
    if kind.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// Reads a file of the project, whatever the project holds: opened without blocking (a FIFO
/// does not wait for a writer), checked to be a regular file after opening (through any
/// link), and read up to `cap` bytes. Memory stays bounded; nothing waits forever.
pub fn read_capped(path: &Path, cap: u64) -> std::result::Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, O_NONBLOCK);
    let file = match options.open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::Missing),
        Err(error) => {
            // Windows opens no folder as a file; say what it is rather than "access denied".
            return Err(match fs::metadata(path) {
                Ok(metadata) if !metadata.is_file() => ReadError::NotAFile(kind_of(&metadata)),
                _ => ReadError::Io(error),
            });
        }
    };
    let metadata = file.metadata().map_err(ReadError::Io)?;
    if !metadata.is_file() {
        return Err(ReadError::NotAFile(kind_of(&metadata)));
    }
    if metadata.len() > cap {
        return Err(ReadError::TooLarge(cap));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(cap + 1).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge(cap));
    }
    Ok(bytes)
}

/// [`read_capped`] at [`PROJECT_FILE_CAP`], as text (lossy: a stray byte is not a reason to
/// stop a check); `None` when it cannot be read.
pub fn read_text(path: &Path) -> Option<String> {
    read_capped(path, PROJECT_FILE_CAP).ok().map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// An advisory lock on the folder of a .env: t3s3 runs that change the same .env take
/// turns. Held until dropped; the operating system releases it if the process dies.
#[derive(Debug)]
pub struct EnvLock {
    _folder: fs::File,
    /// Temporary files of an interrupted run, removed once the lock was taken.
    pub removed: Vec<PathBuf>,
}

impl EnvLock {
    /// Takes the lock, waiting up to `wait` for another run (`waiting` is told once); then
    /// removes temporary files that interrupted runs left (nobody else can be writing).
    pub async fn acquire(env_path: &Path, wait: std::time::Duration, waiting: &dyn Fn(&str)) -> Result<EnvLock> {
        let handle = lock_handle(env_path).map_err(|error| {
            Failure::bad_input(format!("cannot open the folder of {}: {error}", env_path.display()))
                .hint("create the folder, or pass another path with --env-file")
        })?;
        let deadline = std::time::Instant::now() + wait;
        let mut told = false;
        loop {
            match handle.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    if !told {
                        waiting(&format!(
                            "another t3s3 run is changing {}; waiting for it to finish",
                            env_path.display()
                        ));
                        told = true;
                    }
                    // Waits without holding a runtime thread.
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Failure::bad_input(format!(
                        "another t3s3 run is still changing {} after {} s; nothing was changed",
                        env_path.display(),
                        wait.as_secs()
                    ))
                    .hint("wait for it to finish, then run again")
                    .into());
                }
                // A file system without locks: go on unlocked rather than refuse.
                Err(fs::TryLockError::Error(_)) => break,
            }
        }
        let removed: Vec<PathBuf> =
            stray_temp_files(env_path).into_iter().filter(|stale| fs::remove_file(stale).is_ok()).collect();
        Ok(EnvLock { _folder: handle, removed })
    }
}

/// What the lock is taken on. Unix: the .env's folder itself, so no file is left. Windows
/// opens no folder with a plain open (os error 5), so a lock file beside the .env, named so
/// git's `*.env` pattern ignores it; it holds nothing and stays for the next run.
fn lock_handle(env_path: &Path) -> std::io::Result<fs::File> {
    let dir = folder(env_path);
    if cfg!(windows) {
        fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(LOCK_FILE))
    } else {
        fs::File::open(dir)
    }
}

/// The lock file on Windows (see [`lock_handle`]).
pub const LOCK_FILE: &str = ".t3s3-lock.env";

/// Temporary files a killed run left beside `path`, and beside the file it links to (where
/// [`write_atomic`] writes through a link); each may hold a secret.
pub fn stray_temp_files(path: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![folder(path).to_path_buf()];
    if is_link(path) {
        dirs.extend(fs::canonicalize(path).ok().map(|target| folder(&target).to_path_buf()));
    }
    let mut found: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|dir| fs::read_dir(dir).ok())
        .flat_map(|entries| entries.flatten().map(|entry| entry.path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Whether `path` itself is a symbolic link (not what it points to).
pub fn is_link(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The folder holding `path`: its parent, or `.` for a bare file name (the one helper for it).
pub fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A file's permission bits (`0o600`), on Unix; `None` elsewhere (Windows protects a file
/// with its folder's ACL, not a mode) or when it cannot be read.
pub fn file_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).ok().map(|m| m.permissions().mode() & 0o777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Gives an open file the permission bits `mode` (Unix only; see [`file_mode`]).
fn set_file_mode(file: &fs::File, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (file, mode);
        Ok(())
    }
}

/// How a written .env is kept private, in the platform's own terms.
pub const PRIVATE: &str = if cfg!(windows) { "readable only by you (ACL set with icacls)" } else { "mode 0600" };

/// Windows: the account running t3s3, as icacls names it.
fn windows_user() -> Option<String> {
    let user = std::env::var("USERNAME").ok().filter(|u| !u.is_empty())?;
    Some(match std::env::var("USERDOMAIN").ok().filter(|d| !d.is_empty()) {
        Some(domain) => format!("{domain}\\{user}"),
        None => user,
    })
}

/// Windows' `chmod 600`: `icacls PATH /inheritance:r /grant:r USER:F` drops the inherited
/// entries (Users, Authenticated Users) and leaves full control to the user alone.
fn restrict_to_owner(path: &Path) -> Result<()> {
    let user = windows_user()
        .ok_or_else(|| Failure::bad_input("cannot restrict the .env to its owner: USERNAME is not set"))?;
    let output = std::process::Command::new("icacls")
        .arg(path)
        .args(["/inheritance:r", "/grant:r"])
        .arg(format!("{user}:F"))
        .output();
    match output {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(Failure::bad_input(format!(
            "icacls could not restrict {} to {user}: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
        .into()),
        Err(error) => Err(Failure::bad_input(format!("icacls could not be run: {error}"))
            .hint("t3s3 restricts the .env to you with icacls (part of Windows); check PATH includes C:\\Windows\\System32")
            .into()),
    }
}

/// What a Windows ACL (as `icacls PATH` prints it) grants to anyone but `owner`, SYSTEM and
/// Administrators: the entries that let other accounts read the secret. `None` when the
/// output lists no entry at all (nothing could be read: never taken as private).
pub fn acl_others(icacls_output: &str, path: &str, owner: &str) -> Option<Vec<String>> {
    let short = |name: &str| name.rsplit('\\').next().unwrap_or(name).to_ascii_lowercase();
    let trusted = |name: &str| {
        let lower = name.to_ascii_lowercase();
        short(name) == short(owner) || lower == "nt authority\\system" || lower == "builtin\\administrators"
    };
    // `PATH NAME:(F)` on the first line, `       NAME:(I)(RX)` on the next ones.
    let entries: Vec<&str> = icacls_output
        .lines()
        .map(|line| line.trim_start().strip_prefix(path).unwrap_or(line).trim())
        .filter(|entry| entry.contains(":("))
        .collect();
    if entries.is_empty() {
        return None;
    }
    let others = entries.into_iter().filter(|entry| entry.split_once(":(").is_some_and(|(name, _)| !trusted(name)));
    Some(others.map(str::to_string).collect())
}

/// The ACL of `path` on Windows: the entries granting other accounts, or why it could not be
/// read.
pub fn acl_check(path: &Path) -> std::result::Result<Vec<String>, String> {
    let owner = windows_user().ok_or("USERNAME is not set")?;
    let output = std::process::Command::new("icacls").arg(path).output().map_err(|e| format!("icacls: {e}"))?;
    acl_others(&String::from_utf8_lossy(&output.stdout), &path.display().to_string(), &owner)
        .ok_or_else(|| "icacls printed no access entries".to_string())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder (named so git's
/// `*.env` pattern ignores it), fsync, rename, fsync of the folder. Through a symbolic link
/// the link's target is replaced, in the target's folder, and the link is kept.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let target = if is_link(path) {
        fs::canonicalize(path).map_err(|_| {
            Failure::bad_input(format!("{} is a link to a file that does not exist", path.display()))
                .hint("point the link at the real .env, or remove it")
        })?
    } else {
        path.to_path_buf()
    };
    let dir = folder(&target);
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    set_file_mode(temp.as_file(), mode)?;
    // Windows: the mode means nothing; the temporary file's ACL is cut to its owner before
    // the secret is written into it, and the rename keeps that ACL.
    if cfg!(windows) && mode & 0o077 == 0 {
        restrict_to_owner(temp.path())?;
    }
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(&target).with_context(|| format!("cannot replace {}", target.display()))?;
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// The folder `env_path` is written in must exist: t3s3 creates a .env, never folders.
pub fn require_folder(env_path: &Path) -> Result<(), crate::exit::Failure> {
    if folder(env_path).is_dir() {
        return Ok(());
    }
    Err(crate::exit::Failure::bad_input(format!("the folder of {} does not exist", env_path.display()))
        .hint("create it, or pass another path with --env-file"))
}

#[cfg(test)]
mod acl_tests {
    use super::*;

    // `icacls` on Windows 11 for a file under a user's profile, before and after
    // `icacls FILE /inheritance:r /grant:r DESKTOP-1\\dev:F`.
    const INHERITED: &str = "C:\\t3\\backend\\.env NT AUTHORITY\\SYSTEM:(I)(F)\r\n                  BUILTIN\\Administrators:(I)(F)\r\n                  DESKTOP-1\\dev:(I)(F)\r\n                  BUILTIN\\Users:(I)(RX)\r\n\r\nSuccessfully processed 1 files; Failed processing 0 files\r\n";
    const RESTRICTED: &str =
        "C:\\t3\\backend\\.env DESKTOP-1\\dev:(F)\r\n\r\nSuccessfully processed 1 files; Failed processing 0 files\r\n";

    #[test]
    fn other_accounts_in_an_acl_are_named_and_an_empty_answer_is_no_answer() {
        let path = "C:\\t3\\backend\\.env";
        assert_eq!(acl_others(INHERITED, path, "DESKTOP-1\\dev"), Some(vec!["BUILTIN\\Users:(I)(RX)".to_string()]));
        assert_eq!(acl_others(RESTRICTED, path, "DESKTOP-1\\dev"), Some(vec![]));
        assert_eq!(acl_others("", path, "dev"), None, "Wine's icacls prints nothing: not private");
        assert_eq!(acl_others("Successfully processed 0 files", path, "dev"), None);
    }
}
