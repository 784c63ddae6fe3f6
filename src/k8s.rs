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

/// EKS tokens live 15 minutes; a client is rebuilt with a fresh token well before that.
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

pub fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 404)
}
