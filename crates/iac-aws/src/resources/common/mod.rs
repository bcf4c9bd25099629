//! Helpers every resource module shares, one module per job: [`errors`] (AWS failures as
//! [`ProviderError`](iac_engine::provider::ProviderError) with their code as data),
//! [`inputs`] (reading the engine's JSON inputs), [`tags`], [`wait`] (the one bounded poll
//! with backoff), [`batch`] (batched and bounded reads), [`tokens`] (idempotency tokens),
//! [`owner`] (whose an object found by `find` is), [`tag_updates`] (the remove-then-add
//! tag update) and [`tagged`] (what a read by the
//! stack's tag keeps for the plan's orphan check).
//!
//! Everything is re-exported here, so resource modules import from `common` alone.

pub mod batch;
pub mod errors;
pub mod inputs;
pub mod owner;
pub mod tag_updates;
pub mod tagged;
pub mod tags;
pub mod tokens;
pub mod wait;

pub use batch::*;
pub use errors::*;
pub use inputs::*;
pub use owner::*;
pub use tag_updates::*;
pub use tagged::*;
pub use tags::*;
pub use tokens::*;
pub use wait::*;
