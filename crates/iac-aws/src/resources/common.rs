//! Helpers every resource module shares: error conversion, tags, waiting and retrying.
//!
//! The engine speaks [`ProviderError`] with a few [`ErrorKind`]s that decide what it does
//! next (retry, treat as gone, report a dependency); [`provider_error`] maps the connection
//! layer's [`AwsError`] onto them once, so resource modules only write `.map_err(cx.err(..))`.
//!
//! Waiting is always a bounded poll with exponential backoff and jitter ([`poll_until`]),
//! never a fixed sleep: the emulator answers in milliseconds and AWS in minutes, and both
//! should be waited for no longer than needed.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use iac_engine::provider::{ErrorKind, Existing, Live, OpContext, ProviderError, ReadRequest};
use serde_json::{Map, Value as Json};
use tokio::time::Instant;

use super::{Cx, ResourceType};
use crate::{AwsError, Service};

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// AWS codes for "this already exists", which [`AwsError`] files under `Other`.
fn is_duplicate_code(code: &str) -> bool {
    code.contains("Duplicate") || code.contains("AlreadyExists") || code.ends_with("Exists")
}

/// AWS codes for a server-side failure worth retrying.
fn is_server_code(code: &str) -> bool {
    matches!(
        code,
        "InternalError"
            | "InternalFailure"
            | "InternalServerError"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "Unavailable"
            | "InsufficientAddressCapacity"
    ) || code.starts_with("HTTP 5")
}

/// Codes meaning "something else still uses it", as opposed to other conflicts.
fn is_dependency_code(code: &str) -> bool {
    code == "DependencyViolation" || code.contains("InUse") || code == "DeleteConflict"
}

/// The engine's view of an AWS failure.
///
/// The kind decides what the walker does: `Throttled`/`Retryable` are retried with backoff,
/// `NotFound` makes a delete count as done, `Dependency` names something still in use, and
/// `Fatal` stops with the message, which carries the `help` of the [`AwsError`] so the user
/// sees what to do (e.g. how to provide credentials).
pub fn provider_error(err: AwsError) -> ProviderError {
    let kind = match &err {
        AwsError::Throttled { .. } => ErrorKind::Throttled,
        AwsError::NotFound { .. } => ErrorKind::NotFound,
        AwsError::Unreachable { .. } => ErrorKind::Retryable,
        AwsError::Conflict { code, .. } if is_dependency_code(code) => ErrorKind::Dependency,
        AwsError::Conflict { .. } => ErrorKind::Conflict,
        AwsError::Other { code, .. } if is_duplicate_code(code) => ErrorKind::Conflict,
        AwsError::Other { code, .. } if is_server_code(code) => ErrorKind::Retryable,
        _ => ErrorKind::Fatal,
    };
    let message = match err.help() {
        Some(help) => format!("{err}; {help}"),
        None => err.to_string(),
    };
    let mut out = ProviderError::new(kind, message);
    out.code = err.code().map(str::to_owned);
    out.request_id = err.request_id().map(str::to_owned);
    out
}

/// A failure on the server's side (`InternalFailure`, an HTTP 5xx, also one whose body is
/// not AWS's JSON, such as an HTML error page), as opposed to one of the connection (which
/// has no code) or of the request. The SDK has already retried it.
pub fn is_server_failure(err: &ProviderError) -> bool {
    err.code().is_some_and(|code| {
        is_server_code(code) || code.starts_with("unreadable response, HTTP status 5")
    })
}

impl Cx {
    /// A `map_err` adapter: `.map_err(cx.err(Service::Ec2, "CreateVpc"))`.
    pub fn err<E>(
        &self,
        service: Service,
        operation: &'static str,
    ) -> impl FnOnce(SdkError<E, HttpResponse>) -> ProviderError + '_
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        move |e| provider_error(self.aws.classify(service, operation, e))
    }
}

/// An input the engine should have supplied but did not: a bug in the engine or the schema,
/// reported rather than panicked on.
pub fn missing_input(rtype: &str, prop: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Fatal,
        format!("`{rtype}` was given no `{prop}`; it is required"),
    )
}

/// A required string input.
pub fn req_str<'a>(inputs: &'a Json, rtype: &str, prop: &str) -> Result<&'a str, ProviderError> {
    inputs
        .get(prop)
        .and_then(Json::as_str)
        .ok_or_else(|| missing_input(rtype, prop))
}

