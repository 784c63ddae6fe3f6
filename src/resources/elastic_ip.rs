//! Elastic IPs for public NAT gateways.

use aws_sdk_ec2::types::{DomainType, ResourceType};
use serde_json::json;

use super::{Session, gone_ok, observed, tags, wait};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::tagged("domain").replace_on(&["domain"]).outputs(&["public_ip"]);

pub async fn read(cx: &Session, _: &Scope<'_>) -> Result<Found> {
    // DescribeAddresses is not paginated: one call returns every address.
    let found = cx.ec2().describe_addresses().filters(tags::stack_filter(&cx.stack)).send().await?;
    let mut out = Found::new();
    for a in found.addresses() {
        let (Some(address), Some(id)) = (tags::address_of(a.tags()), a.allocation_id()) else {
            continue;
        };
        let domain = a.domain().map(|d| d.as_str()).unwrap_or("vpc");
        out.push((address, observed(id, json!({"domain": domain, "tags": tags::observed(a.tags())}), &[("public_ip", a.public_ip().unwrap_or_default())])));
    }
    Ok(out)
}

pub async fn create(cx: &Session, address: &Address, attrs: &Attrs, _token: &str) -> Result<Observed> {
    // AllocateAddress answers with the public IP (EC2 API reference, AllocateAddress response:
    // `publicIp`); the answer that allocated `id` is kept with it.
    let answered = std::sync::Mutex::new(None::<(String, String)>);
    let id = super::create_once::create(cx, address, |ec2| {
        let answered = &answered;
        async move {
            let created =
                ec2.allocate_address().domain(DomainType::Vpc).tag_specifications(tags::spec(ResourceType::ElasticIp, attrs)).send().await?;
            let id = created.allocation_id().unwrap_or_default().to_string();
            *answered.lock().expect("answer") = Some((id.clone(), created.public_ip().unwrap_or_default().to_string()));
            Ok(id)
        }
    })
    .await?;
    let public_ip = match answered.into_inner().expect("answer") {
        Some((allocated, ip)) if allocated == id && !ip.is_empty() => ip,
        // An earlier attempt's lost answer allocated it: read it back.
        _ => {
            let found =
                wait::propagated(cx, || async { cx.ec2().describe_addresses().allocation_ids(&id).send().await.map_err(ApiError::from) }).await?;
            found.addresses().first().and_then(|a| a.public_ip()).unwrap_or_default().to_string()
        }
    };
    Ok(Observed { id: id.clone(), attrs: attrs.clone(), outputs: super::outputs(&id, &[("public_ip", &public_ip)]) })
}

pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    tags::sync(cx, &current.id, &current.attrs, attrs).await?;
    Ok(Observed { id: current.id.clone(), attrs: attrs.clone(), outputs: current.outputs.clone() })
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    // Still held by a NAT gateway that is being deleted: AWS answers one of these until it is gone.
    let busy = ["DependencyViolation", "InvalidIPAddress.InUse", "AuthFailure"];
    gone_ok(wait::retrying(&cx.polling, &busy, || async { cx.ec2().release_address().allocation_id(&current.id).send().await.map_err(ApiError::from) }).await)
}
