"""EC2 Describe filters as EC2 applies them (issue 13: a NAT gateway of another stack was read as ours).

Two stacks of every kind eksnet reads back, tagged eksnet:stack=stack-one / stack-two; only stack-one's
objects also carry the tag key `first-only`. Each test sends filters through the front endpoint (paged,
page size 5) and asserts that only the matching objects come back.
"""
import botocore.exceptions
import pytest

STACKS = ("stack-one", "stack-two")
AZ = {"stack-one": "us-west-2a", "stack-two": "us-west-2b"}


def F(name, *values):
    return {"Name": name, "Values": list(values)}


def tag_spec(kind, stack, name):
    tags = [{"Key": "eksnet:stack", "Value": stack}, {"Key": "eksnet:address", "Value": f'{name}["main"]'},
            {"Key": "Name", "Value": f"{stack}-{name}"}]
    if stack == "stack-one":
        tags.append({"Key": "first-only", "Value": "yes"})
    return [{"ResourceType": kind, "Tags": tags}]


@pytest.fixture(scope="module")
def world(shared_cloud):
    """Both stacks: VPC, subnet, IGW, EIP, NAT, route table, security group + rule, ENI, instance.
    Made once for the module's filter tests (they read it; the one that changes an ENI's groups
    changes only what no other test looks at), on a fresh state."""
    cloud = shared_cloud
    cloud.control("POST", "reset")
    cloud.control("POST", "config", {"page_size": 5})
    ec2 = cloud.client("ec2")
    w = {"ec2": ec2}
    for i, s in enumerate(STACKS, 1):
        vpc = ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16", TagSpecifications=tag_spec("vpc", s, "vpc"))["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{i}.1.0/24", AvailabilityZone=AZ[s],
                                   TagSpecifications=tag_spec("subnet", s, "subnet"))["Subnet"]["SubnetId"]
        igw = ec2.create_internet_gateway(
            TagSpecifications=tag_spec("internet-gateway", s, "igw"))["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        eip = ec2.allocate_address(Domain="vpc", TagSpecifications=tag_spec("elastic-ip", s, "eip"))
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip["AllocationId"],
                                     TagSpecifications=tag_spec("natgateway", s, "nat"))["NatGateway"]["NatGatewayId"]
        rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=tag_spec("route-table", s, "rt"))["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=rt, SubnetId=subnet)
        sg = ec2.create_security_group(GroupName=f"sg-{s}", Description=s, VpcId=vpc,
                                       TagSpecifications=tag_spec("security-group", s, "sg"))["GroupId"]
        rule = ec2.authorize_security_group_ingress(
            GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                        "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
            TagSpecifications=tag_spec("security-group-rule", s, "rule"))["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        eni = ec2.create_network_interface(SubnetId=subnet, Groups=[sg], Description=f"eni {s}",
                                           TagSpecifications=tag_spec("network-interface", s, "eni"))
        instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet,
                                     InstanceType="t3.micro",
                                     TagSpecifications=tag_spec("instance", s, "node"))["Instances"][0]["InstanceId"]
        for k, v in {"vpc": vpc, "subnet": subnet, "igw": igw, "eip": eip["AllocationId"], "ip": eip["PublicIp"],
                     "nat": nat, "rt": rt, "sg": sg, "rule": rule, "eni": eni["NetworkInterface"]["NetworkInterfaceId"],
                     "instance": instance}.items():
            w.setdefault(k, []).append(v)
    return w


def lister(ec2, op, key, id_of):
    """q(filters) -> the set of ids Describe answers (all pages)."""
    arg = "Filter" if op == "describe_nat_gateways" else "Filters"  # the API's own name

    def q(filters):
        if ec2.can_paginate(op):
            return {id_of(x) for page in ec2.get_paginator(op).paginate(**{arg: filters}) for x in page[key]}
        return {id_of(x) for x in getattr(ec2, op)(**{arg: filters})[key]}
    return q


def by(field):
    return lambda x: x[field]


def refused(q, name):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        q([F(name, "x")])
    err = e.value.response["Error"]
    return err["Code"], err["Message"]


def assert_tag_filters(q, one, two):
    """tag:K (values OR'd, wildcards, case-sensitive), tag-key, tag-value, filters AND'd, unknown name refused."""
    assert q([F("tag:eksnet:stack", "stack-one")]) == {one}
    assert q([F("tag:eksnet:stack", "stack-two")]) == {two}
    assert q([F("tag:eksnet:stack", "stack-one", "stack-two")]) == {one, two}
    assert q([F("tag:eksnet:stack", "stack-o*")]) == {one}
    assert q([F("tag:eksnet:stack", "stack-?wo")]) == {two}
    assert q([F("tag:eksnet:stack", "*")]) == {one, two}
    assert q([F("tag:eksnet:stack", "STACK-ONE")]) == set()
    assert q([F("tag:eksnet:stack", "stack-on\\?")]) == set()  # an escaped ? is literal
    assert q([F("tag:eksnet:stack", "nope")]) == set()
    assert q([F("tag:first-only", "stack-one")]) == set()  # the value belongs to another key
    assert q([F("tag-key", "eksnet:stack")]) == {one, two}
    assert q([F("tag-key", "first-only")]) == {one}
    assert q([F("tag-key", "first-*")]) == {one}
    assert q([F("tag-value", "stack-two")]) == {two}
    assert q([F("tag:eksnet:stack", "stack-one", "stack-two"), F("tag-key", "first-only")]) == {one}
    assert q([F("tag:eksnet:stack", "stack-two"), F("tag-key", "first-only")]) == set()
    # `[` and `"` are literal in EC2 filter values (only * and ? are wildcards)
    assert q([F("tag:eksnet:stack", "stack-one"), F("tag:eksnet:address", "*[\"main\"]")]) == {one}
    assert q([F("tag:eksnet:address", "*[\"mai\"]")]) == set()
    assert refused(q, "no-such-filter") == ("InvalidParameterValue", "The filter 'no-such-filter' is invalid")


