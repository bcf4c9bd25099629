//! Where a state lives: an `s3://bucket/key` URL parsed, the bucket checked against S3's
//! naming rules, so a typo fails with a diagnostic rather than as the first request's error.

/// Why a `state:` value is not a usable S3 location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3UrlError {
    /// Another scheme (`gs://`, `https://`) or a plain path.
    #[error(
        "the state location `{url}` is not an S3 URL: write `s3://BUCKET/KEY`, \
         or leave `state:` out to keep the state in `.iac/state/` beside the stack file"
    )]
    NotS3 { url: String },
    /// `s3://` or `s3:///key`.
    #[error("the state location `{url}` names no bucket: write `s3://BUCKET/KEY`")]
    NoBucket { url: String },
    /// `s3://bucket` or `s3://bucket/`.
    #[error(
        "the state location `{url}` names no object key: add one after the bucket, \
         e.g. `s3://{bucket}/iac/STACK.json`"
    )]
    NoKey { url: String, bucket: String },
    /// `s3://bucket/dir/`: a folder, not an object.
    #[error(
        "the state location `{url}` ends with `/`, which names a folder: \
         name the state object, e.g. `s3://{bucket}/{key}STACK.json`"
    )]
    FolderKey {
        url: String,
        bucket: String,
        key: String,
    },
    /// A bucket name S3 would refuse.
    #[error("the state location `{url}` names the bucket `{bucket}`, which is not a valid S3 bucket name: {reason}")]
    InvalidBucket {
        url: String,
        bucket: String,
        reason: &'static str,
    },
}

/// A parsed `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
}

impl S3Location {
    /// Parses `s3://bucket/key`. The key is taken as written (S3 keys are case-sensitive and
    /// may contain any character); the bucket must follow S3's naming rules, so that a typo
    /// fails here rather than as a confusing error of the first request.
    pub fn parse(url: &str) -> Result<S3Location, S3UrlError> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| S3UrlError::NotS3 {
            url: url.to_owned(),
        })?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(S3UrlError::NoBucket {
                url: url.to_owned(),
            });
        }
        if let Err(reason) = check_bucket_name(bucket) {
            return Err(S3UrlError::InvalidBucket {
                url: url.to_owned(),
                bucket: bucket.to_owned(),
                reason,
            });
        }
        if key.is_empty() {
            return Err(S3UrlError::NoKey {
                url: url.to_owned(),
                bucket: bucket.to_owned(),
            });
        }
        if key.ends_with('/') {
            return Err(S3UrlError::FolderKey {
                url: url.to_owned(),
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            });
        }
        Ok(S3Location {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// S3's bucket naming rules (general purpose buckets).
fn check_bucket_name(bucket: &str) -> Result<(), &'static str> {
    if !(3..=63).contains(&bucket.len()) {
        return Err("it must be 3 to 63 characters long");
    }
    if !bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Err("it may contain only lowercase letters, digits, `.` and `-`");
    }
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge_ok(bucket.as_bytes()[0]) || !edge_ok(bucket.as_bytes()[bucket.len() - 1]) {
        return Err("it must begin and end with a letter or a digit");
    }
    if bucket.contains("..") {
        return Err("it must not contain `..`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_parse_into_bucket_and_key() {
        let loc = S3Location::parse("s3://my-bucket/iac/lemon-mart.json").unwrap();
        assert_eq!(loc.bucket, "my-bucket");
        assert_eq!(loc.key, "iac/lemon-mart.json");
        assert_eq!(loc.to_string(), "s3://my-bucket/iac/lemon-mart.json");
        let loc = S3Location::parse("s3://b.example-1/state.json").unwrap();
        assert_eq!(
            (loc.bucket.as_str(), loc.key.as_str()),
            ("b.example-1", "state.json")
        );
    }

    #[test]
    fn bad_urls_say_what_to_write() {
        let cases = [
            (
                "gs://bucket/key.json",
                "is not an S3 URL: write `s3://BUCKET/KEY`",
            ),
            ("bucket/key.json", "is not an S3 URL"),
            ("s3:///key.json", "names no bucket"),
            (
                "s3://bucket",
                "names no object key: add one after the bucket, e.g. `s3://bucket/iac/STACK.json`",
            ),
            ("s3://bucket/", "names no object key"),
            (
                "s3://bucket/iac/",
                "which names a folder: name the state object, e.g. `s3://bucket/iac/STACK.json`",
            ),
            (
                "s3://My_Bucket/k.json",
                "may contain only lowercase letters",
            ),
            ("s3://ab/k.json", "3 to 63 characters"),
            (
                "s3://-bucket/k.json",
                "begin and end with a letter or a digit",
            ),
            ("s3://a..b/k.json", "must not contain `..`"),
        ];
        for (url, want) in cases {
            let err = S3Location::parse(url).unwrap_err().to_string();
            assert!(err.contains(want), "{url}: {err}");
            assert!(err.contains(&format!("`{url}`")), "names the URL: {err}");
            assert!(!err.ends_with('.'), "{err}");
        }
    }
}
