//! Turning SDK errors into the few kinds iac acts on.
//!
//! The SDK's errors are one enum per operation, with the interesting part (the AWS error code)
//! as a string and transport problems nested several `source()`s deep. The engine and the
//! user need to know something simpler: is it missing credentials, a wrong endpoint, a
//! throttle to wait out, a resource that is gone, a dependency that blocks a delete, a
//! missing permission, or something else. [`classify`] answers that once for every operation.

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

use crate::Service;

/// What went wrong talking to AWS, in the terms a user can act on.
///
/// Messages name values in backticks and end without a period; [`AwsError::help`] says what
/// to do where that is not already part of the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// Neither `--region`, the stack, the environment nor the profile named a region.
    #[error("no AWS region configured")]
    NoRegion,

    /// The endpoint override is not an http(s) URL.
    #[error("invalid endpoint URL `{url}`: {reason}")]
    InvalidEndpoint { url: String, reason: &'static str },

    /// No credential source produced credentials.
    #[error(
        "no AWS credentials found ({reason}); set `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, \
         choose a profile with `--profile` or `AWS_PROFILE`, or sign in with `aws sso login --profile NAME`"
    )]
    MissingCredentials { reason: String },

    /// The request never got an answer: connection refused, DNS failure, or a timeout.
    #[error("cannot reach `{url}` for `{service}:{operation}`: {reason}")]
    Unreachable {
        service: &'static str,
        operation: String,
        url: String,
        reason: String,
    },

    /// AWS asked us to slow down and the SDK's retries ran out.
    #[error("`{service}:{operation}` was throttled by AWS (`{code}`): {message}{}", request_suffix(.request_id))]
    Throttled {
        service: &'static str,
        operation: String,
        code: String,
        message: String,
        request_id: Option<String>,
    },

    /// The resource does not exist (any more).
    #[error("`{service}:{operation}` found nothing (`{code}`): {message}{}", request_suffix(.request_id))]
    NotFound {
        service: &'static str,
        operation: String,
        code: String,
        message: String,
        request_id: Option<String>,
    },

    /// The resource is in use or in a state that forbids the change, e.g. a VPC that still
    /// has subnets, or a concurrent modification.
    #[error("`{service}:{operation}` conflicts with existing resources (`{code}`): {message}{}", request_suffix(.request_id))]
    Conflict {
        service: &'static str,
        operation: String,
        code: String,
        message: String,
        request_id: Option<String>,
    },

    /// The identity is not allowed to do this, or its credentials were rejected.
    #[error("`{service}:{operation}` was denied (`{code}`): {message}{}", request_suffix(.request_id))]
    AccessDenied {
        service: &'static str,
        operation: String,
        code: String,
        message: String,
        request_id: Option<String>,
    },

    /// Anything else, with AWS's own code and message.
    #[error("`{service}:{operation}` failed (`{code}`): {message}{}", request_suffix(.request_id))]
    Other {
        service: &'static str,
        operation: String,
        code: String,
        message: String,
        request_id: Option<String>,
    },
}

/// How a message names the request that failed: ` (request id abc-123)` after AWS's own
/// text, or nothing when the answer carried no id (or there was no answer).
fn request_suffix(request_id: &Option<String>) -> String {
    match request_id {
        Some(id) => format!(" (request id {id})"),
        None => String::new(),
    }
}

