//! Network limits of EC2 instance types (DescribeInstanceTypes), for the plan's IP capacity.

use aws_sdk_ec2::types::InstanceType;

use super::Aws;
use crate::provider::{InstanceNetwork, Result};

impl Aws {
    /// Network limits of instance types (one DescribeInstanceTypes call).
    pub async fn instance_networks(&self, types: &[String]) -> Result<Vec<(String, InstanceNetwork)>> {
        if types.is_empty() {
            return Ok(vec![]);
        }
        let found: Vec<_> = self
            .session
            .ec2()
            .describe_instance_types()
            .set_instance_types(Some(types.iter().map(|t| InstanceType::from(t.as_str())).collect()))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        Ok(found
            .iter()
            .filter_map(|t| {
                let n = t.network_info()?;
                let network = InstanceNetwork { max_enis: n.maximum_network_interfaces()? as u32, ipv4_per_eni: n.ipv4_addresses_per_interface()? as u32 };
                Some((t.instance_type()?.as_str().to_string(), network))
            })
            .collect())
    }
}
