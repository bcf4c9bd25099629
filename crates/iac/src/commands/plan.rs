//! `iac plan STACK`: what would change to make AWS match the stack; with `--destroy`, what
//! `iac destroy STACK` would delete (the same engine call). `--out FILE` saves either for
//! `iac apply FILE`.
//!
//! Also the first half of `iac apply STACK` and `iac destroy STACK`: [`Session::open`] does
//! what every engine command does first, in an order that keeps mistakes cheap:
//! 1. load and check the stack locally (a broken stack makes no AWS call, takes no lock);
//! 2. read the outputs of the other stacks its `iac.stack` resources name, from their states
//!    (before any AWS call when those are local; not for destroy and sweep);
//! 3. connect to AWS and prove the connection with one read (credentials, endpoint; not for
//!    `--refresh=false`);
//! 4. open the state backend, take the lock for the whole run (apply, destroy: not plan,
//!    which only reads), load the state.
//!
//! `iac plan` takes no lock: it reads the state (every save is atomic, and a local journal's
//! torn last line is ignored, so a reader sees a whole version) and writes nothing to it. A
//! plan made while another run applies may be out of date; a saved one is then refused at
//! apply by the state's serial and lineage.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use iac_aws::AwsProvider;
use iac_engine::{
    check_replace, plan, plan_destroy_live, plan_refresh_only, render_markdown, render_plan,
    Action, Found, Plan, PlanError, PlanKind, PlanOptions, State, StateBackend, StateLock,
};
use iac_stack::{Diag, Loaded, Stack};

use super::aws::{connect, Target};
use super::backend::{self, location_of, StateLocation};
use super::load::{load_and_report, StackRequest};
use super::stack_refs;
use super::Exit;
use crate::cli::{AwsArgs, LockArgs, PlanArgs, PlanFormat};
use crate::printer::Printer;

/// What a session takes of the state lock.
#[derive(Debug, Clone, Copy)]
pub enum Locking<'a> {
    /// None: the session only reads the state (`iac plan`).
    Read,
    /// The lock, for the whole session, recorded as `operation` (`apply`, `destroy`),
    /// waiting for a busy one as `args` say.
    Exclusive {
        operation: &'a str,
        args: &'a LockArgs,
    },
}

/// A stack loaded, connected to AWS, its state loaded (and locked, unless the session only
/// reads it).
pub struct Session {
    pub loaded: Loaded,
    pub location: StateLocation,
    pub provider: Arc<AwsProvider>,
    pub backend: Box<dyn StateBackend>,
    /// Held until the session is dropped: the whole plan and apply run under it. `None`
    /// for [`Locking::Read`].
    pub _lock: Option<StateLock>,
    pub state: State,
    /// The outputs of the other stacks the stack reads (`iac.stack` resources), read from
    /// their states.
    pub resolved: HashMap<String, Found>,
}

impl Session {
    /// Steps 1 to 3 of the module docs; every failure is printed, `Err` is the exit code.
    pub async fn open(
        req: &StackRequest<'_>,
        aws: &AwsArgs,
        locking: Locking<'_>,
        printer: &Printer,
    ) -> Result<Session, ExitCode> {
        Session::open_replacing(req, aws, locking, &[], true, printer).await
    }

    /// [`Session::open`], checking first (before any AWS call) that every `--replace NAME`
    /// names a resource of the stack. `probe`: prove the connection with one read (not
    /// for `--refresh=false`, which makes no AWS call but the state's).
    pub async fn open_replacing(
        req: &StackRequest<'_>,
        aws: &AwsArgs,
        locking: Locking<'_>,
        replace: &[String],
        probe: bool,
        printer: &Printer,
    ) -> Result<Session, ExitCode> {
        let check = |stack: &Stack| {
            check_replace(stack, replace)
                .err()
                .map(|e| plan_diag(&e, stack))
        };
        Session::open_checked(req, aws, locking, &check, probe, printer).await
    }

