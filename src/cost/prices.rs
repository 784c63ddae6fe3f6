//! Prices from AWS's Price List Query API (`pricing:GetProducts`), one filtered query per
//! product and region, kept on disk for a day (`$XDG_CACHE_HOME/eksnet/prices/`, else
//! `~/.cache/eksnet/prices/`) so that a plan makes a handful of calls at most once a day.
//! The API is served from a few regions only; the closest one is asked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_sdk_pricing::types::{Filter, FilterType};
use serde_json::{Value, json};

use crate::provider::ApiError;

/// How long a cached answer is used.
const CACHE_LIFE: Duration = Duration::from_secs(24 * 60 * 60);

/// The region's prices, each one read or the reason it could not be.
#[derive(Debug, Clone)]
pub struct Rates {
    pub cluster_hour: Result<f64, String>,
    /// The extended-support surcharge, on top of `cluster_hour`.
    pub extended_hour: Result<f64, String>,
    pub nat_hour: Result<f64, String>,
    pub ipv4_hour: Result<f64, String>,
    pub gp3_gb_month: Result<f64, String>,
    /// On-demand Linux, shared tenancy, per instance type.
    pub instance_hour: BTreeMap<String, Result<f64, String>>,
    /// `STANDARD_SUPPORT`, `EXTENDED_SUPPORT`, `UNSUPPORTED` per Kubernetes version.
    pub support: BTreeMap<String, Result<String, String>>,
    /// Why nothing could be read, for what was not asked at all.
    failure: Option<String>,
}

impl Rates {
    /// Rates of which none could be read, for `reason`.
    #[cfg(test)]
    pub fn failing(reason: &str) -> Rates {
        let e = Err(reason.to_string());
        Rates {
            cluster_hour: e.clone(),
            extended_hour: e.clone(),
            nat_hour: e.clone(),
            ipv4_hour: e.clone(),
            gp3_gb_month: e,
            instance_hour: BTreeMap::new(),
            support: BTreeMap::new(),
            failure: Some(reason.to_string()),
        }
    }

    pub fn instance(&self, instance_type: &str) -> Result<f64, String> {
        self.instance_hour
            .get(instance_type)
            .cloned()
            .unwrap_or_else(|| Err(self.failure.clone().unwrap_or_else(|| format!("no price was read for {instance_type}"))))
    }

    pub fn support_of(&self, version: &str) -> Result<String, String> {
        self.support
            .get(version)
            .cloned()
            .unwrap_or_else(|| Err(self.failure.clone().unwrap_or_else(|| format!("the support status of Kubernetes {version} was not read"))))
    }
}

/// Where answers are kept: `$XDG_CACHE_HOME/eksnet/prices`, else `~/.cache/eksnet/prices`.
pub fn cache_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
    let base = xdg.or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("eksnet").join("prices"))
}

/// The Price List API's region closest to the stack's (it is served from these three).
fn endpoint_region(region: &str) -> &'static str {
    match region.split('-').next() {
        Some("eu" | "me" | "af" | "il") => "eu-central-1",
        Some("ap") => "ap-south-1",
        _ => "us-east-1",
    }
}

