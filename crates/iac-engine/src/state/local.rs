//! [`LocalBackend`]: the state in a local file (temp file, fsync, rename, 0600, backup),
//! the journal of commits beside it (one fsynced line each, replayed on load, a torn last
//! line ignored) and the local file lock.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::*;

/// State in a local file, `<dir>/<stack>.json`, with `<stack>.json.backup` (the previous
/// version), `<stack>.journal` (the commits since the last save) and `<stack>.lock` beside
/// it.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    dir: PathBuf,
    stack: String,
    /// The journal, open for appending while a run commits to it.
    journal: std::sync::Arc<std::sync::Mutex<Option<File>>>,
}

impl LocalBackend {
    /// State in `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>, stack: &str) -> LocalBackend {
        LocalBackend {
            dir: dir.into(),
            stack: stack.to_string(),
            journal: Default::default(),
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
    pub fn journal_path(&self) -> PathBuf {
        self.dir.join(format!("{}.journal", self.stack))
    }

    /// Append one journal line and fsync it (the directory too when the file is new).
    fn commit_sync(&self, state: &State, edits: &[Edit]) -> Result<(), StateError> {
        let path = self.journal_path();
        let mut line = serde_json::to_string(&JournalEntry {
            lineage: state.lineage.clone(),
            serial: state.serial,
            edits: edits.to_vec(),
        })
        .map_err(|e| StateError::Corrupt(e.to_string()))?;
        line.push('\n');
        let mut held = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_none() {
            self.ensure_dir()?;
            let mut o = OpenOptions::new();
            o.append(true).create(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            let f = o.open(&path).map_err(io("open", &path))?;
            sync_dir(&self.dir).map_err(io("sync", &self.dir))?;
            *held = Some(f);
        }
        let f = held.as_mut().expect("opened above");
        f.write_all(line.as_bytes()).map_err(io("write", &path))?;
        f.sync_data().map_err(io("sync", &path))
    }

    /// Replay the journal onto `state` (or onto a new state when there is no state file
    /// yet): entries at or below the state's serial were folded already and are skipped; a
    /// last line that does not parse (torn by a crash mid-write) is ignored.
    fn replay(&self, mut state: Option<State>) -> Result<Option<State>, StateError> {
        let path = self.journal_path();
        let text = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(state),
            Err(e) => return Err(io("read", &path)(e)),
        };
        let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        for (i, line) in lines.iter().enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let entry: JournalEntry = match serde_json::from_slice(line) {
                Ok(e) => e,
                // The last line, torn: its commit never returned, so nothing relied on it.
                Err(_)
                    if lines[i + 1..]
                        .iter()
                        .all(|l| l.iter().all(u8::is_ascii_whitespace)) =>
                {
                    break
                }
                Err(e) => {
                    return Err(StateError::Corrupt(format!(
                        "`{}` line {}: {e}",
                        path.display(),
                        i + 1
                    )))
                }
            };
            let s = state.get_or_insert_with(|| {
                let mut s = State::new(&self.stack);
                s.lineage = entry.lineage.clone();
                s
            });
            if entry.serial <= s.serial {
                continue;
            }
            s.apply(&entry.edits);
            if s.lineage != entry.lineage {
                return Err(StateError::Corrupt(format!(
                    "`{}` line {} is of another state (lineage `{}`, the state has `{}`)",
                    path.display(),
                    i + 1,
                    entry.lineage,
                    s.lineage
                )));
            }
            s.serial = entry.serial;
        }
        Ok(state)
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
        self.write_atomic(&path, state.to_json().as_bytes())?;
        // Folded: the state file now holds every journal entry (a crash before the removal
        // leaves entries at or below its serial, which a load skips).
        let mut held = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        *held = None;
        let journal = self.journal_path();
        match fs::remove_file(&journal) {
            Ok(()) => sync_dir(&self.dir).map_err(io("sync", &self.dir)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("remove", &journal)(e)),
        }
    }