impl AwsError {
    /// The AWS error code (`InvalidVpcID.NotFound`), or what stands for it when AWS sent
    /// none (`HTTP 503`, `unreadable response, HTTP status 500`, `dispatch failure`); `None`
    /// for the failures that never reached AWS.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Throttled { code, .. }
            | AwsError::NotFound { code, .. }
            | AwsError::Conflict { code, .. }
            | AwsError::AccessDenied { code, .. }
            | AwsError::Other { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The id AWS gave the failed request, if it answered.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            AwsError::Throttled { request_id, .. }
            | AwsError::NotFound { request_id, .. }
            | AwsError::Conflict { request_id, .. }
            | AwsError::AccessDenied { request_id, .. }
            | AwsError::Other { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// What the user should do about it, for the `help:` line of a diagnostic.
    pub fn help(&self) -> Option<String> {
        match self {
            AwsError::NoRegion => Some(
                "pass `--region`, set `region:` in the stack, set `AWS_REGION`, or set `region` in the AWS profile"
                    .to_owned(),
            ),
            AwsError::InvalidEndpoint { .. } => {
                Some("give a URL such as `http://127.0.0.1:5000` to `--endpoint-url` or `AWS_ENDPOINT_URL`".to_owned())
            }
            AwsError::MissingCredentials { .. } => None,
            AwsError::Unreachable { .. } => Some(
                "check the network and `--endpoint-url` / `AWS_ENDPOINT_URL`; for the local emulator run `just emulator`"
                    .to_owned(),
            ),
            AwsError::Throttled { .. } => Some("wait a minute and run the command again".to_owned()),
            AwsError::NotFound { .. } => None,
            AwsError::Conflict { .. } => Some(
                "something else still uses or changes this resource; run `iac plan` to see the dependencies".to_owned(),
            ),
            AwsError::AccessDenied { service, operation, .. } => Some(format!(
                "grant `{service}:{operation}` to the identity in use, or check that its credentials are valid and not expired"
            )),
            AwsError::Other { .. } => None,
        }
    }

    /// Whether the resource asked about does not exist: reads treat that as "absent", not as
    /// a failure.
    pub fn is_not_found(&self) -> bool {
        matches!(self, AwsError::NotFound { .. })
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            AwsError::Throttled { .. } | AwsError::Unreachable { .. }
        )
    }
}

/// Codes AWS services use for "slow down".
const THROTTLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "PriorRequestNotComplete",
    "Throttled",
];

/// Codes for "in use" or "in the wrong state" that are not spelled `*InUse*`/`*Conflict*`.
const CONFLICT_CODES: &[&str] = &[
    "DependencyViolation",
    "DeleteConflict",
    "HostedZoneNotEmpty",
    "BucketNotEmpty",
    "RepositoryNotEmptyException",
    "ClusterContainsServicesException",
    "ClusterContainsTasksException",
    "ClusterContainsContainerInstancesException",
    "IncorrectState",
    "IncorrectInstanceState",
    "OperationAbortedException",
    "OperationAborted",
    "InvalidStateException",
];

/// Codes for "not allowed" or "your credentials were rejected".
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "NotAuthorized",
    "OptInRequired",
];

fn is_not_found_code(code: &str) -> bool {
    code.ends_with("NotFound")
        || code.ends_with("NotFoundException")
        || code.ends_with("NotFoundFault")
        || code.contains(".NotFound")
        || code.starts_with("NoSuch")
}

fn is_conflict_code(code: &str) -> bool {
    CONFLICT_CODES.contains(&code)
        || code.contains("InUse")
        || code.contains("Conflict")
        || code.contains("ConcurrentModification")
}