    /// [`Session::open`] with the command's own local `check` of the loaded stack, made
    /// before any AWS call: the problem it finds, if any, is printed and stops the command.
    pub async fn open_checked(
        req: &StackRequest<'_>,
        aws: &AwsArgs,
        locking: Locking<'_>,
        check: &dyn Fn(&Stack) -> Option<Diag>,
        probe: bool,
        printer: &Printer,
    ) -> Result<Session, ExitCode> {
        let loaded = load_and_report(req, printer)?;
        let stack = &loaded.stack;
        if let Some(d) = check(stack) {
            printer.diagnostic(&d);
            return Err(Exit::Error.into());
        }
        let location = location_of(req.stack, stack.state.as_deref());
        // Other stacks' outputs: read before any AWS call when their states are local.
        // A destroy (or a sweep) reads no other stack: the stacks it read may be gone.
        let gone_ok = matches!(
            locking,
            Locking::Exclusive {
                operation: "destroy" | "sweep",
                ..
            }
        );
        let refs = if gone_ok {
            Vec::new()
        } else {
            stack_refs::refs_of(stack, &location)
        };
        let mut resolved = if stack_refs::any_remote(&refs) {
            None
        } else {
            Some(stack_refs::resolve(stack, &refs, None, printer).await?)
        };
        let target = Target {
            region: stack.region.as_deref(),
            aws,
        };
        let provider = Arc::new(connect(&target, &stack.name, probe, printer).await?);
        if resolved.is_none() {
            resolved =
                Some(stack_refs::resolve(stack, &refs, Some(provider.aws()), printer).await?);
        }
        let backend = backend::open(&location, &stack.name, Some(provider.aws()), printer)?;
        let lock = match locking {
            Locking::Read => None,
            Locking::Exclusive { operation, args } => Some(
                backend::lock(
                    backend.as_ref(),
                    &stack.name,
                    req.stack,
                    operation,
                    args,
                    printer,
                )
                .await?,
            ),
        };
        let state = backend::load(backend.as_ref(), &stack.name, printer).await?;
        Ok(Session {
            loaded,
            location,
            provider,
            backend,
            _lock: lock,
            state,
            resolved: resolved.unwrap_or_default(),
        })
    }

    pub fn stack(&self) -> &Stack {
        &self.loaded.stack
    }

    /// Plan the stack against the state (`--target`, `--replace`, `--refresh=false`), or
    /// only what changed in AWS (`--refresh-only`); errors are printed as diagnostics. A
    /// plan that changes AWS carries its monthly cost estimate ([`iac_cost::plan_cost`]).
    pub async fn plan(
        &self,
        opts: &PlanOptions,
        refresh_only: bool,
        printer: &Printer,
    ) -> Result<Plan, ExitCode> {
        let planned = if refresh_only {
            plan_refresh_only(self.stack(), &self.state, self.provider.clone()).await
        } else {
            let mut opts = opts.clone();
            opts.resolved = self.resolved.clone();
            plan(self.stack(), &self.state, self.provider.clone(), &opts).await
        };
        let mut plan = planned.map_err(|e| {
            printer.diagnostic(&plan_diag(&e, self.stack()));
            ExitCode::from(Exit::Error)
        })?;
        if !plan.refresh_only {
            plan.cost = Some(iac_cost::plan_cost(&plan, &self.stack().usage));
        }
        Ok(plan)
    }
}

impl Session {
    /// The destroy plan of `iac destroy` and `iac plan --destroy`: everything the state
    /// holds (or the `targets` and what depends on them), what an interrupted apply left,
    /// and the stack's orphans unless `keep_orphans`, with its monthly cost estimate; errors
    /// are printed as diagnostics.
    pub async fn plan_destroy(
        &self,
        targets: &[String],
        keep_orphans: bool,
        printer: &Printer,
    ) -> Result<Plan, ExitCode> {
        let opts = PlanOptions {
            targets: targets.to_vec(),
            keep_orphans,
            ..PlanOptions::default()
        };
        let mut plan = plan_destroy_live(self.stack(), &self.state, self.provider.clone(), &opts)
            .await
            .map_err(|e| {
                printer.diagnostic(&plan_diag(&e, self.stack()));
                ExitCode::from(Exit::Error)
            })?;
        plan.cost = Some(iac_cost::plan_cost(&plan, &self.stack().usage));
        Ok(plan)
    }
}

