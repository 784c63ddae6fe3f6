//! EKS bearer tokens, as `aws eks get-token` makes them: a presigned STS GetCallerIdentity URL
//! whose signed headers bind it to one cluster (`x-k8s-aws-id`), base64url without padding,
//! prefixed `k8s-aws-v1.`. The API server checks it by calling STS with that URL.

use std::time::{Duration, SystemTime};

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use base64::Engine;
use serde_json::{Value, json};

/// Presigned URLs for EKS live 60 s on STS; EKS accepts the token for 15 minutes from its
/// signing time, so clients are told to refresh a little before that.
const URL_EXPIRES: Duration = Duration::from_secs(60);
const TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);

pub fn token(credentials: &Credentials, region: &str, cluster: &str, now: SystemTime) -> anyhow::Result<String> {
    let host = crate::partition::Partition::of(region).sts_host(region);
    let url = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(URL_EXPIRES);
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .context("cannot build signing parameters")?
        .into();
    let headers = [("x-k8s-aws-id", cluster)];
    let request = SignableRequest::new("GET", url.as_str(), headers.into_iter(), SignableBody::Bytes(&[])).context("cannot sign the STS request")?;
    let (instructions, _) = sign(request, &params).context("cannot sign the STS request")?.into_parts();
    let mut signed = url;
    for (name, value) in instructions.params() {
        signed.push('&');
        signed.push_str(name);
        signed.push('=');
        signed.push_str(&encode(value));
    }
    Ok(format!("k8s-aws-v1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signed)))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The ExecCredential a kubeconfig exec plugin prints.
pub fn exec_credential(token: &str, now: SystemTime) -> Value {
    json!({
        "kind": "ExecCredential",
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "spec": {},
        "status": {"expirationTimestamp": rfc3339(now + TOKEN_LIFETIME), "token": token},
    })
}

fn rfc3339(t: SystemTime) -> String {
    let stamp = crate::reporter::timestamp_at(t);
    // Kubernetes parses RFC 3339 without fractional seconds.
    format!("{}Z", &stamp[..19])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_a_presigned_sts_url_bound_to_the_cluster() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_000_000);
        let token = token(&creds, "us-west-2", "demo", now).unwrap();
        let encoded = token.strip_prefix("k8s-aws-v1.").unwrap();
        assert!(!encoded.contains('=') && !encoded.contains('+') && !encoded.contains('/'));
        let url = String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap();
        assert!(url.starts_with("https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"), "{url}");
        assert!(url.contains("X-Amz-Expires=60"), "{url}");
        assert!(url.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"), "{url}");
        assert!(url.contains("X-Amz-Credential=AKIDEXAMPLE%2F"), "{url}");
        assert!(url.contains("X-Amz-Signature="), "{url}");
        let cred = exec_credential(&token, now);
        assert_eq!(cred["status"]["expirationTimestamp"], "2025-11-24T16:14:00Z");
    }
}
