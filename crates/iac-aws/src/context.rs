//! The connection to AWS: configuration, one client per service, and the probe.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::{classify, AwsError};
use crate::stats::RequestCounter;

/// The AWS services iac talks to, by the short names used in messages and request counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Ec2,
    Ecs,
    Elbv2,
    Route53,
    Acm,
    Iam,
    Logs,
    Ecr,
    S3,
    Ssm,
    ApplicationAutoScaling,
    ServiceDiscovery,
    /// EC2 Auto Scaling (groups of instances), not Application Auto Scaling.
    AutoScaling,
}

impl Service {
    /// Every service, in a fixed order.
    pub const ALL: [Service; 13] = [
        Service::Ec2,
        Service::Ecs,
        Service::Elbv2,
        Service::Route53,
        Service::Acm,
        Service::Iam,
        Service::Logs,
        Service::Ecr,
        Service::S3,
        Service::Ssm,
        Service::ApplicationAutoScaling,
        Service::ServiceDiscovery,
        Service::AutoScaling,
    ];

    /// The short name: the IAM action prefix, which users know from policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::Ecs => "ecs",
            Service::Elbv2 => "elasticloadbalancing",
            Service::Route53 => "route53",
            Service::Acm => "acm",
            Service::Iam => "iam",
            Service::Logs => "logs",
            Service::Ecr => "ecr",
            Service::S3 => "s3",
            Service::Ssm => "ssm",
            Service::ApplicationAutoScaling => "application-autoscaling",
            Service::ServiceDiscovery => "servicediscovery",
            Service::AutoScaling => "autoscaling",
        }
    }

    /// AWS's public endpoint of the service in `region`, named in errors when no request got
    /// as far as recording the real one.
    pub fn default_endpoint(self, region: &str) -> String {
        match self {
            Service::Iam => "https://iam.amazonaws.com".to_owned(),
            Service::Route53 => "https://route53.amazonaws.com".to_owned(),
            Service::Ecr => format!("https://api.ecr.{region}.amazonaws.com"),
            other => format!("https://{}.{region}.amazonaws.com", other.as_str()),
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where settings not given explicitly in [`AwsConfig`] come from.
#[derive(Debug, Clone, Default)]
pub enum ConfigSource {
    /// The process environment, `~/.aws/config` and `~/.aws/credentials`, SSO, credential
    /// processes, and on AWS compute the instance/container metadata: aws-config's default
    /// chains, as every AWS tool reads them.
    #[default]
    Process,
    /// Only these variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
    /// `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`); no files, no metadata service.
    /// For tests, which run in parallel and must not read or change the process environment.
    Vars(Vec<(String, String)>),
}

impl ConfigSource {
    fn var(&self, name: &str) -> Option<&str> {
        match self {
            ConfigSource::Process => None,
            ConfigSource::Vars(vars) => vars
                .iter()
                .find(|(k, v)| k == name && !v.trim().is_empty())
                .map(|(_, v)| v.as_str()),
        }
    }
}

/// How to connect to AWS. Explicit fields win over what [`ConfigSource`] provides.
#[derive(Debug, Clone, Default)]
pub struct AwsConfig {
    /// `--region` or the stack's `region:`; otherwise the environment or the profile.
    pub region: Option<String>,
    /// `--profile`; otherwise `AWS_PROFILE` or `default`.
    pub profile: Option<String>,
    /// `--endpoint-url`, e.g. the local emulator; otherwise `AWS_ENDPOINT_URL` (and the
    /// per-service `AWS_ENDPOINT_URL_EC2`, ...), which aws-config reads itself.
    pub endpoint_url: Option<String>,
    /// Where everything else comes from.
    pub source: ConfigSource,
    /// Attempts per request, retries included; [`DEFAULT_MAX_ATTEMPTS`] when `None`.
    pub max_attempts: Option<u32>,
    /// How long to wait for a TCP connection (the SDK's default is 3.1 s).
    pub connect_timeout: Option<Duration>,
}

/// One client per service, all sharing one configuration and one [`RequestCounter`].
#[derive(Debug, Clone)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub route53: aws_sdk_route53::Client,
    pub acm: aws_sdk_acm::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub s3: aws_sdk_s3::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    pub servicediscovery: aws_sdk_servicediscovery::Client,
    /// EC2 Auto Scaling: the groups of `aws.autoscaling_group`.
    pub ec2_autoscaling: aws_sdk_autoscaling::Client,
}

/// A loaded AWS connection: the resolved region and endpoint, the service clients, and the
/// request counter. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AwsContext {
    region: String,
    endpoint_url: Option<String>,
    clients: Clients,
    counter: RequestCounter,
}

