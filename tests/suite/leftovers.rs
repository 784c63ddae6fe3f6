//! A destroy that finishes: what Kubernetes leaves in the network (pod branch ENIs, CNI ENIs,
//! load balancer security groups) is removed when it belongs to the stack's cluster; anything
//! else that blocks stops destroy with a message naming it, and is never deleted.

use aws_sdk_ec2::types::{Filter, IpPermission, ResourceType, Tag, TagSpecification, UserIdGroupPair};
use serde_json::Value;

use crate::common::{LocalCloud, reference_stack};

const REGION: &str = "ap-southeast-2";
const CLUSTER: &str = "CNICustomNetworkDemoEKS";

fn tags(pairs: &[(&str, &str)], kind: ResourceType) -> TagSpecification {
    TagSpecification::builder().resource_type(kind).set_tags(Some(pairs.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect())).build()
}

fn ids(outputs: &Value, key: &str) -> Vec<String> {
    outputs[key].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

async fn eni(ec2: &aws_sdk_ec2::Client, subnet: &str, description: &str, groups: &[&str], tag_pairs: &[(&str, &str)]) -> String {
    let mut call = ec2.create_network_interface().subnet_id(subnet).description(description);
    for g in groups {
        call = call.groups(*g);
    }
    if !tag_pairs.is_empty() {
        call = call.tag_specifications(tags(tag_pairs, ResourceType::NetworkInterface));
    }
    call.send().await.unwrap().network_interface().unwrap().network_interface_id().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_removes_kubernetes_leftovers_of_its_cluster_and_names_foreign_blockers() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    let ec2 = cloud.ec2(REGION).await;
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    let outputs: Value = serde_json::from_str(&eksnet.run(&["-f", &stack, "output", "--json"]).ok().stdout).unwrap();
    let (intra, private) = (ids(&outputs, "intra_subnet_ids"), ids(&outputs, "private_subnet_ids"));
    let vpc = outputs["vpc_id"].as_str().unwrap().to_string();
    let pods = outputs["security_group_ids"]["pods"].as_str().unwrap().to_string();

    // What the VPC resource controller and the VPC CNI leave once the nodes are gone: a detached
    // branch ENI per pod (in the intra subnets, with the pod security group) and a secondary ENI.
    let mut ours = vec![];
    for subnet in &intra {
        ours.push(eni(&ec2, subnet, "aws-k8s-branch-eni", &[&pods], &[]).await);
    }
    ours.push(eni(&ec2, &private[0], "aws-K8S-i-0123456789abcdef0", &[], &[("cluster.k8s.amazonaws.com/name", CLUSTER)]).await);
    // A security group of the AWS Load Balancer Controller, with a rule referring to itself.
    let lb = ec2
        .create_security_group()
        .vpc_id(&vpc)
        .group_name("k8s-default-nginx-1a2b3c")
        .description("[k8s] Managed SecurityGroup for LoadBalancer")
        .tag_specifications(tags(&[("elbv2.k8s.aws/cluster", CLUSTER), ("service.k8s.aws/stack", "default/nginx")], ResourceType::SecurityGroup))
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    cloud.settle(); // the new group is visible to the test's next call, as seconds later on AWS
    let itself = IpPermission::builder().ip_protocol("-1").user_id_group_pairs(UserIdGroupPair::builder().group_id(&lb).build()).build();
    ec2.authorize_security_group_ingress().group_id(&lb).ip_permissions(itself).send().await.unwrap();
    // Someone else's: an ENI of another cluster, and a detached ENI with no Kubernetes marks.
    let other_cluster = eni(&ec2, &intra[1], "aws-K8S-i-0fedcba9876543210", &[], &[("cluster.k8s.amazonaws.com/name", "someone-else")]).await;
    let database = eni(&ec2, &intra[2], "my database", &[], &[]).await;

    let out = eksnet.run(&["-f", &stack, "destroy", "--auto-approve", "-v"]);
    assert_eq!(out.code, 1, "destroy must stop at objects that are not the stack's:\n{}", out.stderr);
    // While it retries, it says what it waits on, naming what holds the subnet.
    let progress: Vec<&str> = out.stderr.lines().filter(|l| l.contains("still destroying subnet.intra")).collect();
    assert!(progress.iter().any(|l| l.contains("attempt") && l.contains(database.as_str())), "no progress line names {database}:\n{}", out.stderr);
    for id in [&other_cluster, &database] {
        assert!(out.stderr.contains(id.as_str()), "the error should name {id}:\n{}", out.stderr);
    }
    assert!(out.stderr.contains("not this stack's cluster's"), "{}", out.stderr);
    let still = |id: &str| {
        let ec2 = ec2.clone();
        let id = id.to_string();
        async move { ec2.describe_network_interfaces().filters(Filter::builder().name("network-interface-id").values(id).build()).send().await.unwrap() }
    };
    for id in [&other_cluster, &database] {
        assert_eq!(still(id).await.network_interfaces().len(), 1, "{id} is not the stack's and must not be deleted");
    }

    // Once their owners moved them away, the next destroy finishes.
    for id in [&other_cluster, &database] {
        ec2.delete_network_interface().network_interface_id(id).send().await.unwrap();
    }
    let out = eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]).ok();
    assert!(out.stderr.contains("Destroy complete"), "{}", out.stderr);
    for id in &ours {
        assert!(still(id).await.network_interfaces().is_empty(), "{id} was left behind");
    }
    // moto keeps the primary ENI of a terminated instance (AWS deletes it); localcloud lets it
    // not hold the subnet, and it is no leftover of eksnet's.
    let instances = ec2.describe_instances().send().await.unwrap();
    let terminated: Vec<&str> = instances
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str()) == Some("terminated"))
        .filter_map(|i| i.instance_id())
        .collect();
    let all_enis = ec2.describe_network_interfaces().send().await.unwrap();
    let left: Vec<_> = all_enis
        .network_interfaces()
        .iter()
        .filter(|e| !e.attachment().and_then(|a| a.instance_id()).is_some_and(|i| terminated.contains(&i)))
        .map(|e| (e.network_interface_id(), e.description()))
        .collect();
    assert!(left.is_empty(), "ENIs left: {left:?}");
    let groups = ec2.describe_security_groups().filters(Filter::builder().name("vpc-id").values(&vpc).build()).send().await.unwrap();
    assert!(groups.security_groups().is_empty(), "security groups left: {:?}", groups.security_groups());
    let vpcs = ec2.describe_vpcs().filters(Filter::builder().name("vpc-id").values(&vpc).build()).send().await.unwrap();
    assert!(vpcs.vpcs().is_empty(), "the VPC is still there");
    assert!(eksnet.run(&["-f", &stack, "state", "list"]).ok().stdout.is_empty());
}
