//! AWS partitions: the `arn:PARTITION:` prefix and DNS suffix a region belongs to.
//!
//! The table follows the AWS SDKs' `partitions.json` (the `regionRegex` and `dnsSuffix` of each
//! partition, as smithy-rs and aws-sdk-go embed it): `cn-*` is aws-cn (amazonaws.com.cn),
//! `us-gov-*` is aws-us-gov, the ISO partitions have their own suffixes, everything else is aws.
//! Service principals do not follow the partition for the services eksnet trusts: `eks` and `ec2`
//! stay `*.amazonaws.com` everywhere (terraform-provider-aws
//! `internal/service/meta/service_principal_data_source.go`, after aws-cdk's region-info: only
//! codedeploy, elasticmapreduce and logs differ in aws-cn).

/// One partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// The ARN partition: `aws`, `aws-cn`, `aws-us-gov`, …
    pub id: &'static str,
    /// The endpoints' DNS suffix: `amazonaws.com`, `amazonaws.com.cn`, …
    pub dns_suffix: &'static str,
}

/// Region prefixes of the partitions other than `aws`, most specific first.
const PARTITIONS: &[(&str, Partition)] = &[
    ("cn-", Partition { id: "aws-cn", dns_suffix: "amazonaws.com.cn" }),
    ("us-gov-", Partition { id: "aws-us-gov", dns_suffix: "amazonaws.com" }),
    ("us-isob-", Partition { id: "aws-iso-b", dns_suffix: "sc2s.sgov.gov" }),
    ("us-isof-", Partition { id: "aws-iso-f", dns_suffix: "csp.hci.ic.gov" }),
    ("us-iso-", Partition { id: "aws-iso", dns_suffix: "c2s.ic.gov" }),
    ("eu-isoe-", Partition { id: "aws-iso-e", dns_suffix: "cloud.adc-e.uk" }),
];

const AWS: Partition = Partition { id: "aws", dns_suffix: "amazonaws.com" };

impl Partition {
    /// The partition `region` belongs to.
    pub fn of(region: &str) -> Partition {
        PARTITIONS.iter().find(|(prefix, _)| region.starts_with(prefix)).map_or(AWS, |(_, p)| *p)
    }

    /// An AWS managed IAM policy: `arn:aws-cn:iam::aws:policy/NAME` in China.
    pub fn managed_policy(&self, name: &str) -> String {
        format!("arn:{}:iam::aws:policy/{name}", self.id)
    }

    /// An EKS access policy: `arn:aws-us-gov:eks::aws:cluster-access-policy/NAME` in GovCloud
    /// (terraform-aws-modules/eks writes it with `data.aws_partition.current.partition`).
    pub fn access_policy(&self, name: &str) -> String {
        format!("arn:{}:eks::aws:cluster-access-policy/{name}", self.id)
    }

    /// The regional STS endpoint EKS tokens are presigned for (aws-iam-authenticator accepts
    /// `sts.REGION.DNS_SUFFIX`, `pkg/token/token.go`).
    pub fn sts_host(&self, region: &str) -> String {
        format!("sts.{region}.{}", self.dns_suffix)
    }

    /// A service principal for a trust policy (`eks`, `ec2`): `.amazonaws.com` in every partition
    /// for these services (see the module comment).
    pub fn service_principal(&self, service: &str) -> String {
        format!("{service}.amazonaws.com")
    }
}

#[cfg(test)]
mod tests {
    use super::Partition;

    #[test]
    fn regions_map_to_their_partition() {
        let cn = Partition::of("cn-north-1");
        assert_eq!(cn.managed_policy("AmazonEKSClusterPolicy"), "arn:aws-cn:iam::aws:policy/AmazonEKSClusterPolicy");
        assert_eq!(cn.access_policy("AmazonEKSClusterAdminPolicy"), "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
        assert_eq!(cn.sts_host("cn-north-1"), "sts.cn-north-1.amazonaws.com.cn");
        assert_eq!(cn.service_principal("eks"), "eks.amazonaws.com");

        let gov = Partition::of("us-gov-west-1");
        assert_eq!(gov.managed_policy("AmazonEKS_CNI_Policy"), "arn:aws-us-gov:iam::aws:policy/AmazonEKS_CNI_Policy");
        assert_eq!(gov.access_policy("AmazonEKSClusterAdminPolicy"), "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
        assert_eq!(gov.sts_host("us-gov-west-1"), "sts.us-gov-west-1.amazonaws.com");

        for (region, id) in
            [("ap-southeast-2", "aws"), ("us-east-1", "aws"), ("us-iso-east-1", "aws-iso"), ("us-isob-east-1", "aws-iso-b"), ("cn-northwest-1", "aws-cn")]
        {
            assert_eq!(Partition::of(region).id, id, "{region}");
        }
    }
}
