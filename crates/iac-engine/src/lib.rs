//! The engine of iac: plan, apply and destroy a [`iac_stack::Stack`] against a
//! [`Provider`], keeping a crash-safe [`State`].
//!
//! Architecture invariant: this crate names no AWS SDK type and never touches the
//! terminal. Clouds come in through [`Provider`], progress goes out through [`Reporter`],
//! and state is stored through [`StateBackend`]. `fake::FakeProvider` is an in-memory
//! cloud for tests, behind the `fake` cargo feature (off by default, so not in the binary).
//!
//! The flow the binary drives:
//! 1. `backend.lock(op)`, `backend.load()` (or [`State::new`]);
//! 2. [`plan()`] (or [`plan_destroy`]) -> [`Plan`]; show it with [`render_plan`] or
//!    [`Plan::to_json`]; save it with [`Plan::to_json`] and read it back with
//!    [`Plan::from_json`];
//! 3. [`apply()`] -> [`ApplyReport`] (the state is saved after every operation).

pub mod apply;
pub mod backoff;
pub mod bounded;
#[cfg(feature = "fake")]
pub mod fake;
mod operation;
pub mod plan;
pub use plan::import;
pub use state::lock;
pub mod plan_cost;
pub use plan::priorities;
pub mod provider;
pub mod refresh;
pub mod render;
pub mod report;
pub mod state;
pub mod state_ops;
pub mod sweep;
mod util;

pub use apply::{apply, ApplyError, ApplyOptions, ApplyReport, CancelToken, OpRecord, RetryPolicy};
pub use backoff::Backoff;
pub use import::{Import, ImportError};
pub use lock::lock_waiting;
pub use plan::{
    check_replace, plan, plan_destroy, plan_destroy_live, stack_hash, Action, Change, Drift,
    ForeignObject, ImpliedDependency, LiveValue, Orphan, Plan, PlanError, PlanKind, PlanOptions,
    PulledIn, ReplaceStrategy, Replacement, StalePlan, Summary, PLAN_FORMAT_VERSION,
};
pub use plan_cost::{PlanCost, ResourceCost};
pub use provider::{
    Created, ErrorKind, Existing, Found, Imported, Live, OpContext, Provider, ProviderError,
    ReadRequest, ReadResult, Tagged,
};
pub use refresh::{plan_refresh_only, Refreshed};
pub use render::{render_markdown, render_plan, KNOWN_AFTER_APPLY};
pub use report::{Event, NullReporter, OpKind, Outcome, RecordingReporter, Reporter};
pub use state::{
    Deposed, Edit, Forgotten, Intent, IntentOp, LocalBackend, LockInfo, ResourceState, State,
    StateBackend, StateError, StateLock, STATE_VERSION,
};
pub use state_ops::StateEditError;
