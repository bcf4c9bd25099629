//! The connection to AWS for the engine commands: the configuration resolved from the
//! command line, the stack and the environment, checked with one cheap request before any
//! lock is taken or anything is planned, so a missing credential or a wrong endpoint is one
//! clear error instead of a failure in the middle of a refresh.

use std::process::ExitCode;

use iac_aws::{AwsConfig, AwsContext, AwsError, AwsProvider, ConfigSource};
use iac_stack::Diag;

use super::Exit;
use crate::cli::AwsArgs;
use crate::printer::Printer;

/// How to reach AWS for one command.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The stack's region after `--region` (the loader already applied the override); `None`
    /// leaves it to the environment and the profile.
    pub region: Option<&'a str>,
    pub aws: &'a AwsArgs,
}

impl Target<'_> {
    /// The SDK configuration: explicit values from the command line and the stack, the rest
    /// from the process environment and `~/.aws` as every AWS tool reads them.
    pub fn config(&self) -> AwsConfig {
        AwsConfig {
            region: self.region.map(str::to_string),
            profile: non_empty(self.aws.profile.as_deref()),
            endpoint_url: non_empty(self.aws.endpoint_url.as_deref()),
            source: ConfigSource::Process,
            ..AwsConfig::default()
        }
    }
}

/// An empty `AWS_PROFILE=` or `AWS_ENDPOINT_URL=` means unset, as in the AWS CLI.
fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Build the provider for `stack` and, with `probe`, prove the connection works
/// (credentials, endpoint, region) with one read. Errors are printed as a diagnostic; `Err`
/// is the exit code.
pub async fn connect(
    target: &Target<'_>,
    stack: &str,
    probe: bool,
    printer: &Printer,
) -> Result<AwsProvider, ExitCode> {
    let ctx = if probe {
        connect_context(target, printer).await?
    } else {
        AwsContext::load(&target.config()).await.map_err(|e| {
            printer.diagnostic(&aws_diag(&e));
            ExitCode::from(Exit::Error)
        })?
    };
    Ok(AwsProvider::new(ctx, stack))
}

/// The checked connection alone, for commands that only reach a remote state.
pub async fn connect_context(
    target: &Target<'_>,
    printer: &Printer,
) -> Result<AwsContext, ExitCode> {
    let result = async {
        let ctx = AwsContext::load(&target.config()).await?;
        ctx.probe().await?;
        Ok::<_, AwsError>(ctx)
    }
    .await;
    result.map_err(|e| {
        printer.diagnostic(&aws_diag(&e));
        ExitCode::from(Exit::Error)
    })
}

/// An AWS error as a diagnostic: a stable code per kind and the error's own advice.
pub fn aws_diag(e: &AwsError) -> Diag {
    let code = match e {
        AwsError::NoRegion => "iac::aws::no_region",
        AwsError::InvalidEndpoint { .. } => "iac::aws::endpoint",
        AwsError::MissingCredentials { .. } => "iac::aws::credentials",
        AwsError::Unreachable { .. } => "iac::aws::unreachable",
        AwsError::AccessDenied { .. } => "iac::aws::access_denied",
        AwsError::Throttled { .. } => "iac::aws::throttled",
        _ => "iac::aws::error",
    };
    let help = e.help().unwrap_or_else(|| match e {
        // The message already lists the ways to provide credentials; say how to check them.
        AwsError::MissingCredentials { .. } => {
            "check which identity the AWS tools find with `aws sts get-caller-identity`; for the local emulator export the variables `just emulator` prints".to_string()
        }
        _ => "run the command again; if it keeps failing, check the AWS console or `aws` CLI for the resource named".to_string(),
    });
    Diag::error(code, e.to_string()).help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_values_win_and_empty_ones_are_unset() {
        let aws = AwsArgs {
            endpoint_url: Some("  ".into()),
            profile: Some("dev".into()),
        };
        let cfg = Target {
            region: Some("eu-west-1"),
            aws: &aws,
        }
        .config();
        assert_eq!(cfg.region.as_deref(), Some("eu-west-1"));
        assert_eq!(cfg.profile.as_deref(), Some("dev"));
        assert_eq!(cfg.endpoint_url, None);
    }

    #[test]
    fn every_aws_error_gets_a_code_and_a_help_line() {
        let errors = [
            AwsError::NoRegion,
            AwsError::MissingCredentials {
                reason: "no variables".into(),
            },
            AwsError::Unreachable {
                service: "ec2",
                operation: "DescribeAvailabilityZones".into(),
                url: "http://127.0.0.1:1".into(),
                reason: "connection refused".into(),
            },
        ];
        let codes: Vec<&str> = errors.iter().map(|e| aws_diag(e).code).collect();
        assert_eq!(
            codes,
            [
                "iac::aws::no_region",
                "iac::aws::credentials",
                "iac::aws::unreachable"
            ]
        );
        assert!(errors.iter().all(|e| aws_diag(e).help.is_some()));
    }
}