def test_describe_vpcs(world):
    q = lister(world["ec2"], "describe_vpcs", "Vpcs", by("VpcId"))
    one, two = world["vpc"]
    assert_tag_filters(q, one, two)
    assert q([F("vpc-id", one)]) == {one}
    assert q([F("vpc-id", one, two), F("tag:eksnet:stack", "stack-two")]) == {two}
    assert q([F("cidr", "10.1.0.0/16")]) == {one}
    assert q([F("cidr-block-association.cidr-block", "10.2.0.0/16")]) == {two}
    assert q([F("state", "available"), F("tag-key", "first-only")]) == {one}
    assert q([F("is-default", "false"), F("tag-key", "eksnet:stack")]) == {one, two}


def test_describe_subnets(world):
    q = lister(world["ec2"], "describe_subnets", "Subnets", by("SubnetId"))
    one, two = world["subnet"]
    assert_tag_filters(q, one, two)
    assert q([F("subnet-id", one, two), F("vpc-id", world["vpc"][1])]) == {two}
    assert q([F("cidr-block", "10.1.1.0/24")]) == {one}
    assert q([F("availability-zone", "us-west-2a"), F("tag-key", "eksnet:stack")]) == {one}


def test_describe_internet_gateways(world):
    q = lister(world["ec2"], "describe_internet_gateways", "InternetGateways", by("InternetGatewayId"))
    one, two = world["igw"]
    assert_tag_filters(q, one, two)
    assert q([F("internet-gateway-id", one)]) == {one}
    assert q([F("attachment.vpc-id", world["vpc"][1])]) == {two}
    assert q([F("attachment.state", "available"), F("tag-key", "first-only")]) == {one}


def test_describe_addresses(world):
    q = lister(world["ec2"], "describe_addresses", "Addresses", by("AllocationId"))
    one, two = world["eip"]
    assert_tag_filters(q, one, two)
    assert q([F("allocation-id", one)]) == {one}
    assert q([F("public-ip", world["ip"][1])]) == {two}
    assert q([F("domain", "vpc"), F("tag-key", "first-only")]) == {one}


def test_describe_nat_gateways(world):
    q = lister(world["ec2"], "describe_nat_gateways", "NatGateways", by("NatGatewayId"))
    one, two = world["nat"]
    assert_tag_filters(q, one, two)
    assert q([F("nat-gateway-id", one, two), F("tag:eksnet:stack", "stack-two")]) == {two}
    assert q([F("subnet-id", world["subnet"][0])]) == {one}
    assert q([F("vpc-id", world["vpc"][1])]) == {two}
    assert q([F("state", "available"), F("tag:eksnet:stack", "stack-one")]) == {one}
    assert q([F("state", "deleted"), F("tag:eksnet:stack", "stack-one")]) == set()


def test_describe_route_tables(world):
    q = lister(world["ec2"], "describe_route_tables", "RouteTables", by("RouteTableId"))
    one, two = world["rt"]
    assert_tag_filters(q, one, two)
    assert q([F("route-table-id", one)]) == {one}
    assert q([F("association.subnet-id", world["subnet"][1])]) == {two}
    assert q([F("vpc-id", world["vpc"][0]), F("tag-key", "eksnet:stack")]) == {one}


def test_describe_security_groups(world):
    q = lister(world["ec2"], "describe_security_groups", "SecurityGroups", by("GroupId"))
    one, two = world["sg"]
    assert_tag_filters(q, one, two)
    assert q([F("group-id", one)]) == {one}
    assert q([F("group-name", "sg-stack-two")]) == {two}
    vpc_one = q([F("vpc-id", world["vpc"][0])])  # the leftovers sweep of eksnet: the VPC's groups, default included
    assert one in vpc_one and two not in vpc_one and len(vpc_one) == 2


def test_describe_security_group_rules(world):
    q = lister(world["ec2"], "describe_security_group_rules", "SecurityGroupRules", by("SecurityGroupRuleId"))
    one, two = world["rule"]
    assert_tag_filters(q, one, two)
    assert q([F("security-group-rule-id", two)]) == {two}
    of_one = q([F("group-id", world["sg"][0])])  # its ingress rule and the default egress rule
    assert one in of_one and two not in of_one and len(of_one) == 2