/// Reads every price the estimate needs: the instance types given, the Kubernetes versions'
/// support status (DescribeClusterVersions in the stack's region), and the rest.
pub async fn rates(config: &SdkConfig, region: &str, instance_types: &[String], versions: &[String], cache: Option<&Path>) -> Rates {
    let conf = aws_sdk_pricing::config::Builder::from(config)
        .region(aws_config::Region::new(endpoint_region(region)))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .timeout_config(aws_config::timeout::TimeoutConfig::builder().operation_timeout(Duration::from_secs(20)).build())
        .build();
    let client = aws_sdk_pricing::Client::from_conf(conf);
    // Answers of another endpoint (an emulator's) are kept apart from AWS's own.
    let cache = cache.map(|dir| match config.endpoint_url() {
        None => dir.join("aws"),
        Some(url) => dir.join(format!("endpoint-{:016x}", fnv(url))),
    });
    let cache = cache.as_deref();
    let ask = |key: String, service: &'static str, filters: Vec<(&'static str, String)>| {
        let client = client.clone();
        async move { cached(cache, region, &key, || query(&client, service, region, &filters)).await }
    };
    let family = |f: &str| ("productFamily", f.to_string());
    let (eks, nat, ipv4, gp3) = futures::join!(
        ask("eks".into(), "AmazonEKS", vec![family("Compute")]),
        ask("nat-gateway".into(), "AmazonEC2", vec![family("NAT Gateway")]),
        ask("public-ipv4".into(), "AmazonVPC", vec![]),
        ask("gp3".into(), "AmazonEC2", vec![family("Storage"), ("volumeApiName", "gp3".into())]),
    );
    let instances = futures::future::join_all(instance_types.iter().map(|t| {
        let filters = vec![
            family("Compute Instance"),
            ("instanceType", t.clone()),
            ("operatingSystem", "Linux".into()),
            ("tenancy", "Shared".into()),
            ("preInstalledSw", "NA".into()),
            ("capacitystatus", "Used".into()),
            ("licenseModel", "No License required".into()),
        ];
        ask(format!("instance-{t}"), "AmazonEC2", filters)
    }))
    .await;
    let pick = |found: &Result<BTreeMap<String, f64>, String>, suffix: &str, what: &str| -> Result<f64, String> {
        let found = found.as_ref().map_err(Clone::clone)?;
        let prices: Vec<f64> = found.iter().filter(|(usage, _)| usage.ends_with(suffix)).map(|(_, p)| *p).collect();
        one(&prices, || format!("AWS's price list has no {what} in {region}"))
    };
    let mut rates = Rates {
        cluster_hour: pick(&eks, "AmazonEKS-Hours:perCluster", "EKS cluster hour"),
        extended_hour: pick(&eks, "AmazonEKS-Hours:extendedSupport", "EKS extended support hour"),
        nat_hour: pick(&nat, "NatGateway-Hours", "NAT gateway hour"),
        ipv4_hour: pick(&ipv4, "PublicIPv4:InUseAddress", "in-use public IPv4 address hour"),
        gp3_gb_month: pick(&gp3, "EBS:VolumeUsage.gp3", "gp3 GB-month"),
        instance_hour: BTreeMap::new(),
        support: BTreeMap::new(),
        failure: None,
    };
    for (t, found) in instance_types.iter().zip(&instances) {
        let price = found.as_ref().map_err(Clone::clone).and_then(|f| {
            let prices: Vec<f64> = f.values().copied().collect();
            one(&prices, || format!("AWS's price list has no on-demand Linux price for {t} in {region}"))
        });
        rates.instance_hour.insert(t.clone(), price);
    }
    rates.support = support(config, versions).await;
    rates
}

/// FNV-1a: a name for an endpoint's cache directory that is the same in every build.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The one price a query should give; several different ones would be a guess.
fn one(prices: &[f64], missing: impl Fn() -> String) -> Result<f64, String> {
    match prices {
        [] => Err(missing()),
        [first, rest @ ..] if rest.iter().all(|p| p == first) => Ok(*first),
        _ => Err(format!("{} (several prices match: {prices:?})", missing().replace(" has no ", " has no single "))),
    }
}

async fn support(config: &SdkConfig, versions: &[String]) -> BTreeMap<String, Result<String, String>> {
    if versions.is_empty() {
        return BTreeMap::new();
    }
    let eks = aws_sdk_eks::Client::new(config);
    let answer = eks.describe_cluster_versions().set_cluster_versions(Some(versions.to_vec())).include_all(true).send().await.map_err(ApiError::from);
    versions
        .iter()
        .map(|v| {
            let status = match &answer {
                Err(e) => Err(format!("cannot read the support status of Kubernetes {v} ({e})")),
                Ok(out) => out
                    .cluster_versions()
                    .iter()
                    .find(|c| c.cluster_version() == Some(v.as_str()))
                    .and_then(|c| c.version_status())
                    .map(|s| s.as_str().to_string())
                    .ok_or_else(|| format!("EKS does not list Kubernetes {v}")),
            };
            (v.clone(), status)
        })
        .collect()
}

