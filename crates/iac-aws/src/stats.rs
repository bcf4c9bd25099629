//! Counting the HTTP requests iac sends to AWS.
//!
//! Neither AWS nor the emulator keeps a log of the requests a client made, so the count is
//! taken on our side: [`RequestCounter`] is an SDK interceptor installed on every service
//! client of an [`AwsContext`](crate::AwsContext). Tests use it to prove that a plan reads in
//! batches rather than one call per resource; `iac --stats` can print it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::Service;

/// One AWS operation: the service's short name ([`Service::as_str`]: `ec2`, `iam`, ...) and the
/// operation's API name (`DescribeVpcs`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OperationName {
    pub service: String,
    pub operation: String,
}

impl std::fmt::Display for OperationName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.service, self.operation)
    }
}

#[derive(Debug, Default)]
struct Counts {
    per_operation: BTreeMap<OperationName, u64>,
    /// The scheme, host and port of the last request sent to each service: the address an
    /// "unreachable" error names, whichever way the endpoint was configured.
    endpoints: BTreeMap<String, String>,
    /// Every request in the order it was sent (tests check the order of deletes with it).
    sequence: Vec<OperationName>,
}

/// Counts every HTTP request sent, per operation, retries included.
///
/// Cloning is cheap and every clone shares the same counts, so one counter can be installed
/// on all the service clients of a context and read from anywhere.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<Counts>>,
}

impl RequestCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        // A panic while holding this lock cannot leave the maps half-updated in a way that
        // matters for counting, so a poisoned lock is used as it is.
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The number of requests sent for `service`'s `operation` (e.g. `"ec2"`, `"DescribeVpcs"`).
    pub fn count(&self, service: &str, operation: &str) -> u64 {
        self.lock()
            .per_operation
            .iter()
            .find(|(name, _)| name.service == service && name.operation == operation)
            .map_or(0, |(_, n)| *n)
    }

    /// The number of requests sent, all operations together.
    pub fn total(&self) -> u64 {
        self.lock().per_operation.values().sum()
    }

    /// Every operation called at least once and its count, sorted by service then operation.
    pub fn snapshot(&self) -> Vec<(OperationName, u64)> {
        self.lock()
            .per_operation
            .iter()
            .map(|(name, n)| (name.clone(), *n))
            .collect()
    }

    /// Every request since the last [`RequestCounter::reset`], in the order sent.
    pub fn sequence(&self) -> Vec<OperationName> {
        self.lock().sequence.clone()
    }

    /// The endpoint (`scheme://host[:port]`) the last request to `service` was sent to.
    pub fn last_endpoint(&self, service: &str) -> Option<String> {
        self.lock().endpoints.get(service).cloned()
    }

    /// Back to zero, e.g. between the phases of a test.
    pub fn reset(&self) {
        let mut counts = self.lock();
        counts.per_operation.clear();
        counts.endpoints.clear();
        counts.sequence.clear();
    }

    /// The interceptor to install on `service`'s client: it counts into this counter under
    /// `service`'s short name.
    pub fn interceptor(&self, service: Service) -> ServiceCounter {
        ServiceCounter {
            service,
            counter: self.clone(),
        }
    }

    fn record(&self, service: &str, operation: &str, uri: &str) {
        let mut counts = self.lock();
        let name = OperationName {
            service: service.to_owned(),
            operation: operation.to_owned(),
        };
        counts.sequence.push(name.clone());
        *counts.per_operation.entry(name).or_insert(0) += 1;
        if let Some(origin) = origin_of(uri) {
            counts
                .endpoints
                .insert(service.to_owned(), origin.to_owned());
        }
    }
}

/// `https://ec2.us-east-1.amazonaws.com/?x=1` -> `https://ec2.us-east-1.amazonaws.com`.
fn origin_of(uri: &str) -> Option<&str> {
    let after_scheme = uri.find("://")? + 3;
    let end = uri[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(uri.len(), |i| after_scheme + i);
    Some(&uri[..end])
}

/// The [`RequestCounter`] as installed on one service's client.
///
/// The service is fixed here rather than read from the SDK's operation metadata, whose
/// service names are display names (`Elastic Load Balancing v2`) that may change.
#[derive(Debug, Clone)]
pub struct ServiceCounter {
    service: Service,
    counter: RequestCounter,
}

impl Intercept for ServiceCounter {
    fn name(&self) -> &'static str {
        "iac::RequestCounter"
    }

    /// Called once per HTTP attempt, after signing and just before sending: the point where a
    /// request really leaves, so retries count and requests that never left (no credentials) do not.
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map_or("unknown", |meta| meta.name());
        self.counter
            .record(self.service.as_str(), operation, context.request().uri());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_strips_path_and_query() {
        assert_eq!(
            origin_of("https://ec2.us-east-1.amazonaws.com/?Action=DescribeVpcs"),
            Some("https://ec2.us-east-1.amazonaws.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:5000"),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(origin_of("not a url"), None);
    }

    #[test]
    fn counts_are_shared_between_clones() {
        let counter = RequestCounter::new();
        let clone = counter.clone();
        clone.record("ec2", "DescribeVpcs", "http://127.0.0.1:1/");
        clone.record("ec2", "DescribeVpcs", "http://127.0.0.1:1/");
        clone.record("iam", "GetRole", "https://iam.amazonaws.com/");
        assert_eq!(counter.count("ec2", "DescribeVpcs"), 2);
        assert_eq!(counter.count("iam", "GetRole"), 1);
        assert_eq!(counter.count("ec2", "CreateVpc"), 0);
        assert_eq!(counter.total(), 3);
        assert_eq!(
            counter.last_endpoint("iam").as_deref(),
            Some("https://iam.amazonaws.com")
        );
        let names: Vec<String> = counter
            .snapshot()
            .iter()
            .map(|(n, c)| format!("{n}={c}"))
            .collect();
        assert_eq!(names, ["ec2:DescribeVpcs=2", "iam:GetRole=1"]);
        counter.reset();
        assert_eq!(clone.total(), 0);
    }
}
