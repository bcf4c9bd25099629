//! Where a stack's state lives, and the state errors as diagnostics.
//!
//! Local state (the default) is `.iac/state/<stack>.json` beside the stack file;
//! `state: s3://BUCKET/KEY` in the stack keeps it in S3 (`iac_aws::state::S3Backend`),
//! reached with the same AWS connection as everything else. A saved
//! plan records the stack file (relative to the plan file itself) and the `state:` URL (see
//! [`StateLocation`]) so that `iac apply PLANFILE` finds the same state from any working
//! directory, without the stack file being loaded again.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use iac_aws::state::S3Backend;
use iac_aws::AwsContext;
use iac_engine::{
    lock_waiting, LocalBackend, LockInfo, State, StateBackend, StateError, StateLock,
};
use iac_stack::Diag;
use serde_json::Value as Json;

use super::load::display_path;
use super::Exit;
use crate::cli::LockArgs;
use crate::printer::Printer;

/// Where the state of a stack is, as a saved plan records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateLocation {
    /// The stack file as given on the command line (local state is beside it).
    pub stack_file: PathBuf,
    /// The stack's `state:` URL, when the state is not local.
    pub url: Option<String>,
}

/// The plan JSON keys the binary adds to a saved plan. Readers of the engine's format
/// ignore unknown keys, so these do not change the plan format version.
/// `stack_file`: relative to the working directory of `iac plan` (plans saved before
/// `stack_file_from_plan` existed have only this one).
const STACK_FILE_KEY: &str = "stack_file";
/// `stack_file_from_plan`: relative to the directory of the plan file; wins when present.
const FROM_PLAN_KEY: &str = "stack_file_from_plan";
const STATE_KEY: &str = "state";

impl StateLocation {
    /// Add this location to a plan's JSON as `iac plan --json` prints it (no plan file:
    /// the stack file relative to the working directory only).
    pub fn annotate(&self, plan_json: &str) -> String {
        self.annotate_with(plan_json, None)
    }

    /// Add this location to a plan's JSON saved to `plan_file`: also the stack file
    /// relative to the plan file's directory, so that `iac apply PLANFILE` finds it from
    /// any working directory. Both files are resolved (symbolic links followed) first; when
    /// no relative path exists (another drive), the absolute path is recorded.
    pub fn annotate_saved(&self, plan_json: &str, plan_file: &Path) -> String {
        let from_plan = plan_dir(plan_file)
            .canonicalize()
            .ok()
            .zip(self.stack_file.canonicalize().ok())
            .map(|(dir, stack)| relative_path(&dir, &stack).unwrap_or(stack));
        self.annotate_with(plan_json, from_plan.as_deref())
    }

