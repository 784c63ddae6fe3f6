//! All ingress and egress rules of one security group, held to exactly the stack's list
//! (including removing the allow-all egress rule AWS adds to a new group, unless wanted).

use aws_sdk_ec2::types::{IpPermission, IpRange, UserIdGroupPair};
use serde_json::{Value, json};

use super::{Session, attr_str, observed};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::derived("group_id").replace_on(&["group_id"]).parent("group_id").normalize(normalize);

/// Rules are a set: sort them so that order never shows up as a change.
pub fn normalize(attrs: &mut Attrs) {
    for key in ["ingress", "egress"] {
        if let Some(Value::Array(rules)) = attrs.get_mut(key) {
            rules.sort_by_key(|r| r.to_string());
            rules.dedup();
        }
    }
}

/// One rule per (protocol, ports, source), as the stack writes them.
fn flatten(perms: &[IpPermission]) -> Vec<Value> {
    let mut out = vec![];
    for p in perms {
        let protocol = p.ip_protocol().unwrap_or("-1");
        let mut base = json!({"protocol": protocol});
        if protocol != "-1" {
            base["from_port"] = json!(p.from_port());
            base["to_port"] = json!(p.to_port());
        }
        for r in p.ip_ranges() {
            let mut rule = base.clone();
            rule["cidr"] = json!(r.cidr_ip());
            out.push(rule);
        }
        for g in p.user_id_group_pairs() {
            let mut rule = base.clone();
            rule["group_id"] = json!(g.group_id());
            out.push(rule);
        }
    }
    out
}

fn permission(rule: &Value) -> IpPermission {
    let mut p = IpPermission::builder().ip_protocol(rule["protocol"].as_str().unwrap_or("-1"));
    if let (Some(from), Some(to)) = (rule["from_port"].as_i64(), rule["to_port"].as_i64()) {
        p = p.from_port(from as i32).to_port(to as i32);
    }
    if let Some(cidr) = rule["cidr"].as_str() {
        p = p.ip_ranges(IpRange::builder().cidr_ip(cidr).build());
    }
    if let Some(group) = rule["group_id"].as_str() {
        p = p.user_id_group_pairs(UserIdGroupPair::builder().group_id(group).build());
    }
    p.build()
}

pub async fn read(cx: &Session, _: &Scope<'_>) -> Result<Found> {
    let mut out = Found::new();
    let groups = match cx.shared::<Vec<aws_sdk_ec2::types::SecurityGroup>>("DescribeSecurityGroups") {
        Some(groups) => groups,
        None => super::security_group::describe(cx).await?,
    };
    for g in groups {
        let (Some(address), Some(id)) = (super::tags::address_of(g.tags()), g.group_id()) else {
            continue;
        };
        let mut attrs = json!({"group_id": id, "ingress": flatten(g.ip_permissions()), "egress": flatten(g.ip_permissions_egress())});
        normalize(attrs.as_object_mut().expect("object"));
        out.push((address.with_kind("security_group_rules"), observed(id, attrs, &[])));
    }
    Ok(out)
}

async fn current(cx: &Session, group: &str) -> Result<Attrs> {
    // The group may be fresh from this run (EC2 eventual consistency: retried).
    let found = super::wait::propagated(cx, || async { cx.ec2().describe_security_groups().group_ids(group).send().await.map_err(ApiError::from) }).await?;
    let g = found.security_groups().first();
    let attrs = json!({
        "ingress": g.map(|g| flatten(g.ip_permissions())).unwrap_or_default(),
        "egress": g.map(|g| flatten(g.ip_permissions_egress())).unwrap_or_default(),
    });
    Ok(attrs.as_object().expect("object").clone())
}

/// Authorizes what is missing and revokes what is not wanted.
async fn converge(cx: &Session, group: &str, have: &Attrs, want: &Attrs) -> Result<()> {
    for egress in [false, true] {
        let key = if egress { "egress" } else { "ingress" };
        let list = |a: &Attrs| a.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
        let (have, want) = (list(have), list(want));
        let add: Vec<IpPermission> = want.iter().filter(|r| !have.contains(r)).map(permission).collect();
        let remove: Vec<IpPermission> = have.iter().filter(|r| !want.contains(r)).map(permission).collect();
        let ec2 = cx.ec2();
        if !add.is_empty() {
            // A source group may be fresh from this run (EC2 eventual consistency: retried).
            super::wait::propagated(cx, || async {
                if egress {
                    ec2.authorize_security_group_egress().group_id(group).set_ip_permissions(Some(add.clone())).send().await.map(|_| ()).map_err(ApiError::from)
                } else {
                    ec2.authorize_security_group_ingress().group_id(group).set_ip_permissions(Some(add.clone())).send().await.map(|_| ()).map_err(ApiError::from)
                }
            })
            .await?;
        }
        if !remove.is_empty() {
            if egress {
                ec2.revoke_security_group_egress().group_id(group).set_ip_permissions(Some(remove)).send().await?;
            } else {
                ec2.revoke_security_group_ingress().group_id(group).set_ip_permissions(Some(remove)).send().await?;
            }
        }
    }
    Ok(())
}

pub async fn create(cx: &Session, _: &Address, attrs: &Attrs, _token: &str) -> Result<Observed> {
    let group = attr_str(attrs, "group_id")?;
    converge(cx, group, &current(cx, group).await?, attrs).await?;
    Ok(Observed { id: group.into(), attrs: attrs.clone(), outputs: super::outputs(group, &[]) })
}

pub async fn update(cx: &Session, address: &Address, _: &Observed, attrs: &Attrs) -> Result<Observed> {
    create(cx, address, attrs, "").await
}

/// Revokes every rule, so that groups referring to this one can be deleted.
pub async fn delete(cx: &Session, _: &Address, current_rules: &Observed) -> Result<()> {
    let group = &current_rules.id;
    let have = match current(cx, group).await {
        Err(e) if e.code.ends_with("NotFound") => return Ok(()),
        other => other?,
    };
    let none = json!({"ingress": [], "egress": []}).as_object().expect("object").clone();
    converge(cx, group, &have, &none).await
}
