//! The state: what iac created, as it last saw it. The only record that links a stack's
//! resource names to physical AWS ids, so it is written atomically after every operation.
//!
//! Backends: [`LocalBackend`] (a file under `.iac/state/`); the trait is async so an S3
//! backend can live in `iac-aws` without the engine knowing S3.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The state file format version this build reads and writes.
pub const STATE_VERSION: u32 = 1;

/// The whole state of one stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// Bumped on every save; a saved plan records it to detect that the state moved on.
    pub serial: u64,
    /// A random id given when the state is first created: tells two states of the same
    /// stack name apart (a saved plan from another environment is refused).
    pub lineage: String,
    pub stack: String,
    /// By resource name.
    pub resources: BTreeMap<String, ResourceState>,
    /// Old objects of create-before-destroy replacements not yet deleted: a crash between
    /// the create of the new object and the delete of the old leaves one here, and the next
    /// plan deletes it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposed: Vec<Deposed>,
    /// Outputs as computed by the last apply.
    #[serde(default)]
    pub outputs: IndexMap<String, Json>,
}

/// One resource iac created (or looked up, for `existing: true`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    #[serde(rename = "type")]
    pub rtype: String,
    pub physical_id: String,
    /// The fully resolved inputs last applied.
    pub inputs: Json,
    /// The attributes read back (`${NAME.ATTR}` values).
    pub attrs: Json,
    /// Names this resource depended on when applied: orders its deletion once it is gone
    /// from the stack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// A lookup only: never deleted, just forgotten.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub existing: bool,
}

/// An old object awaiting deletion after its replacement was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deposed {
    /// The resource it was the old object of.
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub physical_id: String,
    pub inputs: Json,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
}

impl State {
    /// An empty state for a stack, with a fresh lineage.
    pub fn new(stack: &str) -> State {
        State {
            version: STATE_VERSION,
            serial: 0,
            lineage: new_lineage(stack),
            stack: stack.to_string(),
            resources: BTreeMap::new(),
            deposed: Vec::new(),
            outputs: IndexMap::new(),
        }
    }

    /// Parse a state file's text, refusing versions this build does not know.
    pub fn from_json(text: &str) -> Result<State, StateError> {
        let raw: Json =
            serde_json::from_str(text).map_err(|e| StateError::Corrupt(e.to_string()))?;
        let version = raw.get("version").and_then(Json::as_u64).unwrap_or(0);
        if version != u64::from(STATE_VERSION) {
            return Err(StateError::Version(version));
        }
        serde_json::from_value(raw).map_err(|e| StateError::Corrupt(e.to_string()))
    }

    /// Pretty JSON, as written to disk.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// `${NAME.ATTR}` from the state.
    pub fn attr(&self, name: &str, attr: &str) -> Option<&Json> {
        self.resources.get(name)?.attrs.get(attr)
    }
}

/// A lineage id: no UUID crate needed, uniqueness only has to hold between the states a
/// user has, so time, pid, host and stack hashed together are plenty.
fn new_lineage(stack: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!("{nanos}:{}:{}:{stack}", std::process::id(), hostname());
    let a = crate::util::fnv64(seed.as_bytes());
    let b = crate::util::fnv64(format!("{a:x}{seed}").as_bytes());
    format!("{a:016x}{b:016x}")
}

/// This machine's name, for lock info.
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// Errors of state storage and locking.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot {what} `{}`: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the state is not valid JSON or misses fields: {0}")]
    Corrupt(String),
    #[error("state version `{0}` is not supported (this iac reads version {STATE_VERSION})")]
    Version(u64),
    #[error("the state of `{stack}` is locked by {holder}")]
    Locked { stack: String, holder: LockInfo },
    #[error("{0}")]
    Backend(String),
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StateError + 'a {
    move |source| StateError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Who holds a lock, written next to the lock so a second run can name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// `$USER`.
    pub who: String,
    pub pid: u32,
    pub host: String,
    /// Seconds since the Unix epoch.
    pub since: u64,
    /// `plan`, `apply`, `destroy`, ...
    pub operation: String,
}