    fn load_sync(&self) -> Result<Option<State>, StateError> {
        let path = self.path();
        let state = match fs::read_to_string(&path) {
            Ok(text) => Some(State::from_json(&text)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io("read", &path)(e)),
        };
        self.replay(state)
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
            return Err(StateError::Locked {
                stack: self.stack.clone(),
                holder: Box::new(LockInfo::parse(&text)),
            });
        }
        // A free lock is nobody's, whatever its file still says (a holder killed before its
        // release truncated it): the file is rewritten with this run as the holder.
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
    /// Every `<name>.json` in the directory but this stack's (journals folded in).
    async fn siblings(&self) -> Result<Vec<(String, State)>, StateError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("read", &self.dir)(e)),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|f| f.strip_suffix(".json").map(str::to_string))
            .filter(|n| *n != self.stack)
            .collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            let other = LocalBackend::new(&self.dir, &name);
            if let Some(state) = other.load_sync()? {
                out.push((other.location(), state));
            }
        }
        Ok(out)
    }
    async fn load(&self) -> Result<Option<State>, StateError> {
        self.load_sync()
    }
    async fn save(&self, state: &State) -> Result<(), StateError> {
        self.save_sync(state)
    }
    async fn commit(&self, state: &State, edits: &[Edit]) -> Result<(), StateError> {
        self.commit_sync(state, edits)
    }
    async fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        self.lock_sync(operation)
    }
    /// Removes the lock file if the lock is held and has this `id`: a run still holding the
    /// old file keeps its (now orphaned) advisory lock, and the next run locks a fresh file.
    /// Only for locks whose holder cannot release them (a run hung, or on another machine
    /// sharing the directory): the operating system releases the lock of a dead process.
    async fn force_unlock(&self, id: &str) -> Result<Option<LockInfo>, StateError> {
        use fs4::fs_std::FileExt;
        let path = self.lock_path();
        let mut file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("open", &path)(e)),
        };
        if FileExt::try_lock_exclusive(&file).map_err(io("lock", &path))? {
            // Nobody holds it: there is nothing to break.
            let _ = FileExt::unlock(&file);
            return Ok(None);
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io("read", &path))?;
        let holder = LockInfo::parse(&text);
        if holder.id != id {
            return Err(StateError::LockIdMismatch {
                stack: self.stack.clone(),
                given: id.to_string(),
                holder: Box::new(holder),
            });
        }
        match fs::remove_file(&path) {
            Ok(()) => Ok(Some(holder)),
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
        let err = b.force_unlock("0000").await.unwrap_err();
        assert!(
            matches!(&err, StateError::LockIdMismatch { holder, .. } if holder.id == held.info.id),
            "{err}"
        );
        assert!(b.lock_path().exists(), "a wrong id removes nothing");
        let info = b.force_unlock(&held.info.id).await.unwrap().unwrap();
        assert_eq!(info, held.info);
        let again = b.lock("plan").await.unwrap();
        assert_eq!(again.info.operation, "plan");
        drop(held);
        drop(again);
        // Released locks can be taken again.
        b.lock("plan").await.unwrap();
    }

    #[tokio::test]
    async fn a_free_lock_whose_file_names_a_holder_is_nobodys() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path(), "demo");
        let mut gone = LockInfo::here("apply");
        gone.pid = u32::MAX;
        fs::write(b.lock_path(), serde_json::to_string(&gone).unwrap()).unwrap();
        assert_eq!(b.force_unlock(&gone.id).await.unwrap(), None, "not held");
        let taken = b.lock("destroy").await.expect("a free lock is taken");
        let recorded = LockInfo::parse(&fs::read_to_string(b.lock_path()).unwrap());
        assert_eq!(recorded, taken.info, "the file names the new holder");
    }

    fn put(name: &str, id: &str) -> Edit {
        Edit::Put {
            name: name.into(),
            resource: ResourceState {
                rtype: "aws.vpc".into(),
                physical_id: id.into(),
                inputs: Json::Null,
                attrs: Json::Null,
                dependencies: Vec::new(),
                existing: false,
                incomplete: false,
                former_names: Vec::new(),
            },
        }
    }

    async fn commit(b: &LocalBackend, s: &mut State, edits: Vec<Edit>) {
        s.apply(&edits);
        s.serial += 1;
        b.commit(s, &edits).await.unwrap();
    }

    #[tokio::test]
    async fn commits_are_journalled_replayed_and_folded() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path(), "demo");
        let mut s = State::new("demo");
        commit(&b, &mut s, vec![put("vpc", "vpc-1")]).await;
        commit(&b, &mut s, vec![put("subnet", "subnet-1")]).await;
        // No state file yet: the journal alone gives the state back.
        assert!(!b.path().exists());
        assert_eq!(b.load().await.unwrap(), Some(s.clone()));
        b.save(&s).await.unwrap();
        assert!(!b.journal_path().exists());
        commit(&b, &mut s, vec![Edit::Remove { name: "vpc".into() }]).await;
        let loaded = b.load().await.unwrap().unwrap();
        assert_eq!(loaded, s);
        assert_eq!(loaded.resources.len(), 1);
        // Entries already folded (a crash between the save and the journal's removal) are
        // skipped.
        let journal = fs::read(b.journal_path()).unwrap();
        b.save(&s).await.unwrap();
        fs::write(b.journal_path(), journal).unwrap();
        assert_eq!(b.load().await.unwrap(), Some(s));
    }

    #[tokio::test]
    async fn a_torn_last_journal_line_is_ignored_and_a_torn_middle_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path(), "demo");
        let mut s = State::new("demo");
        commit(&b, &mut s, vec![put("vpc", "vpc-1")]).await;
        let whole = s.clone();
        commit(&b, &mut s, vec![put("subnet", "subnet-1")]).await;
        let text = fs::read_to_string(b.journal_path()).unwrap();
        let cut = text.len() - 20;
        fs::write(b.journal_path(), &text[..cut]).unwrap();
        assert_eq!(b.load().await.unwrap(), Some(whole));
        let first_line_end = text.find('\n').unwrap();
        let broken = format!("{{\"lineage\n{}", &text[first_line_end + 1..]);
        fs::write(b.journal_path(), broken).unwrap();
        let err = b.load().await.unwrap_err();
        assert!(matches!(err, StateError::Corrupt(_)), "{err}");
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
