import json
import os
import subprocess
import urllib.request

import boto3
import botocore.config
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "scripts", "localcloud")


class Cloud:
    """A private localcloud instance started with scripts/localcloud up."""

    def __init__(self, tmpdir, *args):
        self.dir = str(tmpdir)
        out = subprocess.run([SCRIPT, "up", "--dir", self.dir, *args], check=True, capture_output=True,
                             text=True).stdout
        self.env = {}
        for line in out.splitlines():
            assert line.startswith("export "), f"unexpected stdout line: {line!r}"
            k, v = line[len("export "):].split("=", 1)
            self.env[k] = v
        self.endpoint = self.env["AWS_ENDPOINT_URL"]
        self.region = self.env["AWS_REGION"]

    def client(self, service, region=None, retries=1):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region or self.region,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=botocore.config.Config(retries={"total_max_attempts": retries, "mode": "standard"}))

    def control(self, method, path, body=None):
        req = urllib.request.Request(self.endpoint + "/_localcloud/" + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        return json.loads(urllib.request.urlopen(req).read())

    def log(self):
        with open(self.env["LOCALCLOUD_REQUEST_LOG"]) as f:
            return [json.loads(line) for line in f if line.strip()]

    def script(self, *args):
        return subprocess.run([SCRIPT, *args, "--dir", self.dir], check=True, capture_output=True, text=True)

    def down(self):
        subprocess.run([SCRIPT, "down", "--dir", self.dir], check=True, capture_output=True)


@pytest.fixture(scope="module")
def shared_cloud(tmp_path_factory):
    c = Cloud(tmp_path_factory.mktemp("lc"))
    yield c
    c.down()


@pytest.fixture
def cloud(shared_cloud):
    """A fresh state (reset) on a module-wide instance, profile none, page size 5."""
    shared_cloud.control("POST", "reset")
    shared_cloud.control("POST", "config", {"page_size": 5})
    return shared_cloud


def make_network(cloud, region=None):
    """VPC + secondary CIDR + private subnets in two AZs + IAM roles, as eksnet builds them."""
    ec2 = cloud.client("ec2", region)
    iam = cloud.client("iam", region)
    r = region or cloud.region
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{r}{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                 "Principal": {"Service": "eks.amazonaws.com"}}]})
    role = iam.create_role(RoleName="cluster-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.attach_role_policy(RoleName="cluster-role", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
    return {"vpc": vpc, "subnets": subnets, "role": role}


def create_cluster(cloud, net, name="demo", **extra):
    eks = cloud.client("eks")
    return eks.create_cluster(name=name, roleArn=net["role"], version="1.31",
                              resourcesVpcConfig={"subnetIds": net["subnets"]}, **extra)["cluster"]