impl LockInfo {
    /// Lock info for this process.
    pub fn here(operation: &str) -> LockInfo {
        LockInfo {
            who: std::env::var("USER")
                .or_else(|_| std::env::var("USERNAME"))
                .unwrap_or_else(|_| "unknown".into()),
            pid: std::process::id(),
            host: hostname(),
            since: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            operation: operation.into(),
        }
    }
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` (pid {} on `{}`, running `{}` since {} Unix time)",
            self.who, self.pid, self.host, self.operation, self.since
        )
    }
}

/// A held lock; released when dropped.
pub struct StateLock {
    pub info: LockInfo,
    _guard: Box<dyn Send + Sync>,
}

impl StateLock {
    /// For backends: wrap whatever releases the lock on drop.
    pub fn new(info: LockInfo, guard: Box<dyn Send + Sync>) -> StateLock {
        StateLock {
            info,
            _guard: guard,
        }
    }
}

impl std::fmt::Debug for StateLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateLock")
            .field("info", &self.info)
            .finish()
    }
}

/// Where a stack's state lives. `save` must be atomic: after it returns, a crash leaves
/// either the old or the new state, never a torn one.
#[async_trait]
pub trait StateBackend: Send + Sync {
    /// Where the state is, for messages (`.iac/state/demo.json`, `s3://b/k`).
    fn location(&self) -> String;
    /// `Ok(None)` when no state exists yet.
    async fn load(&self) -> Result<Option<State>, StateError>;
    async fn save(&self, state: &State) -> Result<(), StateError>;
    /// Take the lock or fail at once with [`StateError::Locked`] naming the holder.
    async fn lock(&self, operation: &str) -> Result<StateLock, StateError>;
    /// Break a lock left by a crashed run; returns who held it, if anyone was recorded.
    async fn force_unlock(&self) -> Result<Option<LockInfo>, StateError>;
}

/// State in a local file, `<dir>/<stack>.json`, with `<stack>.json.backup` (the previous
/// version) and `<stack>.lock` beside it.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    dir: PathBuf,
    stack: String,
}

impl LocalBackend {
    /// State in `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>, stack: &str) -> LocalBackend {
        LocalBackend {
            dir: dir.into(),
            stack: stack.to_string(),
        }
    }

    /// The default place: `.iac/state/` in the directory of the stack file, so the same
    /// state is found whatever directory iac runs from.
    pub fn for_stack_file(stack_file: &Path, stack: &str) -> LocalBackend {
        let base = stack_file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        LocalBackend::new(base.join(".iac").join("state"), stack)
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.json", self.stack))
    }
    pub fn backup_path(&self) -> PathBuf {
        self.dir.join(format!("{}.json.backup", self.stack))
    }
    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(format!("{}.lock", self.stack))
    }

    fn ensure_dir(&self) -> Result<(), StateError> {
        fs::create_dir_all(&self.dir).map_err(io("create", &self.dir))
    }

    /// Write `bytes` to `path` atomically: temp file in the same directory, fsync, rename,
    /// fsync the directory. Mode 0600: the state names every resource and may hold secrets.
    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), StateError> {
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        {
            let mut f = private_file(&tmp).map_err(io("create", &tmp))?;
            f.write_all(bytes).map_err(io("write", &tmp))?;
            f.sync_all().map_err(io("sync", &tmp))?;
        }
        fs::rename(&tmp, path).map_err(io("rename", path))?;
        sync_dir(&self.dir).map_err(io("sync", &self.dir))
    }

    fn save_sync(&self, state: &State) -> Result<(), StateError> {
        self.ensure_dir()?;
        let path = self.path();
        // Keep the previous version: copied (not renamed) so the state file exists at every
        // instant.
        if let Ok(previous) = fs::read(&path) {
            self.write_atomic(&self.backup_path(), &previous)?;
        }
        self.write_atomic(&path, state.to_json().as_bytes())
    }

    fn load_sync(&self) -> Result<Option<State>, StateError> {
        let path = self.path();
        match fs::read_to_string(&path) {
            Ok(text) => State::from_json(&text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", &path)(e)),
        }
    }

    fn lock_sync(&self, operation: &str) -> Result<StateLock, StateError> {
        use fs4::fs_std::FileExt;
        self.ensure_dir()?;
        let path = self.lock_path();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io("open", &path))?;
        let got = FileExt::try_lock_exclusive(&file).map_err(io("lock", &path))?;
        if !got {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = serde_json::from_str(&text).unwrap_or(LockInfo {
                who: "unknown".into(),
                pid: 0,
                host: "unknown".into(),
                since: 0,
                operation: "unknown".into(),
            });
            return Err(StateError::Locked {
                stack: self.stack.clone(),
                holder,
            });
        }
        let info = LockInfo::here(operation);
        file.set_len(0).map_err(io("write", &path))?;
        let text = serde_json::to_string_pretty(&info).unwrap_or_default();
        file.write_all(text.as_bytes())
            .map_err(io("write", &path))?;
        file.sync_all().map_err(io("sync", &path))?;
        Ok(StateLock::new(info, Box::new(LocalLock { file })))
    }
}

