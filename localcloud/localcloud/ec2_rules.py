"""AWS's ordering rules that moto skips: refuse with DependencyViolation what AWS refuses.

Each check reads moto's state directly (boto3 against moto) and raises AwsError.
"""
import ipaddress

from localcloud.awserrors import AwsError


def violation(message: str):
    raise AwsError("DependencyViolation", message, 400)


class Ec2Rules:
    def __init__(self, clients, nats):
        self.clients = clients
        self.nats = nats

    def check(self, operation: str, params: dict, region: str) -> None:
        fn = getattr(self, "check_" + operation, None)
        if fn:
            fn(params, self.clients.ec2(region), region)

    def _live_nats(self, ec2, region, **filters):
        flt = [{"Name": k, "Values": [v]} for k, v in filters.items()]
        live = self.nats.live_in(region)
        out = []
        for n in ec2.describe_nat_gateways(Filters=flt)["NatGateways"]:
            if n["NatGatewayId"] in live or (n["NatGatewayId"] not in self.nats.nats and n["State"] != "deleted"):
                out.append(n)
        return out

    @staticmethod
    def _live_enis(ec2, **filters):
        """ENIs as AWS would still have them: moto keeps the primary ENI of a terminated
        instance "in-use", where AWS deletes it with the instance."""
        flt = [{"Name": k, "Values": [v]} for k, v in filters.items()]
        enis = ec2.describe_network_interfaces(Filters=flt)["NetworkInterfaces"]
        owners = sorted({e["Attachment"]["InstanceId"] for e in enis if (e.get("Attachment") or {}).get("InstanceId")})
        gone = set()
        if owners:
            for r in ec2.describe_instances(InstanceIds=owners)["Reservations"]:
                gone |= {i["InstanceId"] for i in r["Instances"] if i["State"]["Name"] == "terminated"}
        return [e for e in enis if (e.get("Attachment") or {}).get("InstanceId") not in gone]

    def check_DeleteSubnet(self, p, ec2, region):
        sid = p.get("SubnetId")
        if self._live_nats(ec2, region, **{"subnet-id": sid}):
            violation(f"The subnet '{sid}' has dependencies and cannot be deleted.")
        if self._live_enis(ec2, **{"subnet-id": sid}):
            violation(f"The subnet '{sid}' has dependencies and cannot be deleted.")

    def check_ReleaseAddress(self, p, ec2, region):
        kw = {"AllocationIds": [p["AllocationId"]]} if p.get("AllocationId") else {"PublicIps": [p.get("PublicIp")]}
        try:
            addrs = ec2.describe_addresses(**kw)["Addresses"]
        except Exception:
            return  # let moto answer "not found"
        for a in addrs:
            if a.get("AssociationId"):
                violation(f"The address with allocation id [{a.get('AllocationId')}] is in use "
                          f"(associated with {a.get('NetworkInterfaceId') or a.get('InstanceId')}).")
        for n in self._live_nats(ec2, region):
            for na in n.get("NatGatewayAddresses", []):
                if na.get("AllocationId") and na["AllocationId"] == p.get("AllocationId"):
                    violation(f"The address with allocation id [{na['AllocationId']}] is in use by "
                              f"NAT gateway {n['NatGatewayId']}.")

    def check_DetachInternetGateway(self, p, ec2, region):
        vpc = p.get("VpcId")
        for eni in self._live_enis(ec2, **{"vpc-id": vpc}):
            if (eni.get("Association") or {}).get("PublicIp"):
                violation(f"Network {vpc} has some mapped public address(es). "
                          "Please unmap those public address(es) before detaching the gateway.")
        for n in self._live_nats(ec2, region, **{"vpc-id": vpc}):
            if n.get("ConnectivityType", "public") == "public":
                violation(f"Network {vpc} has some mapped public address(es). "
                          "Please unmap those public address(es) before detaching the gateway.")

    def check_DisassociateVpcCidrBlock(self, p, ec2, region):
        assoc = p.get("AssociationId")
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "cidr-block-association.association-id", "Values": [assoc]}])["Vpcs"]
        for vpc in vpcs:
            for a in vpc.get("CidrBlockAssociationSet", []):
                if a["AssociationId"] != assoc:
                    continue
                net = ipaddress.ip_network(a["CidrBlock"])
                subs = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
                used = [s["SubnetId"] for s in subs if ipaddress.ip_network(s["CidrBlock"]).subnet_of(net)]
                if used:
                    violation(f"The vpc {vpc['VpcId']} currently has a subnet within CIDR block "
                              f"{a['CidrBlock']} ({', '.join(used)}).")

    def check_DeleteVpc(self, p, ec2, region):
        vpc = p.get("VpcId")
        msg = f"The vpc '{vpc}' has dependencies and cannot be deleted."
        if ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]:
            violation(msg)
        sgs = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
        if any(g["GroupName"] != "default" for g in sgs):
            violation(msg)
        if self._live_nats(ec2, region, **{"vpc-id": vpc}):
            violation(msg)

    def check_DeleteSecurityGroup(self, p, ec2, region):
        gid = p.get("GroupId")
        if not gid:
            return
        if self._live_enis(ec2, **{"group-id": gid}):
            violation(f"resource {gid} has a dependent object")
        for g in ec2.describe_security_groups()["SecurityGroups"]:
            if g["GroupId"] == gid:
                continue
            for perm in g.get("IpPermissions", []) + g.get("IpPermissionsEgress", []):
                if any(pair.get("GroupId") == gid for pair in perm.get("UserIdGroupPairs", [])):
                    violation(f"resource {gid} has a dependent object")