/// One GetProducts query (every page): the on-demand price per usage type.
async fn query(client: &aws_sdk_pricing::Client, service: &str, region: &str, filters: &[(&str, String)]) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    let mut token: Option<String> = None;
    for _ in 0..20 {
        let mut call = client.get_products().service_code(service).format_version("aws_v1").max_results(100).set_next_token(token.take());
        for (field, value) in std::iter::once(&("regionCode", region.to_string())).chain(filters) {
            call = call.filters(Filter::builder().r#type(FilterType::TermMatch).field(*field).value(value).build().map_err(|e| e.to_string())?);
        }
        let page = call.send().await.map_err(|e| {
            // Without the request id: one reason for every object it leaves unpriced.
            let e = ApiError::from(e);
            match e.code.as_str() {
                "AccessDeniedException" => format!("no permission for pricing:GetProducts; {}: {}", e.code, e.message),
                "RequestFailed" => format!("the Price List API cannot be reached; {}", e.message),
                _ => format!("the Price List API refused {service} prices; {}: {}", e.code, e.message),
            }
        })?;
        for doc in page.price_list() {
            let doc: Value = serde_json::from_str(doc).map_err(|e| format!("the Price List API answered a document that is not JSON: {e}"))?;
            if let Some((usage, usd)) = on_demand(&doc) {
                out.insert(usage, usd);
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
    Err(format!("the Price List API kept paging {service} prices"))
}

/// A price list document's usage type and on-demand USD price per unit.
fn on_demand(doc: &Value) -> Option<(String, f64)> {
    let usage = doc.pointer("/product/attributes/usagetype")?.as_str()?.to_string();
    let term = doc.pointer("/terms/OnDemand")?.as_object()?.values().next()?;
    let dimension = term.get("priceDimensions")?.as_object()?.values().next()?;
    let usd = dimension.pointer("/pricePerUnit/USD")?.as_str()?.parse().ok()?;
    Some((usage, usd))
}

/// `fetch`'s answer, from the cache while it is younger than a day. Failures are not kept.
async fn cached<F, Fut>(cache: Option<&Path>, region: &str, key: &str, fetch: F) -> Result<BTreeMap<String, f64>, String>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<BTreeMap<String, f64>, String>>,
{
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let file = cache.map(|dir| dir.join(region).join(format!("{key}.json")));
    if let Some(kept) = file.as_ref().and_then(|f| std::fs::read_to_string(f).ok()).and_then(|t| serde_json::from_str::<Value>(&t).ok()) {
        let fetched = kept["fetched_at"].as_u64().unwrap_or(0);
        if now.saturating_sub(fetched) < CACHE_LIFE.as_secs()
            && let Ok(prices) = serde_json::from_value::<BTreeMap<String, f64>>(kept["prices"].clone())
        {
            return Ok(prices);
        }
    }
    let prices = fetch().await?;
    if let Some(file) = file {
        // A cache that cannot be written costs a few calls next time, nothing more.
        let _ = std::fs::create_dir_all(file.parent().expect("a directory"))
            .and_then(|_| std::fs::write(&file, serde_json::to_vec_pretty(&json!({"fetched_at": now, "prices": prices})).expect("JSON")));
    }
    Ok(prices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_on_demand_price_of_a_price_list_document() {
        let doc = json!({"product": {"attributes": {"usagetype": "APS2-BoxUsage:c5.large"}},
            "terms": {"OnDemand": {"S.T": {"priceDimensions": {"S.T.R": {"unit": "Hrs", "pricePerUnit": {"USD": "0.1110000000"}}}}}}});
        assert_eq!(on_demand(&doc), Some(("APS2-BoxUsage:c5.large".into(), 0.111)));
        assert_eq!(one(&[0.1, 0.1], || "none".into()), Ok(0.1));
        assert!(one(&[0.1, 0.2], || "AWS's price list has no x".into()).unwrap_err().contains("no single x"));
        assert_eq!(endpoint_region("ap-southeast-2"), "ap-south-1");
        assert_eq!(endpoint_region("us-west-2"), "us-east-1");
    }

    #[tokio::test]
    async fn a_cached_answer_is_used_for_a_day_and_failures_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let prices = BTreeMap::from([("NatGateway-Hours".to_string(), 0.045)]);
        let first = cached(Some(dir.path()), "us-east-1", "nat", || async { Ok(prices.clone()) }).await;
        assert_eq!(first, Ok(prices.clone()));
        let again = cached(Some(dir.path()), "us-east-1", "nat", || async { Err("must not be asked".to_string()) }).await;
        assert_eq!(again, Ok(prices));
        let failed = cached(Some(dir.path()), "us-east-1", "gp3", || async { Err("denied".to_string()) }).await;
        assert_eq!(failed, Err("denied".to_string()));
        assert!(!dir.path().join("us-east-1/gp3.json").exists());
        let stale = json!({"fetched_at": 0, "prices": {"NatGateway-Hours": 9.0}});
        std::fs::write(dir.path().join("us-east-1/nat.json"), stale.to_string()).unwrap();
        let fresh = cached(Some(dir.path()), "us-east-1", "nat", || async { Ok(BTreeMap::from([("NatGateway-Hours".to_string(), 0.05)])) }).await;
        assert_eq!(fresh.unwrap()["NatGateway-Hours"], 0.05);
    }
}