/// An optional boolean input with its default.
pub fn bool_or(inputs: &Json, prop: &str, default: bool) -> bool {
    inputs.get(prop).and_then(Json::as_bool).unwrap_or(default)
}

/// A list of strings input (absent: empty).
pub fn str_list(inputs: &Json, prop: &str) -> Vec<String> {
    inputs
        .get(prop)
        .and_then(Json::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `live` in the order the list `last` (as last applied) had it, items it did not have
/// after, sorted: AWS returns subnets, security groups, names and policies in its own
/// order, which is not drift.
pub fn order_like(mut live: Vec<String>, last: Option<&Json>) -> Vec<String> {
    let mut position: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in last
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .enumerate()
    {
        position.entry(s).or_insert(i);
    }
    live.sort_by_key(|s| {
        (
            position.get(s.as_str()).copied().unwrap_or(usize::MAX),
            s.clone(),
        )
    });
    live
}

/// A response that lacks a field AWS always sends.
pub fn malformed(operation: &str, field: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Fatal,
        format!("`{operation}` answered without `{field}`"),
    )
}

// ---------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------

/// The tags of the inputs (`tags`, which already holds the engine's `iac:*` and `Name`),
/// as key/value pairs sorted by key. Non-string values are written as JSON text.
pub fn input_tags(inputs: &Json) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = inputs
        .get("tags")
        .and_then(Json::as_object)
        .map(|map| {
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    tags
}

/// Live tags as the `tags` input: AWS's own `aws:*` tags are dropped (nobody can set or
/// remove them, so they are never drift).
pub fn tags_json<I, K, V>(tags: I) -> Json
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    let mut sorted: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in tags {
        let k = k.into();
        if !k.starts_with("aws:") {
            sorted.insert(k, v.into());
        }
    }
    Json::Object(
        sorted
            .into_iter()
            .map(|(k, v)| (k, Json::String(v)))
            .collect(),
    )
}

/// What an update must do to the tags: set `add` (new keys and changed values), remove
/// `remove` (keys no longer wanted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagDiff {
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
}

