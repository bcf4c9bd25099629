//! AWS failures as the engine's [`ProviderError`]: the kind the walker acts on, AWS's
//! error code and the request id as data, and the few errors iac makes itself.
//!
//! The engine speaks [`ProviderError`] with a few [`ErrorKind`]s that decide what it does
//! next (retry, treat as gone, report a dependency); [`provider_error`] maps the connection
//! layer's [`AwsError`] onto them once, keeping its code and request id, so resource modules
//! only write `.map_err(cx.err(..))` and decide on a specific failure with `e.code()`.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use iac_engine::provider::{ErrorKind, ProviderError};

use super::super::Cx;
use crate::{AwsError, Service};

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

/// A response that lacks a field AWS always sends.
pub fn malformed(operation: &str, field: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Fatal,
        format!("`{operation}` answered without `{field}`"),
    )
}

/// The outcome of a delete (or a detach, a disassociation) with "not found" counted as done:
/// what is already gone needs no deleting.
pub fn gone_is_ok<T>(result: Result<T, ProviderError>) -> Result<(), ProviderError> {
    match result {
        Err(e) if e.kind != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The answer of a describe or get of one object, with "not found" as `None`: the object
/// is not there.
pub fn absent_is_none<T>(result: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The error of an update that found its object deleted: a `NotFound` naming it (`what`,
/// e.g. ``log group `/shop/web` ``).
pub fn gone(what: &str) -> ProviderError {
    ProviderError::new(ErrorKind::NotFound, format!("{what} is gone"))
}

/// A create's answer, with the failure AWS gives when the name is taken (its `code`, e.g.
/// `EntityAlreadyExists`) made [`name_taken`] naming `what`.
pub fn taken_as_conflict<T>(
    result: Result<T, ProviderError>,
    code: &str,
    what: &str,
) -> Result<T, ProviderError> {
    match result {
        Err(e) if e.code() == Some(code) => Err(name_taken(what)),
        other => other,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let throttled = AwsError::Throttled {
            service: "ec2",
            operation: "DescribeVpcs".to_owned(),
            code: "RequestLimitExceeded".to_owned(),
            message: "slow down".to_owned(),
            request_id: None,
        };
        let kinds = [
            (conflict("DependencyViolation"), ErrorKind::Dependency),
            (conflict("ResourceInUse"), ErrorKind::Dependency),
            (conflict("IncorrectState"), ErrorKind::Conflict),
            (aws("InvalidPermission.Duplicate"), ErrorKind::Conflict),
            (aws("InternalError"), ErrorKind::Retryable),
            (aws("Weird"), ErrorKind::Fatal),
            (throttled, ErrorKind::Throttled),
        ];
        for (err, kind) in kinds {
            let what = err.to_string();
            assert_eq!(provider_error(err).kind, kind, "{what}");
        }
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
}