impl AwsContext {
    /// Resolves the configuration and builds the clients. Sends no request: credentials are
    /// resolved on the first call, so use [`AwsContext::probe`] to fail early.
    pub async fn load(config: &AwsConfig) -> Result<AwsContext, AwsError> {
        let sdk = load_sdk_config(config).await?;
        let region = sdk
            .region()
            .map(|r| r.as_ref().to_owned())
            .ok_or(AwsError::NoRegion)?;
        let endpoint_url = sdk.endpoint_url().map(str::to_owned);
        let s3_endpoint_set = match &config.source {
            ConfigSource::Process => std::env::var_os("AWS_ENDPOINT_URL_S3").is_some(),
            ConfigSource::Vars(_) => false,
        };
        let counter = RequestCounter::new();
        let clients = Clients {
            ec2: aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(&sdk)
                    .interceptor(counter.interceptor(Service::Ec2))
                    .build(),
            ),
            ecs: aws_sdk_ecs::Client::from_conf(
                aws_sdk_ecs::config::Builder::from(&sdk)
                    .interceptor(counter.interceptor(Service::Ecs))
                    .build(),
            ),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::from_conf(
                aws_sdk_elasticloadbalancingv2::config::Builder::from(&sdk)
                    .interceptor(counter.interceptor(Service::Elbv2))
                    .build(),
            ),
            route53: aws_sdk_route53::Client::from_conf(
                aws_sdk_route53::config::Builder::from(&sdk)
                    .interceptor(counter.interceptor(Service::Route53))
                    .build(),
            ),
            acm: aws_sdk_acm::Client::from_conf(
                aws_sdk_acm::config::Builder::from(&sdk)
                    .interceptor(counter.interceptor(Service::Acm))
                    .build(),
            ),
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(&sdk)
                    .interceptor(counter.interceptor(Service::Iam))
                    .build(),
            ),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::config::Builder::from(&sdk)
                    .interceptor(counter.interceptor(Service::Logs))
                    .build(),
            ),
            ecr: aws_sdk_ecr::Client::from_conf(
                aws_sdk_ecr::config::Builder::from(&sdk)
                    .interceptor(counter.interceptor(Service::Ecr))
                    .build(),
            ),
            // Virtual-host-style bucket addresses (`bucket.host`) do not resolve on an
            // emulator's `127.0.0.1:PORT`, so any custom endpoint gets path-style addresses.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(endpoint_url.is_some() || s3_endpoint_set)
                    .interceptor(counter.interceptor(Service::S3))
                    .build(),
            ),
            ssm: aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(&sdk)
                    .interceptor(counter.interceptor(Service::Ssm))
                    .build(),
            ),
            autoscaling: aws_sdk_applicationautoscaling::Client::from_conf(
                aws_sdk_applicationautoscaling::config::Builder::from(&sdk)
                    .interceptor(counter.interceptor(Service::ApplicationAutoScaling))
                    .build(),
            ),
            servicediscovery: aws_sdk_servicediscovery::Client::from_conf(
                aws_sdk_servicediscovery::config::Builder::from(&sdk)
                    .interceptor(counter.interceptor(Service::ServiceDiscovery))
                    .build(),
            ),
            ec2_autoscaling: aws_sdk_autoscaling::Client::from_conf(
                aws_sdk_autoscaling::config::Builder::from(&sdk)
                    .interceptor(counter.interceptor(Service::AutoScaling))
                    .build(),
            ),
        };
        Ok(AwsContext {
            region,
            endpoint_url,
            clients,
            counter,
        })
    }

    /// The region every client uses.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The endpoint override in force, from `--endpoint-url` or `AWS_ENDPOINT_URL`.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.endpoint_url.as_deref()
    }

    /// The service clients.
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// Requests sent so far through this context's clients.
    pub fn requests(&self) -> &RequestCounter {
        &self.counter
    }

    /// Turns an SDK error from `service`'s `operation` into an [`AwsError`], naming the
    /// endpoint that was really called when it could not be reached.
    pub fn classify<E>(
        &self,
        service: Service,
        operation: &str,
        err: SdkError<E, HttpResponse>,
    ) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let endpoint = self
            .counter
            .last_endpoint(service.as_str())
            .or_else(|| self.endpoint_url.clone())
            .unwrap_or_else(|| service.default_endpoint(&self.region));
        classify(service, operation, &endpoint, err)
    }

    /// One cheap read (EC2 `DescribeAvailabilityZones`) that proves the endpoint answers, the
    /// credentials are accepted and the region exists, before any real work starts. Returns
    /// the names of the region's available zones.
    pub async fn probe(&self) -> Result<Vec<String>, AwsError> {
        let out = self
            .clients
            .ec2
            .describe_availability_zones()
            .send()
            .await
            .map_err(|e| self.classify(Service::Ec2, "DescribeAvailabilityZones", e))?;
        let mut zones: Vec<String> = out
            .availability_zones()
            .iter()
            .filter_map(|zone| zone.zone_name().map(str::to_owned))
            .collect();
        zones.sort();
        Ok(zones)
    }
}

