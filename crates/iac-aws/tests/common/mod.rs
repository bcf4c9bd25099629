//! What the emulator suites share: a context and a provider on the emulator
//! ([`config`], [`context`], [`provider`]), a little engine that drives [`AwsProvider`] one
//! call at a time the way the real one does ([`little`]), the real engine's plan and apply
//! with a fixture ([`engine`]), stack pieces several suites build ([`fixtures`]), and the
//! look-ups that find what is live ([`live`]).
//!
//! Each suite uses a part of this module, so items unused by one suite are not dead code.
#![allow(dead_code, unused_imports)]

pub mod engine;
pub mod fixtures;
pub mod little;
pub mod live;

pub use engine::*;
pub use fixtures::*;
pub use little::*;
pub use live::*;

use std::time::Duration;

use iac_aws::{AwsConfig, AwsContext, AwsProvider, ConfigSource};
use iac_testkit::{Emulator, REGION};

// ---------------------------------------------------------------------------------------
// Connecting to the emulator.
// ---------------------------------------------------------------------------------------

/// A configuration that reads nothing from this process's environment or files: only the
/// emulator's variables.
pub fn config(emulator: &Emulator) -> AwsConfig {
    AwsConfig {
        source: ConfigSource::Vars(emulator.aws_env()),
        ..AwsConfig::default()
    }
}

/// A context on the emulator, from [`config`].
pub async fn context(emulator: &Emulator) -> AwsContext {
    AwsContext::load(&config(emulator))
        .await
        .expect("config loads")
}

/// A provider for stack `stack` on the emulator.
pub async fn provider(emulator: &Emulator, stack: &str) -> AwsProvider {
    AwsProvider::new(context(emulator).await, stack)
}

/// A configuration for an endpoint at `url` where nothing listens: one attempt, a short
/// connect timeout, test credentials.
pub fn unreachable_config(url: &str) -> AwsConfig {
    AwsConfig {
        endpoint_url: Some(url.to_owned()),
        max_attempts: Some(1),
        connect_timeout: Some(Duration::from_secs(2)),
        source: ConfigSource::Vars(vec![
            ("AWS_ACCESS_KEY_ID".to_owned(), "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "testing".to_owned()),
            ("AWS_REGION".to_owned(), REGION.to_owned()),
        ]),
        ..AwsConfig::default()
    }
}
