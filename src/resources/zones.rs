//! The availability zones the account has in the stack's region (DescribeAvailabilityZones),
//! checked by the plan so that a zone that does not exist stops the run before anything is
//! created. Zone letters are mapped to physical zones per account in the older regions (AWS
//! Global Infrastructure, "AWS Availability Zones": "we independently map Availability Zones to
//! codes for each AWS account"), so only the account can say which letters exist.

use super::Aws;
use crate::provider::Result;

impl Aws {
    /// Names of the zones this account can use in the region (one call; not paginated by AWS).
    pub async fn availability_zones(&self) -> Result<Vec<String>> {
        let out = self.session.ec2().describe_availability_zones().send().await?;
        Ok(out.availability_zones().iter().filter_map(|z| z.zone_name().map(str::to_string)).collect())
    }
}