    fn annotate_with(&self, plan_json: &str, from_plan: Option<&Path>) -> String {
        let Ok(Json::Object(mut doc)) = serde_json::from_str::<Json>(plan_json) else {
            return plan_json.to_string();
        };
        doc.insert(
            STACK_FILE_KEY.into(),
            Json::String(self.stack_file.display().to_string()),
        );
        if let Some(rel) = from_plan {
            doc.insert(
                FROM_PLAN_KEY.into(),
                Json::String(rel.display().to_string()),
            );
        }
        if let Some(url) = &self.url {
            doc.insert(STATE_KEY.into(), Json::String(url.clone()));
        }
        let mut text = serde_json::to_string_pretty(&Json::Object(doc)).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The location recorded in the JSON of the plan read from `plan_file`, if any: the
    /// stack file found from the plan's directory when the plan says where it is from
    /// there, else (plans saved by older versions, or `iac plan --json > FILE`) from the
    /// working directory.
    pub fn from_plan_json(doc: &Json, plan_file: &Path) -> Option<StateLocation> {
        let stack_file = match doc.get(FROM_PLAN_KEY).and_then(Json::as_str) {
            Some(rel) => plan_dir(plan_file).join(rel),
            None => PathBuf::from(doc.get(STACK_FILE_KEY)?.as_str()?),
        };
        Some(StateLocation {
            stack_file,
            url: doc
                .get(STATE_KEY)
                .and_then(Json::as_str)
                .map(str::to_string),
        })
    }

    /// The backend that stores this state: the local file, or S3 through `aws` (the
    /// caller connects first when [`StateLocation::is_remote`]). The error is boxed: a
    /// [`Diag`] is large and this is the cold path.
    pub fn backend(
        &self,
        stack: &str,
        aws: Option<&AwsContext>,
    ) -> Result<Box<dyn StateBackend>, Box<Diag>> {
        let Some(url) = &self.url else {
            return Ok(Box::new(LocalBackend::for_stack_file(
                &self.stack_file,
                stack,
            )));
        };
        let Some(ctx) = aws else {
            // Callers connect before opening a remote state; this is a wiring mistake.
            return Err(Box::new(
                Diag::error(
                    "iac::state::unsupported",
                    format!("the state `{url}` needs an AWS connection, and none was made"),
                )
                .help("this is a bug in iac: please report it with the command line"),
            ));
        };
        S3Backend::new(ctx, url, stack)
            .map(|b| Box::new(b) as Box<dyn StateBackend>)
            .map_err(|e| {
                Box::new(Diag::error("iac::state::url", e.to_string()).help(
                    "write `state: s3://BUCKET/KEY.json`, or remove `state:` for local state",
                ))
            })
    }

    /// The state is not a local file: opening it needs an AWS connection.
    pub fn is_remote(&self) -> bool {
        self.url.is_some()
    }
}

/// [`StateLocation::backend`], printing the error.
pub fn open(
    location: &StateLocation,
    stack: &str,
    aws: Option<&AwsContext>,
    printer: &Printer,
) -> Result<Box<dyn StateBackend>, ExitCode> {
    location.backend(stack, aws).map_err(|d| {
        printer.diagnostic(&d);
        ExitCode::from(Exit::Error)
    })
}

/// Take the lock for `operation`, waiting up to `--lock-timeout` for a busy one with a
/// progress line naming the holder; a lock still held then is an error naming the holder,
/// its lock id and the `iac force-unlock` command for `stack_file`.
pub async fn lock(
    backend: &dyn StateBackend,
    stack: &str,
    stack_file: &Path,
    operation: &str,
    args: &LockArgs,
    printer: &Printer,
) -> Result<StateLock, ExitCode> {
    let timeout = args.lock_timeout;
    let waiting = |holder: &LockInfo, waited: std::time::Duration| {
        printer.note(&format!(
            "Waiting for the state lock of `{stack}` ({}s of {}s): held by {holder}",
            waited.as_secs(),
            timeout.as_secs()
        ));
    };
    lock_waiting(backend, operation, timeout, waiting)
        .await
        .map_err(|e| {
            let d = lock_diag(&e, stack_file).unwrap_or_else(|| state_diag(&e, backend));
            printer.diagnostic(&d);
            ExitCode::from(Exit::Error)
        })
}

/// A lock error as a diagnostic, with the exact `iac force-unlock` command for
/// `stack_file`; `None` for other errors.
pub fn lock_diag(e: &StateError, stack_file: &Path) -> Option<Diag> {
    match e {
        StateError::Locked { holder, .. } => Some(locked_diag(e, holder, stack_file)),
        StateError::LockIdMismatch { holder, .. } => Some(mismatch_diag(e, holder, stack_file)),
        _ => None,
    }
}

/// `iac force-unlock FILE ID` for this holder's lock.
fn unlock_command(holder: &LockInfo, stack_file: &Path) -> String {
    format!(
        "iac force-unlock {} {}",
        display_path(stack_file).display(),
        holder.id
    )
}

/// A busy lock (`iac::state::locked`), or one whose holder is a process known to be gone
/// (`iac::state::stale_lock`).
fn locked_diag(e: &StateError, holder: &LockInfo, stack_file: &Path) -> Diag {
    let unlock = unlock_command(holder, stack_file);
    if holder.holder_gone() {
        return Diag::error(
            "iac::state::stale_lock",
            format!("{e}, and that process is gone: the lock is stale"),
        )
        .help(format!(
            "no process {} runs on `{}`, so its run ended without releasing the lock; \
             break it with `{unlock}`, then run `iac plan` to see what that run left",
            holder.pid, holder.host
        ));
    }
    Diag::error("iac::state::locked", e.to_string()).help(format!(
        "wait for that run to finish (`--lock-timeout 5m` waits for it); if it is gone \
         (a crashed machine), break the lock with `{unlock}`"
    ))
}

/// `force-unlock` given another id than the lock's (`iac::state::lock_id_mismatch`).
fn mismatch_diag(e: &StateError, holder: &LockInfo, stack_file: &Path) -> Diag {
    Diag::error("iac::state::lock_id_mismatch", e.to_string()).help(format!(
        "give the id the lock error shows; if the run holding this lock is gone too, break \
         it with `{}`",
        unlock_command(holder, stack_file)
    ))
}

/// The stored state, or an empty one for a stack never applied.
pub async fn load(
    backend: &dyn StateBackend,
    stack: &str,
    printer: &Printer,
) -> Result<State, ExitCode> {
    match backend.load().await {
        Ok(Some(state)) => Ok(state),
        Ok(None) => Ok(State::new(stack)),
        Err(e) => {
            printer.diagnostic(&state_diag(&e, backend));
            Err(Exit::Error.into())
        }
    }
}

/// The stored state without a default: `None` for a stack never applied.
pub async fn load_existing(
    backend: &dyn StateBackend,
    printer: &Printer,
) -> Result<Option<State>, ExitCode> {
    backend.load().await.map_err(|e| {
        printer.diagnostic(&state_diag(&e, backend));
        ExitCode::from(Exit::Error)
    })
}

/// A state error as a diagnostic, with what to do about it.
pub fn state_diag(e: &StateError, backend: &dyn StateBackend) -> Diag {
    let location = backend.location();
    let (code, help) = match e {
        StateError::Locked { holder, .. } => {
            return locked_diag(e, holder, Path::new("STACK_FILE"))
        }
        StateError::LockIdMismatch { holder, .. } => {
            return mismatch_diag(e, holder, Path::new("STACK_FILE"))
        }
        StateError::Version(_) => (
            "iac::state::version",
            "use the iac version that wrote this state, or a newer one".to_string(),
        ),
        StateError::Corrupt(_) => (
            "iac::state::corrupt",
            format!("the previous version is kept beside it as `{location}.backup`: check it and copy it over the damaged file"),
        ),
        StateError::Io { .. } => (
            "iac::state::io",
            format!("check that the directory of `{location}` exists and is writable"),
        ),
        StateError::Backend(_) => (
            "iac::state::backend",
            "check access to the state storage and run the command again".to_string(),
        ),
    };
    Diag::error(code, format!("state `{location}`: {e}")).help(help)
}

/// The directory a plan file is in (`.` for a bare file name).
fn plan_dir(plan_file: &Path) -> &Path {
    match plan_file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `to` relative to the directory `from` (both absolute and resolved): `../stacks/a.yaml`.
/// `None` when they share no root (another drive on Windows).
pub fn relative_path(from: &Path, to: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    if from.first() != to.first() {
        return None;
    }
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to[common..] {
        rel.push(c.as_os_str());
    }
    Some(rel)
}

/// The location of the state of a stack loaded from `stack_file`.
pub fn location_of(stack_file: &Path, state_url: Option<&str>) -> StateLocation {
    StateLocation {
        stack_file: stack_file.to_path_buf(),
        url: state_url.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printed_plan_carries_its_state_location_from_the_working_directory() {
        let loc = location_of(Path::new("stacks/demo.yaml"), None);
        let text = loc.annotate("{\"format_version\": 1, \"stack\": \"demo\"}");
        let doc: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["format_version"], 1);
        assert!(doc.get(FROM_PLAN_KEY).is_none());
        let read = StateLocation::from_plan_json(&doc, Path::new("elsewhere/p.json"));
        assert_eq!(read, Some(loc));
    }

    #[test]
    fn a_saved_plan_finds_the_stack_from_its_own_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
        std::fs::create_dir_all(dir.path().join("out/plans")).unwrap();
        let stack = dir.path().join("stacks/demo.yaml");
        std::fs::write(&stack, "stack: demo\n").unwrap();
        let loc = location_of(&stack, Some("s3://b/k.json"));
        let plan_file = dir.path().join("out/plans/p.json");
        let text = loc.annotate_saved("{\"format_version\": 1}", &plan_file);
        let doc: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(doc[FROM_PLAN_KEY], "../../stacks/demo.yaml");
        assert_eq!(doc[STATE_KEY], "s3://b/k.json");
        let read = StateLocation::from_plan_json(&doc, &plan_file).unwrap();
        assert_eq!(
            read.stack_file.canonicalize().unwrap(),
            stack.canonicalize().unwrap()
        );
        assert_eq!(read.url.as_deref(), Some("s3://b/k.json"));
    }

    #[test]
    fn relative_paths_climb_to_the_common_directory() {
        let rel = |a: &str, b: &str| relative_path(Path::new(a), Path::new(b));
        assert_eq!(
            rel("/r/a/b", "/r/s.yaml"),
            Some(PathBuf::from("../../s.yaml"))
        );
        assert_eq!(rel("/r", "/r/x/s.yaml"), Some(PathBuf::from("x/s.yaml")));
        assert_eq!(
            rel("/r/p", "/r/q/s.yaml"),
            Some(PathBuf::from("../q/s.yaml"))
        );
    }

    #[test]
    fn local_state_is_beside_the_stack_and_needs_no_aws() {
        let loc = location_of(Path::new("stacks/demo.yaml"), None);
        assert!(!loc.is_remote());
        let b = loc.backend("demo", None).unwrap();
        assert_eq!(b.location(), "stacks/.iac/state/demo.json");
        let remote = location_of(Path::new("demo.yaml"), Some("s3://b/k.json"));
        assert!(remote.is_remote());
        let err = remote.backend("demo", None).err().unwrap();
        assert_eq!(err.code, "iac::state::unsupported");
    }
}
