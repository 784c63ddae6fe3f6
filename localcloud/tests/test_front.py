"""Request log, control API, fault injection, pagination, parallel instances."""
import subprocess
import urllib.error

import botocore.exceptions
import pytest

from conftest import Cloud


def test_up_prints_only_exports_and_log_counts_calls(cloud):
    assert set(cloud.env) == {"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                              "LOCALCLOUD_REQUEST_LOG", "LOCALCLOUD_DIR", "EKSNET_AWS_TIME_SCALE"}
    assert cloud.env["EKSNET_AWS_TIME_SCALE"] == "1000"  # profile none: AWS transitions take no time
    before = len(cloud.log())
    ec2 = cloud.client("ec2")
    ec2.create_vpc(CidrBlock="10.1.0.0/16")
    ec2.describe_vpcs()
    ec2.describe_vpcs()
    cloud.client("sts").get_caller_identity()
    cloud.client("iam").list_roles()
    cloud.client("eks").list_clusters()
    new = cloud.log()[before:]
    ops = [(e["service"], e["operation"]) for e in new]
    assert ops.count(("ec2", "CreateVpc")) == 1
    assert ops.count(("ec2", "DescribeVpcs")) == 2
    assert ("sts", "GetCallerIdentity") in ops and ("iam", "ListRoles") in ops and ("eks", "ListClusters") in ops
    for e in new:
        assert e["status"] == 200 and e["duration_ms"] >= 0 and e["region"] == "us-west-2" and "T" in e["time"]


def test_profile_endpoint(cloud):
    p = cloud.control("GET", "profile")
    assert p["profile"] == "none" and p["transitions"]["cluster.CREATING"] == 0


def test_fault_nth_and_times_in_each_service_format(cloud):
    ec2, eks, iam = cloud.client("ec2"), cloud.client("eks"), cloud.client("iam")
    cloud.script("fault", '{"service":"ec2","operation":"DescribeVpcs","error":"RequestLimitExceeded","nth":2}')
    ec2.describe_vpcs()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.describe_vpcs()
    assert e.value.response["Error"]["Code"] == "RequestLimitExceeded"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    ec2.describe_vpcs()  # only the 2nd call

    cloud.control("POST", "faults", {"service": "eks", "operation": "ListClusters", "error": "ThrottlingException",
                                     "status": 429, "times": 2})
    for _ in range(2):
        with pytest.raises(eks.exceptions.ClientError) as e:
            eks.list_clusters()
        assert e.value.response["Error"]["Code"] == "ThrottlingException"
    eks.list_clusters()

    cloud.control("POST", "faults", {"service": "iam", "operation": "ListRoles", "error": "Throttling"})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.list_roles()
    assert e.value.response["Error"]["Code"] == "Throttling"
    faults = cloud.control("GET", "faults")
    assert [f["fired"] for f in faults] == [1, 2, 1]
    assert sum(1 for e in cloud.log() if e.get("fault")) >= 4
    cloud.script("fault", "--clear")
    iam.list_roles()


def test_hold_rule_carries_the_call_out_and_answers_late(cloud):
    import threading
    import time
    ec2 = cloud.client("ec2")
    cloud.control("POST", "faults", {"service": "ec2", "operation": "CreateVpc", "hold": 5, "times": 1})
    answered = []
    t = threading.Thread(target=lambda: answered.append(ec2.create_vpc(CidrBlock="10.9.0.0/16")))
    t.start()
    deadline = time.monotonic() + 10
    while cloud.control("GET", "faults")[0]["held"] == 0:
        assert time.monotonic() < deadline, "the held call never took effect"
        time.sleep(0.02)
    # The VPC exists while its creator still waits for the answer.
    assert [v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.9.0.0/16"]
    assert not answered
    t.join()
    assert answered[0]["Vpc"]["CidrBlock"] == "10.9.0.0/16"
    assert [e.get("fault") for e in cloud.log() if e["operation"] == "CreateVpc"][-1] == "hold"
    ec2.create_vpc(CidrBlock="10.8.0.0/16")  # times: 1, the next call is not held
    with pytest.raises(urllib.error.HTTPError):
        cloud.control("POST", "faults", {"service": "ec2"})


def test_a_hold_rule_is_not_used_up_by_a_refused_call(cloud):
    ec2 = cloud.client("ec2")
    cloud.control("POST", "faults", {"service": "ec2", "operation": "AssociateRouteTable", "hold": 0.2, "times": 1})
    with pytest.raises(botocore.exceptions.ClientError):  # refused: nothing to hold back
        ec2.associate_route_table(RouteTableId="rtb-00000000000000000", SubnetId="subnet-00000000000000000")
    rule = cloud.control("GET", "faults")[0]
    assert (rule["fired"], rule["held"]) == (0, 0), rule
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
    rule = cloud.control("GET", "faults")[0]
    assert (rule["fired"], rule["held"]) == (1, 1), rule


def test_fault_probability(cloud):
    cloud.control("POST", "faults", {"service": "sts", "error": "InternalFailure", "status": 500, "probability": 0.5})
    sts = cloud.client("sts")
    failed = 0
    for _ in range(40):
        try:
            sts.get_caller_identity()
        except botocore.exceptions.ClientError:
            failed += 1
    assert 5 < failed < 35


def test_ec2_pagination_always_on(cloud):
    ec2 = cloud.client("ec2")
    for i in range(11):
        ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")
    total = len(ec2.get_paginator("describe_vpcs").paginate().build_full_result()["Vpcs"])
    assert total == 12  # + moto's default VPC
    first = ec2.describe_vpcs()
    assert len(first["Vpcs"]) == 5 and first["NextToken"]
    ids, token, pages = [], None, 0
    while True:
        r = ec2.describe_vpcs(**({"NextToken": token} if token else {}))
        ids += [v["VpcId"] for v in r["Vpcs"]]
        pages += 1
        token = r.get("NextToken")
        if not token:
            break
    assert pages == 3 and len(set(ids)) == 12
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.describe_vpcs(NextToken="garbage")
    cloud.script("page-size", "10")
    assert len(ec2.describe_vpcs(MaxResults=6)["Vpcs"]) == 6  # MaxResults smaller than the page size wins
    cloud.script("page-size", "0")
    assert len(ec2.describe_vpcs()["Vpcs"]) == 12 and "NextToken" not in ec2.describe_vpcs()


def test_eks_list_pagination(cloud):
    cloud.control("POST", "config", {"page_size": 2})
    eks = cloud.client("eks")
    r = eks.describe_addon_versions(kubernetesVersion="1.31")
    assert len(r["addons"]) == 2 and r["nextToken"]
    r2 = eks.describe_addon_versions(kubernetesVersion="1.31", nextToken=r["nextToken"])
    assert [a["addonName"] for a in r["addons"] + r2["addons"]] == ["coredns", "kube-proxy", "vpc-cni"]


def test_parallel_private_instances(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    procs = [subprocess.Popen([__import__("conftest").SCRIPT, "up", "--dir", str(d)], stdout=subprocess.PIPE)
             for d in (a, b)]
    outs = [p.communicate()[0].decode() for p in procs]
    try:
        assert all(p.returncode == 0 for p in procs)
        eps = [next(l for l in o.splitlines() if "AWS_ENDPOINT_URL" in l) for o in outs]
        assert eps[0] != eps[1]
        ca, cb = Cloud(a), Cloud(b)  # `up` again is idempotent: same endpoint
        assert ca.endpoint in eps[0]
        ca.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")
        assert len(ca.client("ec2").describe_vpcs(MaxResults=100)["Vpcs"]) == 2
        assert len(cb.client("ec2").describe_vpcs(MaxResults=100)["Vpcs"]) == 1
    finally:
        for d in (a, b):
            subprocess.run([__import__("conftest").SCRIPT, "down", "--dir", str(d)], check=True)
    assert not (a / "server.json").exists()


def test_s3_conditional_writes_forwarded_untouched(cloud):
    import botocore.config
    s3 = cloud.client("s3")
    s3.meta.config.s3 = {"addressing_style": "path"}
    s3.create_bucket(Bucket="state", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    etag = s3.put_object(Bucket="state", Key="eksnet.tfstate", Body=b"{}" * 50000, IfNoneMatch="*")["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="state", Key="eksnet.tfstate", Body=b"{}", IfNoneMatch="*")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    s3.put_object(Bucket="state", Key="eksnet.tfstate", Body=b"[]", IfMatch=etag)
    assert s3.get_object(Bucket="state", Key="eksnet.tfstate")["Body"].read() == b"[]"
    assert [e["operation"] for e in cloud.log()[-2:]] == ["PutObject", "GetObject"]


def test_s3_bucket_versioning_answers_in_the_s3_shape(cloud):
    # moto names the root element GetBucketVersioningResponse; S3 and the Rust SDK expect
    # VersioningConfiguration (the SDK rejects anything else).
    s3 = cloud.client("s3")
    s3.meta.config.s3 = {"addressing_style": "path"}
    s3.create_bucket(Bucket="versioned", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    raw = []
    s3.meta.events.register("after-call.s3.GetBucketVersioning", lambda http_response, **_: raw.append(http_response.content))
    assert s3.get_bucket_versioning(Bucket="versioned")["Status"] == "Enabled"
    assert b"<VersioningConfiguration" in raw[0] and b"GetBucketVersioningResponse" not in raw[0], raw
    assert [e["operation"] for e in cloud.log()[-2:]] == ["PutBucketVersioning", "GetBucketVersioning"]


def test_an_after_rule_carries_the_call_out_then_answers_with_the_error(cloud):
    s3 = cloud.client("s3")  # one attempt: the test sees the injected answer itself
    s3.meta.config.s3 = {"addressing_style": "path"}
    s3.create_bucket(Bucket="after", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    cloud.control("POST", "faults", {"service": "s3", "operation": "PutObject", "error": "InternalError", "after": True, "times": 1})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="after", Key="k", Body=b"done", IfNoneMatch="*")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert s3.get_object(Bucket="after", Key="k")["Body"].read() == b"done", "the call was carried out"
    with pytest.raises(botocore.exceptions.ClientError) as e:  # what a retry meets
        s3.put_object(Bucket="after", Key="k", Body=b"done", IfNoneMatch="*")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
