//! What S3's answers mean to the backend (a refused conditional write, a missing key), an
//! AWS failure as a state error, and how a copy names its source.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use iac_engine::StateError;

use crate::AwsError;

/// An [`AwsError`] as a state error, its help kept after the message: the engine's
/// [`StateError::Backend`] carries text only.
pub(super) fn aws_failure(what: &str, url: &str, err: &AwsError) -> StateError {
    let help = err.help().map(|h| format!("; {h}")).unwrap_or_default();
    StateError::Backend(format!("cannot {what} `{url}`: {err}{help}"))
}

/// A refused conditional request: `412 PreconditionFailed`, or `409
/// ConditionalRequestConflict` when S3 is completing another conditional write to the key.
pub(super) fn is_condition_failure<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
) -> bool {
    matches!(
        err.code(),
        Some("PreconditionFailed" | "ConditionalRequestConflict")
    ) || err
        .raw_response()
        .is_some_and(|r| r.status().as_u16() == 412)
}

pub(super) fn is_no_such_key<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    err.code() == Some("NoSuchKey")
}

/// `CopySource`: `bucket/key`, the key URL-encoded (all but unreserved characters and `/`).
pub(super) fn copy_source(bucket: &str, key: &str) -> String {
    let mut out = format!("{bucket}/");
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_encodes_the_key() {
        assert_eq!(copy_source("b", "iac/demo.json"), "b/iac/demo.json");
        assert_eq!(copy_source("b", "a b/ü+.json"), "b/a%20b/%C3%BC%2B.json");
    }
}
