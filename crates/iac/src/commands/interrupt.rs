//! Ctrl-C and SIGTERM (what CI runners send) for the commands that hold the state lock.
//!
//! While an apply or destroy runs, they go to the walker: the first Ctrl-C starts nothing
//! new and lets the operations in flight finish; a second Ctrl-C, or SIGTERM, abandons
//! those in flight (their intents stay in the state, and the next plan looks up what they
//! made). Every result that came back is kept either way. Anywhere else (loading the state,
//! planning, the confirmation prompt) the command stops at once: its future is dropped,
//! which releases the lock, and it exits 130 having changed nothing.

use std::future::Future;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, OnceLock};

use iac_engine::CancelToken;
use tokio::sync::Notify;

use super::Exit;
use crate::printer::Printer;
use crate::reporter::Notes;

struct Apply {
    cancel: CancelToken,
    reporter: Arc<dyn Notes>,
    interrupts: u32,
}

#[derive(Default)]
struct Shared {
    apply: Mutex<Option<Apply>>,
    stop: Notify,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

fn shared() -> &'static Shared {
    SHARED.get_or_init(Shared::default)
}

impl Shared {
    fn on_signal(&self, terminate: bool) {
        let mut apply = self.apply.lock().unwrap_or_else(|e| e.into_inner());
        match apply.as_mut() {
            Some(a) => {
                a.interrupts += 1;
                if terminate || a.interrupts > 1 {
                    a.cancel.abort();
                    a.reporter.note(
                        "aborting: operations in flight are abandoned; the state keeps what finished and what was started",
                    );
                } else {
                    a.cancel.cancel();
                    a.reporter.note(
                        "stopping after the operations in flight finish (Ctrl-C again to abort)",
                    );
                }
            }
            // A permit is stored if nobody waits yet, so a signal is never lost.
            None => self.stop.notify_one(),
        }
    }
}

/// Run `work` (a command holding the lock) so that Ctrl-C or SIGTERM outside an apply drops
/// it, releasing the lock, and exits 130. Call inside the command's runtime.
pub async fn interruptible(work: impl Future<Output = ExitCode>, printer: &Printer) -> ExitCode {
    let s = shared();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::spawn(async move {
                    loop {
                        let terminate = tokio::select! {
                            Some(()) = int.recv() => false,
                            Some(()) = term.recv() => true,
                            else => return,
                        };
                        s.on_signal(terminate);
                    }
                });
            }
            _ => printer.note(
                "warning: cannot listen for Ctrl-C and SIGTERM; an interrupt may leave the state lock behind",
            ),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                s.on_signal(false);
            }
        });
    }
    tokio::select! {
        code = work => code,
        () = s.stop.notified() => {
            printer.error("interrupted: stopped before changing anything; the state lock is released");
            Exit::Interrupted.into()
        }
    }
}

/// While the returned guard lives, interrupts go to `cancel` instead of stopping the
/// command.
pub fn during_apply(cancel: CancelToken, reporter: Arc<dyn Notes>) -> ApplyGuard {
    *shared().apply.lock().unwrap_or_else(|e| e.into_inner()) = Some(Apply {
        cancel,
        reporter,
        interrupts: 0,
    });
    ApplyGuard
}

/// See [`during_apply`].
pub struct ApplyGuard;

impl Drop for ApplyGuard {
    fn drop(&mut self) {
        *shared().apply.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