/// Classifies one SDK error.
///
/// `endpoint` is the URL to name when the endpoint cannot be reached; [`AwsContext::classify`]
/// (crate::AwsContext::classify) fills it in from the request that was actually sent.
pub fn classify<E>(
    service: Service,
    operation: &str,
    endpoint: &str,
    err: SdkError<E, HttpResponse>,
) -> AwsError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    if let Some(reason) = credentials_problem(&err) {
        return AwsError::MissingCredentials { reason };
    }
    let service_name = service.as_str();
    let operation = operation.to_owned();
    // Query services (EC2) put the id in the error body, the others in a header.
    let request_id = match &err {
        SdkError::ServiceError(e) => e.err().meta().request_id(),
        _ => None,
    }
    .or_else(|| err.request_id())
    .map(str::to_owned);
    match &err {
        SdkError::DispatchFailure(failure) => {
            let reason = if failure.is_timeout() {
                "the connection timed out".to_owned()
            } else {
                innermost_message(&err)
            };
            if failure.is_io() || failure.is_timeout() {
                return AwsError::Unreachable {
                    service: service_name,
                    operation,
                    url: endpoint.to_owned(),
                    reason,
                };
            }
            AwsError::Other {
                service: service_name,
                operation,
                code: "dispatch failure".to_owned(),
                message: chain_message(&err),
                request_id,
            }
        }
        SdkError::TimeoutError(_) => AwsError::Unreachable {
            service: service_name,
            operation,
            url: endpoint.to_owned(),
            reason: "no answer before the timeout".to_owned(),
        },
        SdkError::ServiceError(service_err) => {
            let status = service_err.raw().status().as_u16();
            let inner = service_err.err();
            let code = inner.code().map(str::to_owned);
            // AWS messages are sentences; ours end without a period.
            let message = inner
                .message()
                .map(|m| m.trim().trim_end_matches('.').to_owned())
                .unwrap_or_else(|| format!("HTTP status {status}"));
            classify_code(service_name, operation, code, status, message, request_id)
        }
        SdkError::ResponseError(response_err) => AwsError::Other {
            service: service_name,
            operation,
            code: format!(
                "unreadable response, HTTP status {}",
                response_err.raw().status().as_u16()
            ),
            message: chain_message(&err),
            request_id,
        },
        SdkError::ConstructionFailure(_) => AwsError::Other {
            service: service_name,
            operation,
            code: "invalid request".to_owned(),
            message: chain_message(&err),
            request_id,
        },
        _ => AwsError::Other {
            service: service_name,
            operation,
            code: "unknown".to_owned(),
            message: chain_message(&err),
            request_id,
        },
    }
}

/// Classifies a service's answer by its error code, and by HTTP status where the service sends
/// none (S3's `HeadBucket` answers a bare 404).
fn classify_code(
    service: &'static str,
    operation: String,
    code: Option<String>,
    status: u16,
    message: String,
    request_id: Option<String>,
) -> AwsError {
    let code_str = code.as_deref().unwrap_or("");
    let code = code.clone().unwrap_or_else(|| format!("HTTP {status}"));
    if THROTTLE_CODES.contains(&code_str) || status == 429 {
        AwsError::Throttled {
            service,
            operation,
            code,
            message,
            request_id,
        }
    } else if DENIED_CODES.contains(&code_str) || (code_str.is_empty() && status == 403) {
        AwsError::AccessDenied {
            service,
            operation,
            code,
            message,
            request_id,
        }
    } else if is_not_found_code(code_str) || (code_str.is_empty() && status == 404) {
        AwsError::NotFound {
            service,
            operation,
            code,
            message,
            request_id,
        }
    } else if is_conflict_code(code_str) || (code_str.is_empty() && status == 409) {
        AwsError::Conflict {
            service,
            operation,
            code,
            message,
            request_id,
        }
    } else {
        AwsError::Other {
            service,
            operation,
            code,
            message,
            request_id,
        }
    }
}

/// When the error comes from the credentials provider, what it said.
fn credentials_problem(err: &(dyn StdError + 'static)) -> Option<String> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(cred) = e.downcast_ref::<CredentialsError>() {
            return Some(chain_message(cred));
        }
        current = e.source();
    }
    None
}