/// A plan error as a diagnostic. A protected resource the plan would destroy or replace is
/// labelled at its name in the stack file.
pub fn plan_diag(e: &PlanError, stack: &Stack) -> Diag {
    match e {
        PlanError::Protected(list) => {
            let mut d = Diag::error("iac::plan::protected", e.to_string()).in_file(&stack.source);
            for (name, action) in list {
                if let Some(r) = stack.resources.get(name) {
                    let what = if *action == Action::Replace {
                        "protected, and this plan must replace it"
                    } else {
                        "protected, and this plan would destroy it"
                    };
                    d = d.label(r.spans.name, what);
                }
            }
            d.help("remove `protect: true` from it first if destroying it is really intended")
        }
        PlanError::Foreign(list) => {
            let mut d = Diag::error("iac::plan::foreign", e.to_string()).in_file(&stack.source);
            for f in list {
                if let Some(r) = stack.resources.get(&f.name) {
                    d = d.label(
                        r.spans.name,
                        format!("its AWS name is taken by `{}`, which is {}", f.physical_id, f.owner),
                    );
                }
            }
            d.help("use the object read-only with `existing: true`, give the resource another name (e.g. `name:`), or remove the other object")
        }
        PlanError::UnknownTarget(_) => Diag::error("iac::plan::target", e.to_string())
            .help("name a resource of the stack (`iac state list` shows those in the state)"),
        PlanError::UnknownReplace(_) | PlanError::ReplaceExisting(_) => {
            Diag::error("iac::plan::replace", e.to_string())
                .help("name a resource of the stack that iac creates (not an `existing: true` lookup)")
        }
        PlanError::Move { to, .. } => {
            let d = Diag::error("iac::plan::moved", e.to_string());
            let d = match stack.moved.iter().find(|m| &m.to == to) {
                Some(m) => d.in_file(&stack.source).label(m.to_span, "this move"),
                None => d,
            };
            d.help("`iac state list` shows what the state holds; `iac state rm` forgets an object, `iac state mv` renames one")
        }
        PlanError::NameHeld(list) => {
            let mut d = Diag::error("iac::plan::name_held", e.to_string()).in_file(&stack.source);
            for f in list {
                if let Some(r) = stack.resources.get(&f.name) {
                    d = d.label(r.spans.name, format!("its AWS name is held by `{}`", f.physical_id));
                }
            }
            d.help("give the resource another `name:` (or drop `name:` and iac picks a fresh one), or remove the other object")
        }
        PlanError::WrongStack { .. } => Diag::error("iac::plan::wrong_stack", e.to_string())
            .help("each stack needs its own state: check `stack:` and `state:` in the stack file"),
        PlanError::ExistingNotFound { name, .. } => {
            let d = Diag::error("iac::plan::existing", e.to_string());
            let d = match stack.resources.get(name) {
                Some(r) => d
                    .in_file(&stack.source)
                    .label(r.spans.existing.unwrap_or(r.spans.name), "looked up, not created"),
                None => d,
            };
            d.help("create it first (or drop `existing: true` to let iac create it), or check its identifying properties and the region")
        }
        PlanError::Recover { .. } => Diag::error("iac::plan::recover", e.to_string()).help(
            "an earlier apply was interrupted while creating it; run the command again once AWS answers, and nothing is created twice",
        ),
        // A lookup that found several objects, or refers to what the stack manages.
        PlanError::Lookup { name, source } if source.kind == iac_engine::ErrorKind::Conflict => {
            let d = Diag::error("iac::plan::lookup", e.to_string());
            let d = match stack.resources.get(name) {
                Some(r) => d
                    .in_file(&stack.source)
                    .label(r.spans.existing.unwrap_or(r.spans.name), "looked up here"),
                None => d,
            };
            d.help("make the lookup single out one object (a tag or property that tells them apart, or `existing: { id: ID }`), and let it refer only to other `existing` resources")
        }
        PlanError::Read { .. } | PlanError::Lookup { .. } => {
            Diag::error("iac::plan::refresh", e.to_string()).help(
                "run the command again; if it keeps failing, check the credentials' permissions",
            )
        }
        PlanError::Import(list) => match list.as_slice() {
            [one] => super::import::import_diag(one, stack),
            _ => {
                let mut d = Diag::error("iac::plan::import", e.to_string()).in_file(&stack.source);
                for i in list {
                    if let Some(r) = stack.resources.get(i.name()) {
                        d = d.label(r.spans.import.unwrap_or(r.spans.name), i.to_string());
                    }
                }
                d.help("fix each `import:` id, or remove the key; nothing was changed")
            }
        },
        PlanError::Priority(p) => {
            let d = Diag::error("iac::plan::priority", e.to_string());
            let d = match stack.resources.get(&p.rule) {
                Some(r) => d.in_file(&stack.source).label(r.spans.name, "no priority written"),
                None => d,
            };
            d.help("existing rules keep their priorities (see docs/listener-rules.md); nothing was changed")
        }
        PlanError::NeedsRefresh(_) => Diag::error("iac::plan::needs_refresh", e.to_string())
            .help("plan without `--refresh=false` once; later plans can skip the refresh"),
        PlanError::Version(_) | PlanError::Corrupt(_) => {
            Diag::error("iac::plan::file", e.to_string())
                .help("make the plan again with `iac plan --out FILE`")
        }
    }
}

