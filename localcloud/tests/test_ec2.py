"""AWS ordering rules that moto skips, and the NAT gateway lifecycle."""
import time

import botocore.exceptions
import pytest

from conftest import Cloud


def code_of(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    return None


@pytest.fixture
def net(cloud):
    ec2 = cloud.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    assoc = ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="100.64.0.0/16")["CidrBlockAssociation"]["AssociationId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.4.0/24", AvailabilityZone="us-west-2a")["Subnet"]["SubnetId"]
    intra = ec2.create_subnet(VpcId=vpc, CidrBlock="100.64.1.0/24", AvailabilityZone="us-west-2a")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    return {"ec2": ec2, "vpc": vpc, "assoc": assoc, "public": public, "intra": intra, "igw": igw}


def test_nat_blocks_subnet_eip_and_igw_until_deleted(net):
    ec2 = net["ec2"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=net["public"], AllocationId=eip)["NatGateway"]
    assert nat["State"] == "pending"
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat["NatGatewayId"]])["NatGateways"][0]["State"] == "available"
    assert code_of(ec2.delete_subnet, SubnetId=net["public"]) == "DependencyViolation"
    assert code_of(ec2.release_address, AllocationId=eip) == "DependencyViolation"
    assert code_of(ec2.detach_internet_gateway, InternetGatewayId=net["igw"], VpcId=net["vpc"]) == "DependencyViolation"
    assert code_of(ec2.delete_vpc, VpcId=net["vpc"]) == "DependencyViolation"
    ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat["NatGatewayId"]])["NatGateways"][0]["State"] == "deleted"
    ec2.detach_internet_gateway(InternetGatewayId=net["igw"], VpcId=net["vpc"])
    ec2.release_address(AllocationId=eip)
    ec2.delete_subnet(SubnetId=net["public"])


def test_a_nat_gateways_interface_is_requester_managed_and_goes_with_it(net):
    ec2 = net["ec2"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=net["public"], AllocationId=eip)["NatGateway"]["NatGatewayId"]
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [net["public"]]}])["NetworkInterfaces"]
    assert [(e["Description"], e["InterfaceType"], e["RequesterManaged"]) for e in enis] == \
        [(f"Interface for NAT Gateway {nat}", "nat_gateway", True)]
    ec2.delete_nat_gateway(NatGatewayId=nat)
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "deleted"
    assert ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [net["public"]]}])["NetworkInterfaces"] == []


def test_cidr_disassociation_refused_while_subnets_inside(net):
    ec2 = net["ec2"]
    assert code_of(ec2.disassociate_vpc_cidr_block, AssociationId=net["assoc"]) == "DependencyViolation"
    ec2.delete_subnet(SubnetId=net["intra"])
    ec2.disassociate_vpc_cidr_block(AssociationId=net["assoc"])


def test_eni_blocks_subnet_and_security_group(net):
    ec2 = net["ec2"]
    sg = ec2.create_security_group(GroupName="pods", Description="pods", VpcId=net["vpc"])["GroupId"]
    other = ec2.create_security_group(GroupName="nodes", Description="nodes", VpcId=net["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=other, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": sg}]}])
    eni = ec2.create_network_interface(SubnetId=net["intra"], Groups=[sg])["NetworkInterface"]["NetworkInterfaceId"]
    assert code_of(ec2.delete_subnet, SubnetId=net["intra"]) == "DependencyViolation"
    assert code_of(ec2.delete_security_group, GroupId=sg) == "DependencyViolation"
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    assert code_of(ec2.delete_security_group, GroupId=sg) == "DependencyViolation"  # still referenced by `nodes`
    ec2.delete_security_group(GroupId=other)
    ec2.delete_security_group(GroupId=sg)
    ec2.delete_subnet(SubnetId=net["intra"])