/// The error and its sources as one line: `a: b: c`, skipping a source whose text the
/// previous level already included.
fn chain_message(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.last().is_some_and(|last| last.contains(&text)) && !text.is_empty() {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// The deepest source's text: for a refused connection, `Connection refused (os error 111)`
/// rather than the SDK's generic `dispatch failure`.
fn innermost_message(err: &(dyn StdError + 'static)) -> String {
    let mut current: &(dyn StdError + 'static) = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(code: Option<&str>, status: u16) -> &'static str {
        match classify_code(
            "ec2",
            "Op".to_owned(),
            code.map(str::to_owned),
            status,
            "m".to_owned(),
            None,
        ) {
            AwsError::Throttled { .. } => "throttled",
            AwsError::AccessDenied { .. } => "denied",
            AwsError::NotFound { .. } => "not found",
            AwsError::Conflict { .. } => "conflict",
            AwsError::Other { .. } => "other",
            _ => "unexpected",
        }
    }

    #[test]
    fn codes_of_the_services_iac_uses_are_classified() {
        let cases = [
            (Some("RequestLimitExceeded"), 503, "throttled"),
            (Some("Throttling"), 400, "throttled"),
            (Some("PriorRequestNotComplete"), 400, "throttled"),
            (None, 429, "throttled"),
            (Some("UnauthorizedOperation"), 403, "denied"),
            (Some("AccessDeniedException"), 400, "denied"),
            (Some("AuthFailure"), 401, "denied"),
            (None, 403, "denied"),
            (Some("InvalidVpcID.NotFound"), 400, "not found"),
            (Some("InvalidGroup.NotFound"), 400, "not found"),
            (Some("NoSuchEntity"), 404, "not found"),
            (Some("NoSuchHostedZone"), 404, "not found"),
            (Some("LoadBalancerNotFound"), 400, "not found"),
            (Some("ServiceNotFoundException"), 400, "not found"),
            (Some("ResourceNotFoundException"), 400, "not found"),
            (Some("RepositoryNotFoundException"), 400, "not found"),
            (Some("ObjectNotFoundException"), 400, "not found"),
            (Some("InvalidLaunchTemplateId.NotFound"), 400, "not found"),
            (
                Some("InvalidLaunchTemplateName.NotFoundException"),
                400,
                "not found",
            ),
            (None, 404, "not found"),
            (Some("DependencyViolation"), 400, "conflict"),
            (Some("DeleteConflict"), 409, "conflict"),
            (Some("ResourceInUse"), 400, "conflict"),
            (Some("ResourceInUseException"), 400, "conflict"),
            (Some("InvalidGroup.InUse"), 400, "conflict"),
            (Some("HostedZoneNotEmpty"), 400, "conflict"),
            (Some("ConcurrentModificationException"), 400, "conflict"),
            (None, 409, "conflict"),
            (Some("InvalidParameterValue"), 400, "other"),
            (Some("ValidationError"), 400, "other"),
        ];
        for (code, status, want) in cases {
            assert_eq!(kind(code, status), want, "code {code:?} status {status}");
        }
    }

    #[test]
    fn messages_name_the_operation_and_code_without_a_trailing_period() {
        let err = classify_code(
            "ec2",
            "DeleteVpc".to_owned(),
            Some("DependencyViolation".to_owned()),
            400,
            "The vpc 'vpc-1' has dependencies and cannot be deleted".to_owned(),
            None,
        );
        let text = err.to_string();
        assert_eq!(
            text,
            "`ec2:DeleteVpc` conflicts with existing resources (`DependencyViolation`): \
             The vpc 'vpc-1' has dependencies and cannot be deleted"
        );
        assert!(!text.ends_with('.'));
        assert!(err.help().is_some_and(|h| h.contains("iac plan")));
        assert_eq!(err.code(), Some("DependencyViolation"));
        assert_eq!(err.request_id(), None);
    }

    #[test]
    fn messages_keep_awss_text_and_add_the_request_id() {
        let err = classify_code(
            "ec2",
            "CreateSubnet".to_owned(),
            Some("InvalidParameterValue".to_owned()),
            400,
            "Value (10.0.0.0/33) for parameter cidrBlock is invalid".to_owned(),
            Some("abc-123".to_owned()),
        );
        assert_eq!(
            err.to_string(),
            "`ec2:CreateSubnet` failed (`InvalidParameterValue`): \
             Value (10.0.0.0/33) for parameter cidrBlock is invalid (request id abc-123)"
        );
        assert_eq!(err.code(), Some("InvalidParameterValue"));
        assert_eq!(err.request_id(), Some("abc-123"));
        assert_eq!(AwsError::NoRegion.code(), None);
    }

    #[test]
    fn missing_credentials_message_says_how_to_configure_them() {
        let err = AwsError::MissingCredentials {
            reason: "the credential provider was not enabled".to_owned(),
        };
        let text = err.to_string();
        for needle in [
            "AWS_ACCESS_KEY_ID",
            "--profile",
            "AWS_PROFILE",
            "aws sso login",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
    }

    #[test]
    fn chain_message_skips_repeated_text() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "io error: {}", self.0)
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let err = Outer(std::io::Error::other("refused"));
        assert_eq!(chain_message(&err), "io error: refused");
        assert_eq!(innermost_message(&err), "refused");
    }
}
