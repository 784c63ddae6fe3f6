//! AWS configuration: one load of the standard chain (env, profiles, SSO, endpoint override),
//! shared by every client, with the retry policy set once.

use std::time::Duration;

use anyhow::anyhow;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;

use crate::provider::ApiError;

#[derive(Debug, Clone)]
pub struct CloudOptions {
    pub region: String,
    /// Overrides the endpoint of every service (else `AWS_ENDPOINT_URL` or AWS's own).
    pub endpoint_url: Option<String>,
    pub max_attempts: u32,
    /// The adaptive retry policy (client-side rate limiting on throttling) instead of standard.
    pub adaptive_retries: bool,
}

fn retry_config(options: &CloudOptions) -> RetryConfig {
    let policy = if options.adaptive_retries { RetryConfig::adaptive() } else { RetryConfig::standard() };
    policy.with_max_attempts(options.max_attempts).with_initial_backoff(Duration::from_millis(200))
}

/// Loads the AWS configuration and checks that credentials exist, so that a missing profile
/// is reported before any plan is made rather than as the first call's failure.
pub async fn load(options: &CloudOptions) -> anyhow::Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(options.region.clone())).retry_config(retry_config(options));
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    let provider = config.credentials_provider().ok_or_else(|| anyhow!("no AWS credentials provider is configured"))?;
    use aws_credential_types::provider::ProvideCredentials as _;
    // The provider chain's own error nests every source tried (IMDS, SSO, …): the summary and
    // the fix help more than the dump.
    provider.provide_credentials().await.map_err(|e| {
        crate::diagnostic::help(
            format!("no AWS credentials found{}", credentials_cause(&e)),
            "set AWS_PROFILE (and run `aws sso login` for SSO profiles), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        )
    })?;
    Ok(config)
}

/// Why loading credentials failed, in the words of the innermost cause: the error's own text
/// ("an error occurred while loading credentials") says nothing; none when no source was
/// configured at all (the message says that already).
fn credentials_cause(e: &aws_credential_types::provider::error::CredentialsError) -> String {
    use aws_credential_types::provider::error::CredentialsError;
    if matches!(e, CredentialsError::CredentialsNotLoaded(_)) {
        return String::new();
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    if std::ptr::addr_eq(cause, e as &dyn std::error::Error) { String::new() } else { format!(" ({cause})") }
}

/// An SDK failure as `Code: message (request id …)`, never as a bare "service error", so that
/// `?` is the one way an AWS call's failure reaches the engine.
impl<E, R> From<SdkError<E, R>> for ApiError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
    SdkError<E, R>: RequestId,
{
    fn from(err: SdkError<E, R>) -> Self {
        let request_id = err.request_id().map(str::to_string);
        match err.as_service_error() {
            Some(service) => {
                ApiError { code: service.code().unwrap_or("Unknown").to_string(), message: service.message().unwrap_or("(no message)").to_string(), request_id }
            }
            None => ApiError { code: "RequestFailed".into(), message: aws_smithy_types::error::display::DisplayErrorContext(&err).to_string(), request_id },
        }
    }
}