def test_delete_vpc_refused_with_igw_attached(net):
    ec2 = net["ec2"]
    ec2.delete_subnet(SubnetId=net["public"])
    ec2.delete_subnet(SubnetId=net["intra"])
    assert code_of(ec2.delete_vpc, VpcId=net["vpc"]) == "DependencyViolation"
    ec2.detach_internet_gateway(InternetGatewayId=net["igw"], VpcId=net["vpc"])
    ec2.delete_internet_gateway(InternetGatewayId=net["igw"])
    ec2.delete_vpc(VpcId=net["vpc"])


def test_nat_client_token_and_private_nat(net):
    ec2 = net["ec2"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    a = ec2.create_nat_gateway(SubnetId=net["public"], AllocationId=eip, ClientToken="tok-1")
    b = ec2.create_nat_gateway(SubnetId=net["public"], AllocationId=eip, ClientToken="tok-1")
    assert a["NatGateway"]["NatGatewayId"] == b["NatGateway"]["NatGatewayId"]
    assert b["ClientToken"] == "tok-1"
    assert code_of(ec2.create_nat_gateway, SubnetId=net["intra"], AllocationId=eip,
                   ClientToken="tok-1") == "IdempotentParameterMismatch"
    private = ec2.create_nat_gateway(SubnetId=net["intra"], ConnectivityType="private")["NatGateway"]
    assert private["ConnectivityType"] == "private" and private["State"] == "pending"
    nats = ec2.describe_nat_gateways(MaxResults=100)["NatGateways"]
    assert len(nats) == 2
    only_available = ec2.describe_nat_gateways(Filters=[{"Name": "state", "Values": ["available"]}])["NatGateways"]
    assert len(only_available) == 2


def test_the_realistic_profile_is_strict(tmp_path):
    """`--profile realistic` is AWS as it is: its strict switches on (a new VPC id is not visible
    to the next call), unless `--config` turns them off."""
    cloud = Cloud(tmp_path, "--profile", "realistic", "--scale", "600")
    try:
        assert cloud.control("GET", "config")["ec2_consistency"] is True
        ec2 = cloud.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")
        assert e.value.response["Error"]["Code"] == "InvalidVpcID.NotFound"
    finally:
        cloud.down()


def test_nat_states_take_profile_time(tmp_path):
    cloud = Cloud(tmp_path, "--profile", "realistic", "--scale", "60", "--config", '{"strict": false}')  # pending 1.5 s, deleting 1 s
    try:
        ec2 = cloud.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=sub, AllocationId=eip)["NatGateway"]["NatGatewayId"]
        state = lambda: ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"]
        assert state() == "pending"
        assert len(ec2.describe_nat_gateways(Filters=[{"Name": "state", "Values": ["pending"]}])["NatGateways"]) == 1
        time.sleep(1.7)
        assert state() == "available"
        ec2.delete_nat_gateway(NatGatewayId=nat)
        assert state() == "deleting"
        assert code_of(ec2.release_address, AllocationId=eip) == "DependencyViolation"
        assert code_of(ec2.delete_subnet, SubnetId=sub) == "DependencyViolation"
        time.sleep(1.3)
        assert state() == "deleted"
        ec2.release_address(AllocationId=eip)
        ec2.delete_subnet(SubnetId=sub)
        assert cloud.control("GET", "profile")["transitions"]["natgateway.pending"] == 1.5
    finally:
        cloud.down()


def test_deleting_a_subnet_removes_its_route_table_association(cloud):
    """EC2 drops a subnet's route table association with the subnet; the route table can go."""
    ec2 = cloud.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rt, SubnetId=sub)
    ec2.delete_subnet(SubnetId=sub)
    assert ec2.describe_route_tables(RouteTableIds=[rt])["RouteTables"][0]["Associations"] == []
    ec2.delete_route_table(RouteTableId=rt)


def test_describe_regions_lists_the_callers_partition_only(cloud):
    names = {r["RegionName"] for r in cloud.client("ec2").describe_regions(AllRegions=True)["Regions"]}
    assert "us-west-2" in names and "ap-southeast-2" in names
    assert not [n for n in names if n.startswith(("cn-", "us-gov-", "us-iso"))], names