/// Runs aws-config's loader with the explicit settings on top.
async fn load_sdk_config(config: &AwsConfig) -> Result<SdkConfig, AwsError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    let mut region = config.region.clone();
    let mut endpoint_url = config.endpoint_url.clone();
    if let ConfigSource::Vars(vars) = &config.source {
        region = region.or_else(|| {
            config
                .source
                .var("AWS_REGION")
                .or_else(|| config.source.var("AWS_DEFAULT_REGION"))
                .map(str::to_owned)
        });
        endpoint_url =
            endpoint_url.or_else(|| config.source.var("AWS_ENDPOINT_URL").map(str::to_owned));
        // Without a region the loader would ask the instance metadata service, which is not
        // "only these variables"; fail here instead.
        if region.is_none() {
            return Err(AwsError::NoRegion);
        }
        loader = loader
            .empty_test_environment()
            .credentials_provider(VarsCredentials { vars: vars.clone() });
    }
    if let Some(region) = region {
        loader = loader.region(Region::new(region));
    }
    if let Some(url) = endpoint_url {
        check_endpoint(&url)?;
        loader = loader.endpoint_url(url);
    }
    if let Some(profile) = &config.profile {
        loader = loader.profile_name(profile);
    }
    loader = loader.retry_config(retry_config(config.max_attempts));
    if let Some(timeout) = config.connect_timeout {
        loader = loader.timeout_config(TimeoutConfig::builder().connect_timeout(timeout).build());
    }
    Ok(loader.load().await)
}

/// Attempts per request (the first included) that every client makes when
/// [`AwsConfig::max_attempts`] does not say otherwise.
///
/// Five rather than the SDK's three: a plan reads every type at once and an apply runs
/// several creates in parallel, which is when AWS throttles (EC2's `RequestLimitExceeded`,
/// Route 53's `Throttling`), and the SDK's jittered exponential backoff (from 1 s) between
/// five attempts waits out up to about fifteen seconds of a burst instead of three. Above
/// the SDK, the engine's walker retries a throttled or transient failure of a whole
/// operation a few more times with its own backoff, so this bounds one request, not the
/// apply.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// The SDK's retry configuration for every client: set here and nowhere else.
///
/// Adaptive mode: the standard retries (exponential backoff with jitter on throttling,
/// transient and 5xx errors) plus a client-side rate limiter that slows this process's
/// requests down once AWS throttles them, instead of every parallel task retrying into
/// the same limit. It overrides `AWS_RETRY_MODE`/`AWS_MAX_ATTEMPTS` and the profile's
/// `retry_mode`/`max_attempts`: iac's behaviour under throttling should not depend on the
/// machine it runs on. `max_attempts` (at least 1) comes from [`AwsConfig::max_attempts`].
fn retry_config(max_attempts: Option<u32>) -> RetryConfig {
    RetryConfig::adaptive().with_max_attempts(max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS).max(1))
}

