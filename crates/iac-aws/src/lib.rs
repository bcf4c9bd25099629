//! The AWS provider: the only crate that names `aws-sdk-*`.
//!
//! This layer is the connection: [`AwsConfig`] says how to reach AWS (region, profile,
//! endpoint override for the local emulator), [`AwsContext`] holds one client per service,
//! [`AwsError`] is what every failed call turns into, and [`RequestCounter`] counts the
//! requests sent, per operation.

mod context;
mod error;
pub mod provider;
pub mod resources;
pub mod state;
mod stats;

pub use context::{AwsConfig, AwsContext, Clients, ConfigSource, Service, DEFAULT_MAX_ATTEMPTS};
pub use error::{classify, AwsError};
pub use provider::AwsProvider;
pub use stats::{OperationName, RequestCounter, ServiceCounter};