def test_describe_network_interfaces(world):
    ec2 = world["ec2"]
    q = lister(ec2, "describe_network_interfaces", "NetworkInterfaces", by("NetworkInterfaceId"))
    one, two = world["eni"]
    assert_tag_filters(q, one, two)
    assert q([F("network-interface-id", one)]) == {one}
    in_subnet = q([F("subnet-id", world["subnet"][0])])  # with the NAT's and the instance's ENIs
    assert one in in_subnet and two not in in_subnet
    assert q([F("group-id", world["sg"][1])]) == {two}
    # an ENI with two groups matches a group-id filter naming one of them among other values
    extra = ec2.create_security_group(GroupName="extra", Description="x", VpcId=world["vpc"][0])["GroupId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=one, Groups=[world["sg"][0], extra])
    assert q([F("group-id", world["sg"][0], world["sg"][1])]) == {one, two}
    assert q([F("group-id", extra, "sg-00000000000000000")]) == {one}
    assert q([F("description", "eni stack-*"), F("tag-key", "first-only")]) == {one}


def test_describe_instances(world):
    q = lister(world["ec2"], "describe_instances", "Reservations", lambda r: tuple(i["InstanceId"] for i in r["Instances"]))
    one, two = world["instance"]
    assert_tag_filters(q, (one,), (two,))
    assert q([F("instance-id", one)]) == {(one,)}
    assert q([F("subnet-id", world["subnet"][1]), F("instance-state-name", "running", "pending")]) == {(two,)}
    assert q([F("vpc-id", world["vpc"][0])]) == {(one,)}


def test_describe_tags(world):
    ec2 = world["ec2"]
    q = lister(ec2, "describe_tags", "Tags", lambda t: (t["ResourceId"], t["Key"]))
    ones = {world[k][0] for k in ("vpc", "subnet", "igw", "eip", "sg")}
    twos = {world[k][1] for k in ("vpc", "subnet", "igw", "eip", "sg")}
    # what eksnet sends: the stack's objects, then the address tags of those
    found = {r for r, _ in q([F("key", "eksnet:stack"), F("value", "stack-one")])}
    assert ones <= found and not found & twos
    assert {r for r, _ in q([F("key", "eksnet:stack"), F("value", "stack-one", "stack-two")])} >= ones | twos
    assert q([F("resource-id", *ones), F("key", "eksnet:address")]) == {(r, "eksnet:address") for r in ones}
    assert q([F("resource-id", world["vpc"][0]), F("key", "eksnet:*")]) == {(world["vpc"][0], "eksnet:stack"),
                                                                            (world["vpc"][0], "eksnet:address")}
    assert q([F("resource-id", world["vpc"][1]), F("value", "stack-?wo")]) == {(world["vpc"][1], "eksnet:stack")}
    assert {r for r, _ in q([F("resource-type", "vpc"), F("key", "eksnet:stack")])} == set(world["vpc"])
    # tag:K on DescribeTags: the tags of the resources that carry K=V
    by_tag = q([F("tag:first-only", "yes"), F("resource-id", world["vpc"][0], world["vpc"][1])])
    assert {r for r, _ in by_tag} == {world["vpc"][0]} and (world["vpc"][0], "eksnet:stack") in by_tag
    assert refused(q, "tag-key") == ("InvalidParameterValue", "The filter 'tag-key' is invalid")
    assert refused(q, "no-such-filter") == ("InvalidParameterValue", "The filter 'no-such-filter' is invalid")


def test_describe_availability_zones(cloud):
    ec2 = cloud.client("ec2")
    q = lister(ec2, "describe_availability_zones", "AvailabilityZones", by("ZoneName"))
    assert q([F("zone-name", "us-west-2a")]) == {"us-west-2a"}
    assert q([F("zone-name", "us-west-2a", "us-west-2c")]) == {"us-west-2a", "us-west-2c"}
    assert q([F("zone-name", "us-west-2?"), F("state", "available")]) >= {"us-west-2a", "us-west-2b"}
    assert q([F("region-name", "us-east-1")]) == set()
    assert refused(q, "tag:eksnet:stack") == ("InvalidParameterValue", "The filter 'tag:eksnet:stack' is invalid")
    assert refused(q, "no-such-filter") == ("InvalidParameterValue", "The filter 'no-such-filter' is invalid")


def test_describe_instance_types(cloud):
    ec2 = cloud.client("ec2")
    q = lister(ec2, "describe_instance_types", "InstanceTypes", by("InstanceType"))
    assert q([F("instance-type", "m5.large", "t3.micro")]) == {"m5.large", "t3.micro"}
    assert q([F("instance-type", "m5.x?arge")]) == {"m5.xlarge"}
    assert refused(q, "tag:eksnet:stack") == ("InvalidParameterValue", "The filter 'tag:eksnet:stack' is invalid")
    assert refused(q, "no-such-filter") == ("InvalidParameterValue", "The filter 'no-such-filter' is invalid")