/// The open lock file; closing it releases the advisory lock. The info is truncated first
/// so a later reader does not mistake it for a live holder.
struct LocalLock {
    file: File,
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        use fs4::fs_std::FileExt;
        let _ = self.file.set_len(0);
        let _ = FileExt::unlock(&self.file);
    }
}

fn private_file(path: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[async_trait]
impl StateBackend for LocalBackend {
    fn location(&self) -> String {
        self.path().display().to_string()
    }
    async fn load(&self) -> Result<Option<State>, StateError> {
        self.load_sync()
    }
    async fn save(&self, state: &State) -> Result<(), StateError> {
        self.save_sync(state)
    }
    async fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        self.lock_sync(operation)
    }
    /// Removes the lock file: a run still holding the old file keeps its (now orphaned)
    /// advisory lock, and the next run locks a fresh file. Only for locks left by crashed
    /// runs or runs on another machine sharing the directory.
    async fn force_unlock(&self) -> Result<Option<LockInfo>, StateError> {
        let path = self.lock_path();
        let info = fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        match fs::remove_file(&path) {
            Ok(()) => Ok(info),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("remove", &path)(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn save_is_private_keeps_backup_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("s"), "demo");
        assert_eq!(b.load().await.unwrap(), None);
        let mut s = State::new("demo");
        b.save(&s).await.unwrap();
        s.serial = 1;
        b.save(&s).await.unwrap();
        assert_eq!(b.load().await.unwrap(), Some(s.clone()));
        let backup = State::from_json(&fs::read_to_string(b.backup_path()).unwrap()).unwrap();
        assert_eq!(backup.serial, 0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(b.path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("s"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[tokio::test]
    async fn second_lock_names_the_holder_and_force_unlock_frees_it() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path(), "demo");
        let held = b.lock("apply").await.unwrap();
        let err = b.lock("destroy").await.unwrap_err();
        match &err {
            StateError::Locked { holder, .. } => {
                assert_eq!(holder.pid, std::process::id());
                assert_eq!(holder.operation, "apply");
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        assert!(err.to_string().contains("running `apply`"), "{err}");
        let info = b.force_unlock().await.unwrap().unwrap();
        assert_eq!(info.operation, "apply");
        let again = b.lock("plan").await.unwrap();
        assert_eq!(again.info.operation, "plan");
        drop(held);
        drop(again);
        // Released locks can be taken again.
        b.lock("plan").await.unwrap();
    }

    #[test]
    fn unknown_version_is_refused() {
        let err = State::from_json(r#"{"version": 9}"#).unwrap_err();
        assert!(matches!(err, StateError::Version(9)));
    }

    #[test]
    fn for_stack_file_uses_the_file_directory() {
        let b = LocalBackend::for_stack_file(Path::new("stacks/demo.yaml"), "demo");
        assert_eq!(b.path(), Path::new("stacks/.iac/state/demo.json"));
        let b = LocalBackend::for_stack_file(Path::new("demo.yaml"), "demo");
        assert_eq!(b.path(), Path::new("./.iac/state/demo.json"));
    }
}