impl TagDiff {
    /// The difference from the `tags` of `old` inputs to those of `new`.
    pub fn between(old: &Json, new: &Json) -> TagDiff {
        let old: BTreeMap<String, String> = input_tags(old).into_iter().collect();
        let new: BTreeMap<String, String> = input_tags(new).into_iter().collect();
        TagDiff {
            add: new
                .iter()
                .filter(|(k, v)| old.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            remove: old
                .keys()
                .filter(|k| !new.contains_key(*k))
                .cloned()
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

// ---------------------------------------------------------------------------------------
// Waiting and retrying
// ---------------------------------------------------------------------------------------

pub use iac_engine::Backoff;

/// What a wait that ran out of time knows: how long it waited and the last retryable
/// error it polled through, if any.
#[derive(Debug)]
pub struct TimedOut {
    pub waited: Duration,
    pub last_error: Option<ProviderError>,
}

impl TimedOut {
    /// The error [`poll_until`] ends with: `Fatal`, "gave up waiting for `what` after Ns".
    pub fn error(self, what: &str) -> ProviderError {
        let mut message = format!(
            "gave up waiting for {what} after {}s",
            self.waited.as_secs()
        );
        if let Some(e) = self.last_error {
            message.push_str(&format!(" (last error: {})", e.message));
        }
        ProviderError::new(ErrorKind::Fatal, message)
    }
}

/// Polls `check` until it returns `Some`, backing off between attempts, reporting the wait
/// through `op` as "waiting for `what`", for at most `backoff.limit`.
///
/// A retryable error from `check` (throttling, a timeout) is polled through: the wait is
/// bounded anyway. Any other error ends the wait at once. Running out of time is a `Fatal`
/// error naming `what` ([`TimedOut::error`]): the caller must not blindly retry a create
/// whose first attempt may still be finishing.
pub async fn poll_until<T, F, Fut>(
    op: &OpContext,
    what: &str,
    backoff: Backoff,
    check: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    poll_until_else(op, what, backoff, check, |timed_out| timed_out.error(what)).await
}

/// [`poll_until`], with the error for running out of time made by `timed_out` (which can
/// say what the wait last saw).
pub async fn poll_until_else<T, F, Fut, G>(
    op: &OpContext,
    what: &str,
    backoff: Backoff,
    mut check: F,
    timed_out: G,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
    G: FnOnce(TimedOut) -> ProviderError,
{
    let start = Instant::now();
    let mut attempt = 0u32;
    loop {
        let last_error = match check().await {
            Ok(Some(done)) => return Ok(done),
            Ok(None) => None,
            Err(e) if e.is_retryable() => Some(e),
            Err(e) => return Err(e),
        };
        let delay = backoff.delay(attempt);
        if start.elapsed() + delay > backoff.limit {
            return Err(timed_out(TimedOut {
                waited: start.elapsed(),
                last_error,
            }));
        }
        if attempt == 0 || attempt % 4 == 0 {
            op.waiting(what);
        }
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

/// Runs `attempt` (a delete) again while AWS refuses it with a dependency error (e.g.
/// `DependencyViolation` while the network interfaces of a deleted load balancer drain),
/// backing off, for at most `backoff.limit`.
///
/// When time runs out, the error is a `Dependency` naming `what`, AWS's last answer and,
/// from `dependents`, what still uses it (e.g. `eni-0abc (ELB app/web/123)`), so the user
/// knows what to remove.
pub async fn retry_dependency<T, F, Fut, D, DFut>(
    op: &OpContext,
    what: &str,
    backoff: Backoff,
    mut attempt: F,
    dependents: D,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
    D: FnOnce() -> DFut,
    DFut: Future<Output = Vec<String>>,
{
    let start = Instant::now();
    let mut n = 0u32;
    loop {
        let err = match attempt().await {
            Ok(done) => return Ok(done),
            Err(e) if e.kind == ErrorKind::Dependency => e,
            Err(e) => return Err(e),
        };
        let delay = backoff.delay(n);
        if start.elapsed() + delay > backoff.limit {
            let users = dependents().await;
            let mut message = format!(
                "{what} is still in use after {}s of retrying the delete: {}",
                start.elapsed().as_secs(),
                err.message
            );
            if !users.is_empty() {
                message.push_str(&format!("; still depending on it: {}", users.join(", ")));
            }
            return Err(ProviderError::new(ErrorKind::Dependency, message));
        }
        if n == 0 {
            op.progress(&format!("{what} is still in use; retrying the delete"));
        }
        op.waiting(&format!("dependents of {what} to go away"));
        tokio::time::sleep(delay).await;
        n += 1;
    }
}

/// Describes `ids` in batches of `batch` with `describe` (one describe of the ids given,
/// all pages, keyed by id). One unknown id makes some APIs fail the whole call (ELB's
/// `LoadBalancerNotFound`, ECR's `RepositoryNotFoundException`), so a batch failing with
/// `NotFound` is redone one id at a time, and unknown ids are left out of the answer.
pub async fn describe_in_batches<T, F, Fut>(
    ids: &[String],
    batch: usize,
    describe: F,
) -> Result<HashMap<String, T>, ProviderError>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<HashMap<String, T>, ProviderError>>,
{
    let mut out = HashMap::new();
    for chunk in ids.chunks(batch) {
        match describe(chunk.to_vec()).await {
            Ok(found) => out.extend(found),
            Err(e) if e.kind == ErrorKind::NotFound => {
                for id in chunk {
                    match describe(vec![id.clone()]).await {
                        Ok(found) => out.extend(found),
                        Err(e) if e.kind == ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// How many per-resource read requests one type's read keeps in flight at once.
///
/// Some reads need one call per resource because the API has no batch form (IAM's
/// `GetRole`, the tags of a log group or repository, a target group's attributes). Sent one
/// after another, ten roles (two calls each) cost twenty round trips; eight at a time, four.
/// Eight keeps a type's read to a few round trips for a stack's usual counts without a
/// burst large enough to draw throttling (the plan reads every type at the same time).
pub const READ_CONCURRENCY: usize = 8;

pub use iac_engine::bounded::for_each_bounded;

/// The outcome of a delete (or a detach, a disassociation) with "not found" counted as done:
/// what is already gone needs no deleting.
pub fn gone_is_ok<T>(result: Result<T, ProviderError>) -> Result<(), ProviderError> {
    match result {
        Err(e) if e.kind != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A stable idempotency token for a create (`ClientToken`): the same stack, resource and
/// identifying inputs give the same token, so a create retried after a lost answer returns
/// the first object instead of making a second. `parts` should include an input that
/// changes when the object is recreated (e.g. the subnet and EIP of a NAT gateway), because
/// AWS remembers tokens after the object is deleted.
pub fn client_token(cx: &Cx, name: &str, parts: &[&str]) -> String {
    token_for(&cx.stack, name, parts)
}

/// [`client_token`] without the context.
pub fn token_for(stack: &str, name: &str, parts: &[&str]) -> String {
    // FNV-1a: stable across processes and Rust versions, unlike `DefaultHasher`. A zero byte
    // ends each part, so `("ab", "c")` and `("a", "bc")` differ.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [stack, name].iter().chain(parts) {
        for b in part.bytes().chain([0u8]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    // ClientToken allows 64 ASCII characters: a readable prefix, then the hash.
    let mut prefix = format!("iac-{stack}-{name}");
    prefix.truncate(46);
    format!("{prefix}-{hash:016x}")
}

// ---------------------------------------------------------------------------------------
// Ownership: what `find` decides about an object it found
// ---------------------------------------------------------------------------------------

/// How many of a foreign object's tags [`foreign_owner`] lists.
const OWNER_TAGS_SHOWN: usize = 5;

/// Whose an object found by a `find` seems to be, from its live `tags` (in the stack's
/// shape, as a read returns them): `None` when they carry this stack's `iac:stack` and the
/// resource's `iac:name`, so the object is this stack's resource `name`; otherwise a short
/// description of the owner for the error, e.g. ``tags `iac:stack=other`, `iac:name=web` ``
/// or ``no iac tags (tags: `team=payments`)``.
///
/// This is the one ownership rule for every taggable type: iac adopts an object it finds
/// only when it is `None`, and never modifies or deletes an object for which it is `Some`.
pub fn foreign_owner(stack: &str, name: &str, live_tags: &Json) -> Option<String> {
    let tag = |k: &str| live_tags.get(k).and_then(Json::as_str);
    if tag("iac:stack") == Some(stack) && tag("iac:name") == Some(name) {
        return None;
    }
    // Sorted by key, `iac:stack` first: the same tags always read the same.
    let mut sorted: Vec<(&String, &Json)> = live_tags.as_object().into_iter().flatten().collect();
    sorted.sort_by_key(|(k, _)| (k.as_str() != "iac:stack", k.as_str()));
    let show = |(k, v): &(&String, &Json)| match v {
        Json::String(s) => format!("`{k}={s}`"),
        other => format!("`{k}={other}`"),
    };
    let iac: Vec<String> = sorted
        .iter()
        .filter(|(k, _)| k.starts_with("iac:"))
        .map(show)
        .collect();
    if !iac.is_empty() {
        return Some(format!("tags {}", iac.join(", ")));
    }
    let all: Vec<String> = sorted.iter().map(show).collect();
    Some(match all.len() {
        0 => "no tags".to_owned(),
        n if n > OWNER_TAGS_SHOWN => format!(
            "no iac tags (tags: {}, and {} more)",
            all[..OWNER_TAGS_SHOWN].join(", "),
            n - OWNER_TAGS_SHOWN
        ),
        _ => format!("no iac tags (tags: {})", all.join(", ")),
    })
}

/// What `find` answers for an object of a taggable type found live (`live` as its read
/// returns it): this stack's resource `name`, or someone else's per [`foreign_owner`].
pub fn existing(cx: &Cx, name: &str, physical_id: impl Into<String>, live: Live) -> Existing {
    let foreign = foreign_owner(
        &cx.stack,
        name,
        live.inputs.get("tags").unwrap_or(&Json::Null),
    );
    Existing {
        physical_id: physical_id.into(),
        live,
        foreign,
    }
}

/// The object `physical_id`, found by a `find`, read by the type's own `read` with the
/// create `inputs` as the last applied inputs (and `last_attrs`), so that `find` returns
/// it exactly as a read would and the engine can diff it against the desired inputs.
/// `None` when it is gone (or in a state the read counts as gone).
pub async fn read_found<T: ResourceType + ?Sized>(
    rtype: &T,
    cx: &Cx,
    name: &str,
    physical_id: &str,
    inputs: &Json,
    last_attrs: Json,
) -> Result<Option<Live>, ProviderError> {
    let request = ReadRequest {
        name: name.to_owned(),
        physical_id: physical_id.to_owned(),
        last_inputs: inputs.clone(),
        last_attrs,
    };
    Ok(rtype
        .read(cx, std::slice::from_ref(&request))
        .await?
        .into_iter()
        .next()
        .flatten())
}

/// The error of a create that found its name taken: a `Conflict` naming the object
/// (`what`, e.g. ``IAM role `shop-exec` ``). Nothing was changed; the engine then calls
/// `find` and adopts the object only if it is this stack's.
pub fn name_taken(what: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Conflict,
        format!("{what} already exists; iac changed nothing on it"),
    )
}

/// A JSON object from pairs, keeping their order.
pub fn object<I: IntoIterator<Item = (&'static str, Json)>>(pairs: I) -> Json {
    Json::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<String, Json>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn live_lists_keep_the_applied_order() {
        let last = json!(["subnet-b", "subnet-a"]);
        let live = vec![
            "subnet-a".to_owned(),
            "subnet-c".to_owned(),
            "subnet-b".to_owned(),
        ];
        assert_eq!(
            order_like(live, Some(&last)),
            ["subnet-b", "subnet-a", "subnet-c"]
        );
        assert_eq!(
            order_like(vec!["b".into(), "a".into()], None),
            ["a", "b"],
            "nothing applied: sorted"
        );
    }

    fn aws(code: &str) -> AwsError {
        AwsError::Other {
            service: "ec2",
            operation: "Op".to_owned(),
            code: code.to_owned(),
            message: "m".to_owned(),
            request_id: None,
        }
    }

    #[test]
    fn errors_map_to_the_kinds_the_walker_acts_on() {
        let conflict = |code: &str| AwsError::Conflict {
            service: "ec2",
            operation: "DeleteVpc".to_owned(),
            code: code.to_owned(),
            message: "in use".to_owned(),
            request_id: None,
        };
        assert_eq!(
            provider_error(conflict("DependencyViolation")).kind,
            ErrorKind::Dependency
        );
        assert_eq!(
            provider_error(conflict("ResourceInUse")).kind,
            ErrorKind::Dependency
        );
        assert_eq!(
            provider_error(conflict("IncorrectState")).kind,
            ErrorKind::Conflict
        );
        assert_eq!(
            provider_error(aws("InvalidPermission.Duplicate")).kind,
            ErrorKind::Conflict
        );
        assert_eq!(
            provider_error(aws("InternalError")).kind,
            ErrorKind::Retryable
        );
        assert_eq!(provider_error(aws("Weird")).kind, ErrorKind::Fatal);
        let throttled = AwsError::Throttled {
            service: "ec2",
            operation: "DescribeVpcs".to_owned(),
            code: "RequestLimitExceeded".to_owned(),
            message: "slow down".to_owned(),
            request_id: None,
        };
        assert_eq!(provider_error(throttled).kind, ErrorKind::Throttled);
        let gone = AwsError::NotFound {
            service: "ec2",
            operation: "DeleteVpc".to_owned(),
            code: "InvalidVpcID.NotFound".to_owned(),
            message: "gone".to_owned(),
            request_id: Some("req-1".to_owned()),
        };
        let gone = provider_error(gone);
        assert_eq!(gone.kind, ErrorKind::NotFound);
        assert_eq!(gone.code(), Some("InvalidVpcID.NotFound"));
        assert_eq!(gone.request_id.as_deref(), Some("req-1"));
        assert!(gone.message.ends_with("gone (request id req-1)"), "{gone}");
        // The code is carried as data by every variant that has one.
        assert_eq!(
            provider_error(conflict("DependencyViolation")).code(),
            Some("DependencyViolation")
        );
        assert_eq!(
            provider_error(aws("Gateway.NotAttached")).code(),
            Some("Gateway.NotAttached")
        );
        let unreachable = AwsError::Unreachable {
            service: "ec2",
            operation: "DescribeVpcs".to_owned(),
            url: "http://127.0.0.1:9".to_owned(),
            reason: "Connection refused".to_owned(),
        };
        let unreachable = provider_error(unreachable);
        assert_eq!(unreachable.kind, ErrorKind::Retryable);
        assert_eq!(
            (unreachable.code(), unreachable.request_id.as_deref()),
            (None, None)
        );
        assert!(
            unreachable.message.contains("--endpoint-url"),
            "{unreachable}"
        );
    }

    #[test]
    fn server_failures_are_told_from_request_and_connection_errors() {
        assert!(is_server_failure(&provider_error(aws("InternalFailure"))));
        assert!(is_server_failure(&provider_error(aws("HTTP 503"))));
        // An HTML error page: the SDK cannot read it, but the status says whose fault it is.
        assert!(is_server_failure(&provider_error(aws(
            "unreadable response, HTTP status 500"
        ))));
        assert!(!is_server_failure(&provider_error(aws(
            "unreadable response, HTTP status 400"
        ))));
        assert!(!is_server_failure(&provider_error(aws(
            "ValidationException"
        ))));
        let unreachable = AwsError::Unreachable {
            service: "acm",
            operation: "RequestCertificate".to_owned(),
            url: "http://127.0.0.1:9".to_owned(),
            reason: "Connection refused".to_owned(),
        };
        assert!(!is_server_failure(&provider_error(unreachable)));
    }

    #[test]
    fn missing_credentials_are_fatal_and_say_how_to_fix_them() {
        let err = provider_error(AwsError::MissingCredentials {
            reason: "no source".to_owned(),
        });
        assert_eq!(err.kind, ErrorKind::Fatal);
        assert!(err.message.contains("AWS_ACCESS_KEY_ID"), "{err}");
        assert!(err.message.contains("aws sso login"), "{err}");
    }

    #[test]
    fn an_object_is_ours_only_with_this_stacks_and_this_resources_iac_tags() {
        let ours = json!({"Name": "shop-web", "iac:stack": "shop", "iac:name": "web"});
        assert_eq!(foreign_owner("shop", "web", &ours), None);
        assert_eq!(
            foreign_owner("shop", "api", &ours).as_deref(),
            Some("tags `iac:stack=shop`, `iac:name=web`")
        );
        assert_eq!(
            foreign_owner("other", "web", &ours).as_deref(),
            Some("tags `iac:stack=shop`, `iac:name=web`")
        );
        assert_eq!(
            foreign_owner("shop", "web", &json!({"team": "payments"})).as_deref(),
            Some("no iac tags (tags: `team=payments`)")
        );
        assert_eq!(
            foreign_owner("shop", "web", &json!({})).as_deref(),
            Some("no tags")
        );
        assert_eq!(
            foreign_owner("shop", "web", &Json::Null).as_deref(),
            Some("no tags")
        );
        let many = json!({"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7"});
        assert_eq!(
            foreign_owner("shop", "web", &many).as_deref(),
            Some("no iac tags (tags: `a=1`, `b=2`, `c=3`, `d=4`, `e=5`, and 2 more)")
        );
    }

    #[test]
    fn tag_diff_adds_changed_and_new_keys_and_removes_dropped_ones() {
        let old = json!({"tags": {"iac:stack": "s", "team": "a", "gone": "x"}});
        let new = json!({"tags": {"iac:stack": "s", "team": "b", "env": "prod"}});
        let diff = TagDiff::between(&old, &new);
        assert_eq!(
            diff.add,
            vec![
                ("env".to_owned(), "prod".to_owned()),
                ("team".to_owned(), "b".to_owned())
            ]
        );
        assert_eq!(diff.remove, vec!["gone".to_owned()]);
        assert!(TagDiff::between(&new, &new).is_empty());
    }

    #[test]
    fn live_tags_drop_aws_owned_keys_and_sort() {
        let tags = tags_json([
            ("b", "2"),
            ("aws:cloudformation:stack-name", "x"),
            ("a", "1"),
        ]);
        assert_eq!(tags, json!({"a": "1", "b": "2"}));
        assert_eq!(
            input_tags(&json!({"tags": {"n": 3, "a": "x"}})),
            vec![
                ("a".to_owned(), "x".to_owned()),
                ("n".to_owned(), "3".to_owned())
            ]
        );
    }

    #[test]
    fn client_tokens_are_stable_distinct_and_short() {
        let a = token_for("shop", "nat_a", &["subnet-1", "eipalloc-1"]);
        assert_eq!(a, token_for("shop", "nat_a", &["subnet-1", "eipalloc-1"]));
        assert!(a.starts_with("iac-shop-nat_a-"), "{a}");
        assert_ne!(a, token_for("shop", "nat_a", &["subnet-1", "eipalloc-2"]));
        assert_ne!(a, token_for("shop", "nat_b", &["subnet-1", "eipalloc-1"]));
        assert_ne!(
            token_for("s", "n", &["ab", "c"]),
            token_for("s", "n", &["a", "bc"])
        );
        let long = token_for(&"x".repeat(32), &"y".repeat(60), &[]);
        assert!(long.len() <= 64 && long.is_ascii(), "{long}");
    }

    fn op() -> (
        OpContext,
        std::sync::Arc<iac_engine::report::RecordingReporter>,
    ) {
        let rec = std::sync::Arc::new(iac_engine::report::RecordingReporter::default());
        (OpContext::new("thing", rec.clone()), rec)
    }

    const TEST_BACKOFF: Backoff = Backoff {
        first: Duration::from_millis(100),
        max_delay: Duration::from_secs(2),
        limit: Duration::from_secs(30),
    };

    #[tokio::test(start_paused = true)]
    async fn poll_until_waits_through_retryable_errors_and_reports_the_wait() {
        let (op, rec) = op();
        let mut calls = 0;
        let got = poll_until(&op, "the thing to be ready", TEST_BACKOFF, || {
            calls += 1;
            let n = calls;
            async move {
                match n {
                    1 => Ok(None),
                    2 => Err(ProviderError::new(ErrorKind::Throttled, "slow down")),
                    _ => Ok(Some(n)),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(got, 3);
        assert!(rec.events().contains(&iac_engine::report::Event::Waiting(
            "thing".to_owned(),
            "the thing to be ready".to_owned()
        )));
    }

    #[tokio::test(start_paused = true)]
    async fn poll_until_gives_up_after_the_limit_and_stops_on_other_errors() {
        let (op, _) = op();
        let start = Instant::now();
        let err = poll_until(&op, "the thing", TEST_BACKOFF, || async {
            Ok::<Option<()>, _>(None)
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Fatal);
        assert!(
            err.message
                .starts_with("gave up waiting for the thing after "),
            "{err}"
        );
        assert!(
            start.elapsed() <= TEST_BACKOFF.limit,
            "{:?}",
            start.elapsed()
        );
        assert!(
            start.elapsed() >= TEST_BACKOFF.limit / 2,
            "{:?}",
            start.elapsed()
        );

        let err = poll_until(&op, "the thing", TEST_BACKOFF, || async {
            Err::<Option<()>, _>(ProviderError::new(ErrorKind::Fatal, "denied"))
        })
        .await
        .unwrap_err();
        assert_eq!(err.message, "denied");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_dependency_retries_until_the_dependents_are_gone() {
        let (op, _) = op();
        let mut calls = 0;
        retry_dependency(
            &op,
            "subnet `subnet-1`",
            TEST_BACKOFF,
            || {
                calls += 1;
                let n = calls;
                async move {
                    if n < 4 {
                        Err(ProviderError::new(
                            ErrorKind::Dependency,
                            "DependencyViolation",
                        ))
                    } else {
                        Ok(())
                    }
                }
            },
            || async { Vec::new() },
        )
        .await
        .unwrap();
        assert_eq!(calls, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_dependency_names_what_still_depends_when_time_runs_out() {
        let (op, _) = op();
        let err = retry_dependency(
            &op,
            "subnet `subnet-1`",
            TEST_BACKOFF,
            || async {
                Err::<(), _>(ProviderError::new(
                    ErrorKind::Dependency,
                    "`ec2:DeleteSubnet` conflicts with existing resources (`DependencyViolation`): has dependencies",
                ))
            },
            || async { vec!["`eni-1` (ELB app/web/1)".to_owned()] },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Dependency);
        assert!(
            err.message
                .starts_with("subnet `subnet-1` is still in use after "),
            "{err}"
        );
        assert!(
            err.message
                .ends_with("; still depending on it: `eni-1` (ELB app/web/1)"),
            "{err}"
        );

        // Errors other than a dependency are not retried.
        let mut calls = 0;
        let err = retry_dependency(
            &op,
            "subnet `subnet-1`",
            TEST_BACKOFF,
            || {
                calls += 1;
                async { Err::<(), _>(ProviderError::new(ErrorKind::Fatal, "denied")) }
            },
            || async { Vec::new() },
        )
        .await
        .unwrap_err();
        assert_eq!((calls, err.kind), (1, ErrorKind::Fatal));
    }
}
