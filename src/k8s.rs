//! Connections to the cluster's Kubernetes API, exactly as on EKS: the endpoint and CA from
//! DescribeCluster, a bearer token from `token.rs` (presigned STS), no kubeconfig needed.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use aws_config::SdkConfig;
use base64::Engine;

use crate::provider::ApiError;

/// Where a cluster's API is, as eks_cluster outputs say.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClusterRef {
    pub name: String,
    pub endpoint: String,
    pub ca_data: String,
}

/// EKS tokens live 15 minutes from signing (aws-iam-authenticator pkg/token/token.go,
/// `presignedURLExpiration = 15 * time.Minute`; the URL's X-Amz-Expires is ignored), so a
/// client is rebuilt with a fresh token well before that; a 401 all the same (clock skew, a
/// shorter lifetime) rebuilds it at once and retries the call once (`Connections::call`).
const CLIENT_LIFETIME: Duration = Duration::from_secs(10 * 60);

pub struct Connections {
    sdk: SdkConfig,
    cache: tokio::sync::Mutex<HashMap<ClusterRef, (kube::Client, Instant)>>,
}

fn failed(message: impl Into<String>) -> ApiError {
    ApiError::new("KubernetesConnection", message)
}

/// The DER certificates of a base64-encoded PEM bundle (EKS's certificateAuthority.data).
fn der_certificates(ca_data: &str) -> Result<Vec<Vec<u8>>, ApiError> {
    let engine = base64::engine::general_purpose::STANDARD;
    let pem = engine.decode(ca_data.trim()).map_err(|e| failed(format!("the cluster CA is not base64: {e}")))?;
    let pem = String::from_utf8_lossy(&pem);
    let mut certs = vec![];
    for block in pem.split("-----BEGIN CERTIFICATE-----").skip(1) {
        let body: String = block.split("-----END CERTIFICATE-----").next().unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect();
        certs.push(engine.decode(body).map_err(|e| failed(format!("the cluster CA is not a PEM certificate: {e}")))?);
    }
    if certs.is_empty() {
        return Err(failed("the cluster CA holds no certificate"));
    }
    Ok(certs)
}

impl Connections {
    pub fn new(sdk: SdkConfig) -> Self {
        Connections { sdk, cache: tokio::sync::Mutex::new(HashMap::new()) }
    }

    /// Runs `op` with the cluster's client, and if the API answers 401 (the token expired),
    /// once more with a client holding a fresh token. Every call that may come long after the
    /// client was made (waits that poll for many minutes) goes through here.
    pub async fn call<T, F, Fut>(&self, cluster: &ClusterRef, op: F) -> Result<T, kube::Error>
    where
        F: Fn(kube::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        let client = self.client(cluster).await.map_err(|e| kube::Error::Service(e.message.into()))?;
        match op(client).await {
            Err(e) if is_unauthorized(&e) => {
                self.forget(cluster).await;
                let client = self.client(cluster).await.map_err(|e| kube::Error::Service(e.message.into()))?;
                op(client).await
            }
            other => other,
        }
    }

    /// Drops the cached client of `cluster`: the next one gets a fresh token.
    pub async fn forget(&self, cluster: &ClusterRef) {
        self.cache.lock().await.remove(cluster);
    }

    pub async fn client(&self, cluster: &ClusterRef) -> Result<kube::Client, ApiError> {
        let mut cache = self.cache.lock().await;
        if let Some((client, _)) = cache.get(cluster).filter(|(_, made)| made.elapsed() < CLIENT_LIFETIME) {
            return Ok(client.clone());
        }
        use aws_credential_types::provider::ProvideCredentials as _;
        let provider = self.sdk.credentials_provider().ok_or_else(|| failed("no AWS credentials provider"))?;
        let credentials = provider.provide_credentials().await.map_err(|e| failed(format!("no AWS credentials: {e}")))?;
        let region = self.sdk.region().map(|r| r.to_string()).unwrap_or_default();
        let token = crate::token::token(&credentials, &region, &cluster.name, SystemTime::now()).map_err(|e| failed(format!("{e:#}")))?;
        let mut config = kube::Config::new(cluster.endpoint.parse().map_err(|e| failed(format!("bad cluster endpoint `{}`: {e}", cluster.endpoint)))?);
        config.root_cert = Some(der_certificates(&cluster.ca_data)?);
        config.auth_info.token = Some(token.into());
        config.read_timeout = Some(Duration::from_secs(60));
        let client = kube::Client::try_from(config).map_err(|e| failed(format!("cannot build a Kubernetes client: {e}")))?;
        cache.insert(cluster.clone(), (client.clone(), Instant::now()));
        Ok(client)
    }
}

/// A Kubernetes API failure as `Reason: message`.
/// A Kubernetes API failure as `Reason: message (HTTP code)`, so that `?` carries it.
impl From<kube::Error> for ApiError {
    fn from(err: kube::Error) -> Self {
        match err {
            kube::Error::Api(status) => {
                ApiError::new(if status.reason.is_empty() { "KubernetesError" } else { &status.reason }, format!("{} (HTTP {})", status.message, status.code))
            }
            other => ApiError::new("KubernetesRequestFailed", other.to_string()),
        }
    }
}

/// 401: the API refused the token (expired after 15 minutes, or not valid).
pub fn is_unauthorized(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 401)
}

pub fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 404)
}
