//! Stacks in a region that carry an expiry (`eksnet:expires-at`), found by their VPCs: every
//! stack has exactly one, tagged like every object of the stack. One paginated
//! DescribeVpcs call with a `tag-key` filter per region (EC2 API reference, DescribeVpcs
//! filters: "tag-key - The key of a tag assigned to the resource").

use aws_sdk_ec2::types::Filter;

use super::{Aws, tags};
use crate::expiry::EXPIRES_AT_TAG;
use crate::provider::{ApiError, Result};

/// A stack with an expiry, as its VPC says.
#[derive(Debug, Clone)]
pub struct Expiring {
    pub stack: String,
    pub vpc_id: String,
    pub expires_at: String,
}

impl Aws {
    /// The regions this account has enabled (DescribeRegions lists only those by default).
    pub async fn regions(&self) -> Result<Vec<String>> {
        let out = self.session.ec2().describe_regions().send().await?;
        Ok(out.regions().iter().filter_map(|r| r.region_name().map(str::to_string)).collect())
    }

    pub async fn expiring_stacks(&self) -> Result<Vec<Expiring>> {
        let vpcs: Vec<_> = self
            .session
            .ec2()
            .describe_vpcs()
            .filters(Filter::builder().name("tag-key").values(EXPIRES_AT_TAG).build())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(ApiError::from)?;
        Ok(vpcs
            .iter()
            .filter_map(|vpc| {
                let tag = |key: &str| vpc.tags().iter().find(|t| t.key() == Some(key)).and_then(|t| t.value()).map(str::to_string);
                Some(Expiring { stack: tag(tags::STACK)?, vpc_id: vpc.vpc_id()?.to_string(), expires_at: tag(EXPIRES_AT_TAG)? })
            })
            .collect())
    }
}