/// The plan JSON as `--json` prints it and `--out` saves it: the engine's format plus
/// where the state is (see [`StateLocation`]).
pub fn plan_json(plan: &Plan, location: &StateLocation) -> String {
    location.annotate(&plan.to_json())
}

pub fn run(args: &PlanArgs, printer: &Printer) -> ExitCode {
    super::block_on_interruptible(printer, run_async(args, printer))
}

async fn run_async(args: &PlanArgs, printer: &Printer) -> ExitCode {
    {
        let req = StackRequest::from(&args.stack);
        let session = match Session::open_replacing(
            &req,
            &args.aws,
            Locking::Read,
            &args.replace,
            args.refresh,
            printer,
        )
        .await
        {
            Ok(s) => s,
            Err(code) => return code,
        };
        let opts = PlanOptions {
            targets: args.targets.clone(),
            replace: args.replace.clone(),
            no_refresh: !args.refresh,
            ..PlanOptions::default()
        };
        let planned = if args.destroy {
            session
                .plan_destroy(&args.targets, args.keep_orphans, printer)
                .await
        } else {
            session.plan(&opts, args.refresh_only, printer).await
        };
        let plan = match planned {
            Ok(p) => p,
            Err(code) => return code,
        };
        let mut json = plan_json(&plan, &session.location);
        if let Some(out) = &args.out {
            // The saved document (also what `--json` prints then) says where the stack is
            // from the plan file, for `iac apply FILE` run from anywhere.
            json = session.location.annotate_saved(&plan.to_json(), out);
            if let Err(code) = save_plan(out, &json, printer) {
                return code;
            }
        }
        let format = if args.json {
            PlanFormat::Json
        } else {
            args.format
        };
        let text = match format {
            PlanFormat::Json => json,
            PlanFormat::Markdown => render_markdown(&plan),
            PlanFormat::Human => render_plan(&plan, printer.out_color()),
        };
        let code = super::write_out(printer, &text);
        if code != ExitCode::from(Exit::Ok) {
            return code;
        }
        if let (Some(out), PlanFormat::Human) = (&args.out, format) {
            let what = match plan.kind {
                PlanKind::Apply => "apply it",
                PlanKind::Destroy => "carry out the destroy",
            };
            printer.note(&format!(
                "\nSaved the plan to `{}`; {what} with `iac apply {}`",
                out.display(),
                out.display()
            ));
        }
        if args.detailed_exitcode && plan.has_changes() {
            Exit::Changes.into()
        } else {
            Exit::Ok.into()
        }
    }
}

/// Write a saved plan privately (it holds every input, like the state) and atomically.
fn save_plan(path: &Path, json: &str, printer: &Printer) -> Result<(), ExitCode> {
    let tmp: PathBuf = path.with_extension(format!("tmp.{}", std::process::id()));
    let result = (|| {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o.open(&tmp)?;
        f.write_all(json.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        printer.diagnostic(
            &Diag::error(
                "iac::plan::save",
                format!("cannot save the plan to `{}`: {e}", path.display()),
            )
            .help("check that the directory exists and is writable"),
        );
        ExitCode::from(Exit::Error)
    })
}