/// Rejects what the SDK would only reject at the first request, with a less clear message.
fn check_endpoint(url: &str) -> Result<(), AwsError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| AwsError::InvalidEndpoint {
            url: url.to_owned(),
            reason: "it must start with `http://` or `https://`",
        })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(AwsError::InvalidEndpoint {
            url: url.to_owned(),
            reason: "it has no host",
        });
    }
    Ok(())
}

/// Credentials read from [`ConfigSource::Vars`], the way the SDK reads them from the process
/// environment.
#[derive(Debug)]
struct VarsCredentials {
    vars: Vec<(String, String)>,
}

impl VarsCredentials {
    fn get(&self, name: &str) -> Option<String> {
        self.vars
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
    }

    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let (Some(key), Some(secret)) = (
            self.get("AWS_ACCESS_KEY_ID"),
            self.get("AWS_SECRET_ACCESS_KEY"),
        ) else {
            return Err(CredentialsError::not_loaded(
                "`AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are not both set",
            ));
        };
        Ok(Credentials::new(
            key,
            secret,
            self.get("AWS_SESSION_TOKEN"),
            None,
            "iac-vars",
        ))
    }
}

impl ProvideCredentials for VarsCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(self.credentials())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_must_be_an_http_url() {
        assert!(check_endpoint("http://127.0.0.1:5000").is_ok());
        assert!(check_endpoint("https://ec2.us-east-1.amazonaws.com").is_ok());
        let err = check_endpoint("127.0.0.1:5000").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid endpoint URL `127.0.0.1:5000`: it must start with `http://` or `https://`"
        );
        assert!(matches!(
            check_endpoint("http://"),
            Err(AwsError::InvalidEndpoint { .. })
        ));
    }

    #[test]
    fn default_endpoints_follow_aws_naming() {
        assert_eq!(
            Service::Ec2.default_endpoint("eu-west-1"),
            "https://ec2.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            Service::Elbv2.default_endpoint("eu-west-1"),
            "https://elasticloadbalancing.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            Service::Iam.default_endpoint("eu-west-1"),
            "https://iam.amazonaws.com"
        );
    }

    #[tokio::test]
    async fn vars_without_a_region_is_an_error_before_any_lookup() {
        let config = AwsConfig {
            source: ConfigSource::Vars(vec![]),
            ..AwsConfig::default()
        };
        let err = AwsContext::load(&config).await.unwrap_err();
        assert!(matches!(err, AwsError::NoRegion));
        assert!(err.help().is_some_and(|h| h.contains("--region")));
    }

    #[tokio::test]
    async fn explicit_settings_win_over_vars() {
        let config = AwsConfig {
            region: Some("eu-west-1".to_owned()),
            endpoint_url: Some("http://127.0.0.1:9".to_owned()),
            source: ConfigSource::Vars(vec![
                ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
                (
                    "AWS_ENDPOINT_URL".to_owned(),
                    "http://127.0.0.1:8".to_owned(),
                ),
            ]),
            ..AwsConfig::default()
        };
        let ctx = AwsContext::load(&config).await.unwrap();
        assert_eq!(ctx.region(), "eu-west-1");
        assert_eq!(ctx.endpoint_url(), Some("http://127.0.0.1:9"));
    }

    #[tokio::test]
    async fn vars_supply_region_and_endpoint() {
        let config = AwsConfig {
            source: ConfigSource::Vars(vec![
                ("AWS_DEFAULT_REGION".to_owned(), "ap-south-1".to_owned()),
                (
                    "AWS_ENDPOINT_URL".to_owned(),
                    "http://127.0.0.1:8".to_owned(),
                ),
            ]),
            ..AwsConfig::default()
        };
        let ctx = AwsContext::load(&config).await.unwrap();
        assert_eq!(ctx.region(), "ap-south-1");
        assert_eq!(ctx.endpoint_url(), Some("http://127.0.0.1:8"));
        assert_eq!(ctx.requests().total(), 0);
    }
}
