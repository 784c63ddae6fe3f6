"""EKS, served by localcloud itself (moto's EKS lacks add-ons, access entries, updates,
DELETING states, vpcId, a real cluster security group and a reachable endpoint).

State changes with time: every object has `status`, and optionally `until` (when the current
transitional status ends) and `after` (what happens then). `tick()` applies due transitions;
it runs before each request and from a background thread.
"""
import json
import random
import re
import threading
import time
import urllib.parse
import uuid

from localcloud import ami_releases, addons as addon_lib, insights as insights_lib
from localcloud import k8s_versions, pagination
from localcloud import dataplane
from localcloud.awserrors import AwsError, Response
from localcloud.eks_strict import EksStrict
from localcloud.strict import Settings

ACCOUNT = "123456789012"
ACCESS_POLICIES = ["AmazonEKSAdminPolicy", "AmazonEKSClusterAdminPolicy", "AmazonEKSEditPolicy",
                   "AmazonEKSViewPolicy", "AmazonEKSAdminViewPolicy"]
POLICY_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"

ROUTES = [
    ("GET", r"/clusters", "ListClusters"),
    ("GET", r"/cluster-versions", "DescribeClusterVersions"),
    ("POST", r"/clusters", "CreateCluster"),
    ("GET", r"/clusters/([^/]+)", "DescribeCluster"),
    ("DELETE", r"/clusters/([^/]+)", "DeleteCluster"),
    ("POST", r"/clusters/([^/]+)/update-config", "UpdateClusterConfig"),
    ("POST", r"/clusters/([^/]+)/updates", "UpdateClusterVersion"),
    ("GET", r"/clusters/([^/]+)/updates", "ListUpdates"),
    ("GET", r"/clusters/([^/]+)/updates/([^/]+)", "DescribeUpdate"),
    ("GET", r"/clusters/([^/]+)/node-groups", "ListNodegroups"),
    ("POST", r"/clusters/([^/]+)/node-groups", "CreateNodegroup"),
    ("GET", r"/clusters/([^/]+)/node-groups/([^/]+)", "DescribeNodegroup"),
    ("DELETE", r"/clusters/([^/]+)/node-groups/([^/]+)", "DeleteNodegroup"),
    ("POST", r"/clusters/([^/]+)/node-groups/([^/]+)/update-config", "UpdateNodegroupConfig"),
    ("POST", r"/clusters/([^/]+)/node-groups/([^/]+)/update-version", "UpdateNodegroupVersion"),
    ("GET", r"/clusters/([^/]+)/addons", "ListAddons"),
    ("POST", r"/clusters/([^/]+)/addons", "CreateAddon"),
    ("GET", r"/clusters/([^/]+)/addons/([^/]+)", "DescribeAddon"),
    ("DELETE", r"/clusters/([^/]+)/addons/([^/]+)", "DeleteAddon"),
    ("POST", r"/clusters/([^/]+)/addons/([^/]+)/update", "UpdateAddon"),
    ("GET", r"/addons/supported-versions", "DescribeAddonVersions"),
    ("POST", r"/clusters/([^/]+)/insights", "ListInsights"),
    ("GET", r"/clusters/([^/]+)/insights/([^/]+)", "DescribeInsight"),
    ("GET", r"/addons/configuration-schemas", "DescribeAddonConfiguration"),
    ("GET", r"/clusters/([^/]+)/access-entries", "ListAccessEntries"),
    ("POST", r"/clusters/([^/]+)/access-entries", "CreateAccessEntry"),
    ("GET", r"/clusters/([^/]+)/access-entries/([^/]+)", "DescribeAccessEntry"),
    ("POST", r"/clusters/([^/]+)/access-entries/([^/]+)", "UpdateAccessEntry"),
    ("DELETE", r"/clusters/([^/]+)/access-entries/([^/]+)", "DeleteAccessEntry"),
    ("GET", r"/clusters/([^/]+)/access-entries/([^/]+)/access-policies", "ListAssociatedAccessPolicies"),
    ("POST", r"/clusters/([^/]+)/access-entries/([^/]+)/access-policies", "AssociateAccessPolicy"),
    ("DELETE", r"/clusters/([^/]+)/access-entries/([^/]+)/access-policies/([^/]+)", "DisassociateAccessPolicy"),
    ("GET", r"/access-policies", "ListAccessPolicies"),
    ("GET", r"/tags/([^/]+)", "ListTagsForResource"),
    ("POST", r"/tags/([^/]+)", "TagResource"),
    ("DELETE", r"/tags/([^/]+)", "UntagResource"),
]
ROUTES = [(m, re.compile("^" + p + "/?$"), op) for m, p, op in ROUTES]


def not_found(what: str):
    raise AwsError("ResourceNotFoundException", what, 404)


def iam_principal(caller_arn: str) -> str:
    """The IAM principal EKS records for a caller: the creator's access entry names the role of an
    assumed-role session (arn:aws:iam::ACCOUNT:role/NAME), not the session ARN STS answers with
    (EKS user guide, access entries: "the IAM principal that created the cluster"; a CreateAccessEntry
    for the same principal then answers ResourceInUseException, terraform-provider-aws #36259)."""
    partition, account, resource = caller_arn.split(":", 5)[1], caller_arn.split(":")[4], caller_arn.split(":", 5)[5]
    if resource.startswith("assumed-role/"):
        return f"arn:{partition}:iam::{account}:role/{resource.split('/')[1]}"
    if resource.startswith("user/"):
        return f"arn:{partition}:iam::{account}:{resource}"
    return caller_arn


def in_use(what: str):
    raise AwsError("ResourceInUseException", what, 409)


def invalid(what: str):
    raise AwsError("InvalidParameterException", what, 400)


def bad_request(what: str):
    raise AwsError("InvalidRequestException", what, 400)


def ok(obj) -> Response:
    return Response(200, json.dumps(obj, default=str).encode(), {"Content-Type": "application/json"})


class Timed:
    status = ""
    until = None
    after = None

    def begin(self, status: str, seconds: float, after=None):
        self.status = status
        self.until = time.time() + max(seconds, 0.0)
        self.after = after


class Update:
    def __init__(self, kind: str, params: list, seconds: float, apply=None):
        self.id = str(uuid.uuid4())
        self.kind = kind
        self.params = [{"type": t, "value": str(v)} for t, v in params]
        self.created = time.time()
        self.status = "InProgress"
        self.until = time.time() + seconds
        self.apply = apply
        # An update that ends Failed: its ErrorDetail ({errorCode, errorMessage, resourceIds},
        # API reference, ErrorDetail) and what the holder returns to (nothing of it applied).
        self.failure = None
        self.undo = None
        self.errors = []

    def end(self):
        if self.failure:
            self.status, self.errors = "Failed", [self.failure]
            if self.undo:
                self.undo()
        else:
            self.status = "Successful"
            if self.apply:
                self.apply()

    def view(self):
        return {"id": self.id, "status": self.status, "type": self.kind, "params": self.params,
                "createdAt": self.created, "errors": self.errors}


class Nodegroup(Timed):
    def __init__(self, cluster, body):
        self.cluster = cluster
        self.name = body["nodegroupName"]
        self.arn = f"arn:aws:eks:{cluster.region}:{ACCOUNT}:nodegroup/{cluster.name}/{self.name}/{uuid.uuid4()}"
        self.body = body
        self.created = self.modified = time.time()
        self.version = body.get("version") or cluster.version
        # The AMI release the nodes run: the one asked for, else the newest for the version.
        self.release = body.get("releaseVersion") or ami_releases.latest(self.version)
        self.scaling = body.get("scalingConfig") or {"minSize": 1, "maxSize": 2, "desiredSize": 2}
        self.labels = dict(body.get("labels") or {})
        self.taints = list(body.get("taints") or [])
        self.tags = dict(body.get("tags") or {})
        self.update_config = body.get("updateConfig") or {"maxUnavailable": 1}
        self.updates = {}
        self.instance_ids = []

    def view(self):
        b = self.body
        v = {"nodegroupName": self.name, "nodegroupArn": self.arn, "clusterName": self.cluster.name,
             "version": self.version, "releaseVersion": self.release,
             "createdAt": self.created, "modifiedAt": self.modified, "status": self.status,
             "capacityType": b.get("capacityType", "ON_DEMAND"), "scalingConfig": self.scaling,
             "instanceTypes": b.get("instanceTypes") or ["t3.medium"], "subnets": b.get("subnets", []),
             "amiType": b.get("amiType", "AL2023_x86_64_STANDARD"), "nodeRole": b.get("nodeRole"),
             "labels": self.labels, "taints": self.taints, "diskSize": b.get("diskSize", 20),
             "resources": {"autoScalingGroups": [{"name": f"eks-{self.name}-{self.arn[-36:]}"}]},
             "health": {"issues": []}, "updateConfig": self.update_config, "tags": self.tags}
        if b.get("launchTemplate"):
            v["launchTemplate"] = b["launchTemplate"]
        return v


class Cluster(Timed):
    account = ACCOUNT

    def __init__(self, region, body, vpc_id):
        self.region = region
        self.name = body["name"]
        self.arn = f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{self.name}"
        self.body = body
        self.version = body.get("version") or "1.33"
        self.created = time.time()
        self.vpc_id = vpc_id
        vpc = body.get("resourcesVpcConfig") or {}
        self.vpc_config = {
            "subnetIds": vpc.get("subnetIds", []), "securityGroupIds": vpc.get("securityGroupIds", []),
            "endpointPublicAccess": vpc.get("endpointPublicAccess", True),
            "endpointPrivateAccess": vpc.get("endpointPrivateAccess", False),
            "publicAccessCidrs": vpc.get("publicAccessCidrs", ["0.0.0.0/0"]),
        }
        access = body.get("accessConfig") or {}
        self.access_config = {"authenticationMode": access.get("authenticationMode", "CONFIG_MAP"),
                              "bootstrapClusterCreatorAdminPermissions":
                                  access.get("bootstrapClusterCreatorAdminPermissions", True)}
        self.logging = body.get("logging") or {"clusterLogging": [{"types": ["api", "audit", "authenticator",
                                                                             "controllerManager", "scheduler"],
                                                                   "enabled": False}]}
        self.tags = dict(body.get("tags") or {})
        self.sg_id = None
        self.azs = []  # the zones of the subnets given at creation (EKS keeps the cluster to them)
        self.eni_ids = []
        self.kube = None
        self.addons = {}
        self.nodegroups = {}
        self.access_entries = {}
        self.updates = {}

    def view(self):
        v = {"name": self.name, "arn": self.arn, "createdAt": self.created, "version": self.version,
             "roleArn": self.body.get("roleArn"), "status": self.status, "platformVersion": "eks.1",
             "resourcesVpcConfig": {**self.vpc_config, "clusterSecurityGroupId": self.sg_id, "vpcId": self.vpc_id},
             "kubernetesNetworkConfig": {"serviceIpv4Cidr": (self.body.get("kubernetesNetworkConfig") or {})
                                         .get("serviceIpv4Cidr", "172.20.0.0/16"), "ipFamily": "ipv4"},
             "logging": self.logging, "tags": self.tags, "accessConfig": self.access_config,
             "identity": {"oidc": {"issuer": f"https://oidc.eks.{self.region}.amazonaws.com/id/"
                                             f"{abs(hash(self.arn)) % 10**32:032X}"}},
             "health": {"issues": []}, "certificateAuthority": {}}
        if self.status in ("ACTIVE", "UPDATING") and self.kube is not None:
            v["endpoint"] = self.kube.endpoint
            v["certificateAuthority"] = {"data": self.kube.ca_data}
        return v


def _kube_class():
    try:
        from localcloud.kube import KubeCluster
        return KubeCluster
    except ImportError:
        return None


class Eks:
    def __init__(self, clients, profile, page_size_fn, front_url_fn, log_request, settings=None):
        self.clients = clients
        self.settings = settings or Settings()
        self.strict = EksStrict(self.settings, profile)  # strict switches (eks_strict.py)
        self.profile = profile
        self.page_size = page_size_fn
        self.front_url = front_url_fn
        self.log_request = log_request
        self.lock = threading.RLock()
        self.clusters = {}  # (region, name) -> Cluster
        self.tokens = {}    # client request tokens -> object name

    # --- routing ----------------------------------------------------------------
    def route(self, req):
        for method, pattern, op in ROUTES:
            if method == req.method:
                m = pattern.match(req.path)
                if m:
                    return op, [urllib.parse.unquote(g) for g in m.groups()]
        return None, []

    def operation_name(self, req) -> str:
        op, _ = self.route(req)
        return op or f"{req.method} {req.path}"

    def handle(self, req, operation) -> Response:
        op, args = self.route(req)
        if op is None:
            raise AwsError("NotImplementedException", f"localcloud does not emulate {req.method} {req.path}", 404)
        body = json.loads(req.body or b"{}") if req.body else {}
        query = {k: v[0] for k, v in req.qs.items()}
        multi = req.qs
        self.tick()
        with self.lock:
            self.strict.before(self, op, req.region, args, body, query)
            resp = getattr(self, "op_" + op)(req.region, args, body, query, multi)
            return self.strict.after(self, op, req.region, args, body, query, resp)

    # --- time -------------------------------------------------------------------
    def tick(self):
        now = time.time()
        with self.lock:
            for c in list(self.clusters.values()):
                objs = [c, *c.nodegroups.values(), *c.addons.values()]
                for o in objs:
                    if o.until is not None and now >= o.until:
                        o.until, after = None, o.after
                        o.after = None
                        if after:
                            after()
                for holder in [c, *c.nodegroups.values(), *c.addons.values()]:
                    for u in getattr(holder, "updates", {}).values():
                        if u.status == "InProgress" and now >= u.until:
                            u.end()
            self.strict.tick(list(self.clusters.values()))

    def cluster(self, region, name, active=False) -> Cluster:
        c = self.clusters.get((region, name))
        if c is None:
            not_found(f"No cluster found for name: {name}.")
        if active and c.status != "ACTIVE":
            bad_request(f"Cluster '{name}' is in {c.status} status; it must be ACTIVE for this operation.")
        return c

    def _page(self, items, query):
        return pagination.page(items, query, self.page_size(), "eks")

    # --- clusters ---------------------------------------------------------------
    def op_ListClusters(self, region, args, body, query, multi):
        names = sorted(n for (r, n) in self.clusters if r == region)
        items, token = self._page(names, query)
        return ok({"clusters": items, "nextToken": token})

    def op_DescribeClusterVersions(self, region, args, body, query, multi):
        found = k8s_versions.describe(query, multi, self.settings.calendar_date())
        items, token = self._page(found, query)
        return ok({"clusterVersions": items, "nextToken": token})

    def op_DescribeCluster(self, region, args, body, query, multi):
        return ok({"cluster": self.cluster(region, args[0]).view()})

    def op_CreateCluster(self, region, args, body, query, multi):
        name = body.get("name") or invalid("name is required")
        token = body.get("clientRequestToken")
        if token and self.tokens.get(("cluster", region, token)) == name and (region, name) in self.clusters:
            return ok({"cluster": self.clusters[(region, name)].view()})
        if (region, name) in self.clusters:
            in_use(f"Cluster already exists with name: {name}")
        if body.get("version") and body["version"] not in addon_lib.K8S_VERSIONS:
            invalid(f"unsupported Kubernetes version {body['version']}")
        self._check_role(region, body.get("roleArn"))
        subnets = (body.get("resourcesVpcConfig") or {}).get("subnetIds") or []
        vpc_id = self._check_subnets(region, subnets, two_azs=True)
        c = Cluster(region, body, vpc_id)
        c.azs = sorted(self._zones(region, subnets))
        self._wire_cluster(c)
        c.begin("CREATING", self.profile.transition("cluster.CREATING"), lambda: setattr(c, "status", "ACTIVE"))
        if c.access_config["authenticationMode"] != "CONFIG_MAP" and \
                c.access_config["bootstrapClusterCreatorAdminPermissions"]:
            creator = iam_principal(self.clients.get("sts", region).get_caller_identity()["Arn"])
            e = self._new_access_entry(c, {"principalArn": creator})
            e["policies"][POLICY_PREFIX + "AmazonEKSClusterAdminPolicy"] = {
                "policyArn": POLICY_PREFIX + "AmazonEKSClusterAdminPolicy", "accessScope": {"type": "cluster"},
                "associatedAt": time.time(), "modifiedAt": time.time()}
        self.clusters[(region, name)] = c
        if token:
            self.tokens[("cluster", region, token)] = name
        return ok({"cluster": c.view()})

    def _check_role(self, region, arn):
        if not arn or ":role/" not in arn:
            invalid(f"roleArn {arn!r} is not a valid IAM role ARN")
        try:
            self.clients.get("iam", region).get_role(RoleName=arn.split("/")[-1])
        except Exception:
            invalid(f"Role with arn: {arn}, could not be assumed because it does not exist "
                    "or the trusted entity is not correct")

    def _check_subnets(self, region, subnets, two_azs=False) -> str:
        if not subnets:
            invalid("subnetIds must not be empty")
        try:
            found = self.clients.ec2(region).describe_subnets(SubnetIds=subnets)["Subnets"]
        except Exception:
            invalid(f"The subnet ID '{', '.join(subnets)}' does not exist")
        vpcs = {s["VpcId"] for s in found}
        if len(vpcs) != 1:
            invalid("Subnets must all belong to the same VPC")
        if two_azs and len({s["AvailabilityZone"] for s in found}) < 2:
            invalid("Subnets specified must be in at least two different AZs")
        return vpcs.pop()

    def _zones(self, region, subnets):
        found = self.clients.ec2(region).describe_subnets(SubnetIds=subnets)["Subnets"]
        return {s["AvailabilityZone"] for s in found}

    def _check_new_subnets(self, c, subnets):
        """EKS user guide, network-reqs: the cluster's subnets can be updated (UpdateClusterConfig,
        since 2023-10); all subnets added must be in the set of AZs given at creation, in at
        least two AZs, in the cluster's VPC."""
        if self._check_subnets(c.region, subnets, two_azs=True) != c.vpc_id:
            invalid("Subnets must belong to the cluster's VPC")
        new = self._zones(c.region, subnets) - set(c.azs)
        if new:
            invalid(f"Provided subnets belong to the AZs {sorted(new)}, which were not provided when the cluster "
                    f"was created ({sorted(c.azs)})")

    def _move_control_plane_enis(self, c, subnets):
        """EKS recreates a control-plane ENI whose subnet left the configuration in a subnet of it."""
        ec2 = self.clients.ec2(c.region)
        moved = []
        for i, eni_id in enumerate(list(c.eni_ids)):
            try:
                eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
            except Exception:
                continue
            if eni["SubnetId"] in subnets:
                continue
            groups = [g["GroupId"] for g in eni.get("Groups", [])]
            target = subnets[i % len(subnets)]
            ec2.delete_network_interface(NetworkInterfaceId=eni_id)
            new = ec2.create_network_interface(SubnetId=target, Groups=groups, Description=f"Amazon EKS {c.name}")
            c.eni_ids[i] = new["NetworkInterface"]["NetworkInterfaceId"]
            moved.append(eni_id)
        return moved

    def _wire_cluster(self, c: Cluster):
        """What EKS creates for a cluster: cluster security group, control-plane ENIs, an API server."""
        ec2 = self.clients.ec2(c.region)
        sg = ec2.create_security_group(
            GroupName=f"eks-cluster-sg-{c.name}-{random.randint(10**8, 10**9 - 1)}", VpcId=c.vpc_id,
            Description="EKS created security group applied to ENI that is attached to EKS Control Plane "
                        "master nodes, as well as any managed workloads.",
            TagSpecifications=[{"ResourceType": "security-group", "Tags": [
                {"Key": "aws:eks:cluster-name", "Value": c.name},
                {"Key": "kubernetes.io/cluster/" + c.name, "Value": "owned"},
                {"Key": "Name", "Value": f"eks-cluster-sg-{c.name}"}]}])
        c.sg_id = sg["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=c.sg_id, IpPermissions=[
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": c.sg_id}]}])
        groups = [c.sg_id, *c.vpc_config["securityGroupIds"]]
        for subnet in c.vpc_config["subnetIds"][:2]:
            eni = ec2.create_network_interface(SubnetId=subnet, Groups=groups, Description=f"Amazon EKS {c.name}")
            c.eni_ids.append(eni["NetworkInterface"]["NetworkInterfaceId"])
        kube_cls = _kube_class()
        if kube_cls is not None:
            c.kube = kube_cls(c.name, c.region, self.front_url(), self.log_request)
            self.strict.configure_kube(c.kube)
            c.kube.start()
            dataplane.attach(c, self.clients, self.profile, getattr(self, "faults", None))

    def _unwire_cluster(self, c: Cluster):
        ec2 = self.clients.ec2(c.region)
        dataplane.detach(c)
        if c.kube is not None:
            try:
                c.kube.stop()
            except Exception:
                pass
        for eni in c.eni_ids:
            try:
                ec2.delete_network_interface(NetworkInterfaceId=eni)
            except Exception:
                pass
        try:
            ec2.delete_security_group(GroupId=c.sg_id)
        except Exception:
            pass
        self.clusters.pop((c.region, c.name), None)

    def op_DeleteCluster(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        if c.status in ("CREATING", "DELETING", "UPDATING"):
            in_use(f"Cluster {c.name} is in {c.status} state and cannot be deleted now.")
        if c.nodegroups:
            in_use(f"Cluster has nodegroups attached: {', '.join(sorted(c.nodegroups))}")
        if c.addons:
            in_use(f"Cluster has add-ons attached: {', '.join(sorted(c.addons))}")
        c.begin("DELETING", self.profile.transition("cluster.DELETING"), lambda: self._unwire_cluster(c))
        return ok({"cluster": c.view()})

    def op_UpdateClusterVersion(self, region, args, body, query, multi):
        c = self.cluster(region, args[0], active=True)
        new = body.get("version") or invalid("version is required")
        cur = int(c.version.split(".")[1])
        # One minor version up at a time, never down: "Unsupported Kubernetes minor version update
        # from 1.22 to 1.25" (terraform-aws-modules/terraform-aws-eks#2607), "… from 1.23 to 1.22"
        # (rancher/rancher#41643); EKS user guide, update-cluster: "Once you upgrade a cluster,
        # you can't downgrade to a previous version".
        if new not in addon_lib.K8S_VERSIONS or int(new.split(".")[1]) != cur + 1:
            invalid(f"Unsupported Kubernetes minor version update from {c.version} to {new}")
        # Managed nodegroups must match the control plane before it moves: "Nodegroups eks-stg-gp
        # must be updated to match cluster version 1.18 before updating cluster version"
        # (hashicorp/terraform-provider-aws#19478; awsdocs/amazon-eks-user-guide#475).
        behind = sorted(n for n, ng in c.nodegroups.items() if k8s_versions.minor(ng.version) < cur)
        if behind:
            invalid(f"Nodegroups {', '.join(behind)} must be updated to match cluster version {c.version} "
                    "before updating cluster version")
        return self._cluster_update(c, "VersionUpdate", [("Version", new), ("PlatformVersion", "eks.1")],
                                    "cluster.UPDATING.version", lambda: setattr(c, "version", new))

    def op_UpdateClusterConfig(self, region, args, body, query, multi):
        c = self.cluster(region, args[0], active=True)
        changes, params, kind = [], [], "EndpointAccessUpdate"
        vpc = body.get("resourcesVpcConfig") or {}
        keys = {"endpointPublicAccess": "EndpointPublicAccess", "endpointPrivateAccess": "EndpointPrivateAccess",
                "publicAccessCidrs": "PublicAccessCidrs", "subnetIds": "SubnetIds",
                "securityGroupIds": "SecurityGroupIds"}
        for k, t in keys.items():
            if k in vpc and vpc[k] != c.vpc_config.get(k):
                params.append((t, json.dumps(vpc[k]) if isinstance(vpc[k], list) else str(vpc[k]).lower()))
                changes.append(("vpc", k, vpc[k]))
        if "subnetIds" in vpc or "securityGroupIds" in vpc:
            kind = "VpcConfigUpdate"
        if "subnetIds" in vpc and vpc["subnetIds"] != c.vpc_config.get("subnetIds"):
            self._check_new_subnets(c, vpc["subnetIds"])
        if body.get("logging") and body["logging"] != c.logging:
            params.append(("ClusterLogging", json.dumps(body["logging"])))
            changes.append(("logging", None, body["logging"]))
            kind = "LoggingUpdate"
        mode = (body.get("accessConfig") or {}).get("authenticationMode")
        if mode and mode != c.access_config["authenticationMode"]:
            order = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]
            if order.index(mode) < order.index(c.access_config["authenticationMode"]):
                invalid(f"Unsupported authentication mode update from "
                        f"{c.access_config['authenticationMode']} to {mode}")
            params.append(("AuthenticationMode", mode))
            changes.append(("access", "authenticationMode", mode))
            kind = "AccessConfigUpdate"
        if not changes:
            invalid("No changes needed for the cluster configuration: it already has the requested values.")

        def apply():
            for where, k, v in changes:
                if where == "vpc" and k == "subnetIds":
                    self._move_control_plane_enis(c, v)
                if where == "vpc":
                    c.vpc_config[k] = v
                elif where == "logging":
                    c.logging = v
                else:
                    c.access_config[k] = v
        return self._cluster_update(c, kind, params, "cluster.UPDATING.config", apply)

    def _cluster_update(self, c, kind, params, profile_key, apply):
        if any(u.status == "InProgress" for u in c.updates.values()):
            in_use(f"Cluster {c.name} has an update in progress")
        seconds = self.profile.transition(profile_key)

        def done():
            apply()
            c.status = "ACTIVE"
        u = Update(kind, params, seconds, done)
        c.updates[u.id] = u
        c.status = "UPDATING"
        return ok({"update": u.view()})

    def _update_holder(self, c, query):
        if query.get("nodegroupName"):
            return self.nodegroup(c, query["nodegroupName"])
        if query.get("addonName"):
            return self.addon(c, query["addonName"])
        return c

    def op_ListUpdates(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        holder = self._update_holder(c, query)
        ids = [u.id for u in sorted(holder.updates.values(), key=lambda u: u.created)]
        items, token = self._page(ids, query)
        return ok({"updateIds": items, "nextToken": token})

    def op_DescribeUpdate(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        holder = self._update_holder(c, query)
        u = holder.updates.get(args[1]) or not_found(f"No update found for ID: {args[1]}")
        return ok({"update": u.view()})

    # --- nodegroups -------------------------------------------------------------
    def nodegroup(self, c, name) -> Nodegroup:
        return c.nodegroups.get(name) or not_found(f"No node group found for name: {name}.")

    def op_ListNodegroups(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        items, token = self._page(sorted(c.nodegroups), query)
        return ok({"nodegroups": items, "nextToken": token})

    def op_DescribeNodegroup(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        return ok({"nodegroup": self.nodegroup(c, args[1]).view()})

    def op_CreateNodegroup(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        name = body.get("nodegroupName") or invalid("nodegroupName is required")
        if name in c.nodegroups:
            token = body.get("clientRequestToken")
            if token and self.tokens.get(("nodegroup", region, c.name, token)) == name:
                return ok({"nodegroup": c.nodegroups[name].view()})
            in_use(f"NodeGroup already exists with name {name} and cluster name {c.name}")
        if c.status != "ACTIVE":
            bad_request(f"Cluster '{c.name}' is not in ACTIVE status")
        self._check_role(region, body.get("nodeRole"))
        self._check_subnets(region, body.get("subnets") or [])
        if body.get("version"):
            self._check_node_version(c, body["version"])
        if body.get("releaseVersion"):
            ami_releases.check_release(body.get("version") or c.version, body["releaseVersion"])
        ng = Nodegroup(c, body)
        self._launch_nodes(c, ng)
        ng.begin("CREATING", self.profile.transition("nodegroup.CREATING"),
                 lambda: (setattr(ng, "status", "ACTIVE"), dataplane.sync_nodegroup(c, ng)))
        c.nodegroups[name] = ng
        if body.get("clientRequestToken"):
            self.tokens[("nodegroup", region, c.name, body["clientRequestToken"])] = name
        return ok({"nodegroup": ng.view()})

    def _launch_nodes(self, c, ng):
        """Managed nodes are EC2 instances in the nodegroup's subnets (their ENIs hold the subnets)."""
        ec2 = self.clients.ec2(c.region)
        subnets = ng.body.get("subnets") or []
        for i in range(int(ng.scaling.get("desiredSize", 0))):
            try:
                r = ec2.run_instances(
                    ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnets[i % len(subnets)],
                    InstanceType=(ng.body.get("instanceTypes") or ["t3.medium"])[0], SecurityGroupIds=[c.sg_id],
                    TagSpecifications=[{"ResourceType": "instance", "Tags": [
                        {"Key": "eks:cluster-name", "Value": c.name},
                        {"Key": "eks:nodegroup-name", "Value": ng.name},
                        {"Key": "kubernetes.io/cluster/" + c.name, "Value": "owned"}]}])
                ng.instance_ids.append(r["Instances"][0]["InstanceId"])
            except Exception as e:
                print(f"localcloud: could not launch node for {ng.name}: {e}", flush=True)

    def _remove_nodegroup(self, c, ng):
        dataplane.remove_nodegroup(c, ng)
        if ng.instance_ids:
            try:
                self.clients.ec2(c.region).terminate_instances(InstanceIds=ng.instance_ids)
            except Exception:
                pass
        c.nodegroups.pop(ng.name, None)

    def op_DeleteNodegroup(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        ng = self.nodegroup(c, args[1])
        if ng.status in ("CREATING", "DELETING"):
            in_use(f"Nodegroup {ng.name} is in {ng.status} state")
        ng.begin("DELETING", self.profile.transition("nodegroup.DELETING"), lambda: self._remove_nodegroup(c, ng))
        return ok({"nodegroup": ng.view()})

    def _nodegroup_update(self, ng, kind, params, key, apply, failure=None):
        if ng.status != "ACTIVE":
            in_use(f"Nodegroup {ng.name} is in {ng.status} state")

        def done():
            apply()
            ng.status = "ACTIVE"
            ng.modified = time.time()
            dataplane.sync_nodegroup(ng.cluster, ng)
        u = Update(kind, params, self.profile.transition(key), done)
        u.failure = failure or self._injected_failure(f"Update{'NodegroupVersion' if kind == 'VersionUpdate' else 'NodegroupConfig'}", ng.name)
        u.undo = lambda: setattr(ng, "status", "ACTIVE")
        ng.updates[u.id] = u
        ng.status = "UPDATING"
        return ok({"update": u.view()})

    def _injected_failure(self, operation, resource):
        """A fault rule {"service": "eks-update", "operation": "UpdateNodegroupVersion" |
        "UpdateNodegroupConfig" | "UpdateAddon" | "UpdateClusterVersion", "error": CODE,
        "message": ...}: the call is accepted and its update ends Failed with that error
        (DescribeUpdate status Failed, errors[{errorCode, errorMessage, resourceIds}]), as when
        EKS cannot finish it; nothing of the update is applied. Named exactly ("*" does not
        reach it)."""
        faults = getattr(self, "faults", None)
        rule = faults.match("eks-update", operation, exact_service=True) if faults else None
        if not rule:
            return None
        return {"errorCode": rule["error"], "errorMessage": rule["message"], "resourceIds": [resource]}

    def op_UpdateNodegroupConfig(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        ng = self.nodegroup(c, args[1])
        params, new = [], {}
        if body.get("scalingConfig"):
            s = {**ng.scaling, **body["scalingConfig"]}
            if not s["minSize"] <= s["desiredSize"] <= s["maxSize"]:
                invalid("desired size must be between min size and max size")
            new["scaling"] = s
            params += [("MinSize", s["minSize"]), ("MaxSize", s["maxSize"]), ("DesiredSize", s["desiredSize"])]
        if body.get("labels"):
            labels = {**ng.labels, **body["labels"].get("addOrUpdateLabels", {})}
            for k in body["labels"].get("removeLabels", []):
                labels.pop(k, None)
            new["labels"] = labels
            params.append(("LabelsToAdd", json.dumps(body["labels"].get("addOrUpdateLabels", {}))))
        if body.get("updateConfig"):
            new["update_config"] = body["updateConfig"]
            params.append(("MaxUnavailable", body["updateConfig"].get("maxUnavailable", "")))
        if not params:
            invalid("No changes needed for the nodegroup configuration")
        return self._nodegroup_update(ng, "ConfigUpdate", params, "nodegroup.UPDATING.config",
                                      lambda: [setattr(ng, k, v) for k, v in new.items()])

    def _check_node_version(self, c, version):
        """Nodes are never newer than their control plane (Kubernetes version skew policy: "kubelet
        must not be newer than kube-apiserver", https://kubernetes.io/releases/version-skew-policy/;
        eksctl-io/eksctl#3727: EKS validates it). EKS's wording is not on record: this is ours."""
        if version not in addon_lib.K8S_VERSIONS:
            invalid(f"unsupported Kubernetes version {version}")
        if k8s_versions.minor(version) > k8s_versions.minor(c.version):
            invalid(f"Nodegroup Kubernetes version {version} cannot be newer than the cluster's Kubernetes "
                    f"version {c.version}")

    def op_UpdateNodegroupVersion(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        ng = self.nodegroup(c, args[1])
        version = body.get("version") or c.version
        self._check_node_version(c, version)
        # releaseVersion: "By default, the latest available AMI version for the node group's
        # Kubernetes version is used" (API reference, UpdateNodegroupVersion).
        release = body.get("releaseVersion") or ami_releases.latest(version)
        ami_releases.check_release(version, release, ng.release if version == ng.version else None)
        params = [("Version", version), ("ReleaseVersion", release)]
        if body.get("force"):
            params.append(("Force", "true"))
        # The old nodes are drained through the eviction API; a pod its PodDisruptionBudget
        # holds does not leave, and without `force` the update fails (EKS user guide,
        # managed-node-update-behavior: "If the Pods don't leave the node within 15 minutes and
        # there's no force flag, the upgrade phase fails with a PodEvictionFailure error";
        # errorMessage and resourceIds as DescribeUpdate shows them in reports quoted on GitHub).
        failure = None
        blocked = [] if body.get("force") else dataplane.eviction_blocked(c, ng)
        if blocked:
            failure = {"errorCode": "PodEvictionFailure",
                       "errorMessage": f"Reached max retries while trying to evict pods from nodes in node group {ng.name}",
                       "resourceIds": blocked}
        return self._nodegroup_update(ng, "VersionUpdate", params, "nodegroup.UPDATING.version",
                                      lambda: (setattr(ng, "version", version), setattr(ng, "release", release)),
                                      failure)

    # --- add-ons ----------------------------------------------------------------
    def addon(self, c, name):
        return c.addons.get(name) or not_found(f"No addon: {name} found in cluster: {c.name}")

    def op_ListAddons(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        items, token = self._page(sorted(c.addons), query)
        return ok({"addons": items, "nextToken": token})

    def op_DescribeAddon(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        return ok({"addon": self.addon(c, args[1]).view()})

    def _resolve_version(self, c, name, version):
        if name not in addon_lib.ADDON_TYPES:
            invalid(f"Addon {name} specified is not supported in {c.version} cluster version")
        supported = addon_lib.versions(name, c.version)
        if not version:
            return addon_lib.default(name, c.version)
        if version not in supported:
            invalid(f"Addon version specified ({version}) is not supported for {name} on Kubernetes {c.version}")
        return version

    def _check_resolve(self, body):
        rc = body.get("resolveConflicts")
        if rc is not None and rc not in ("NONE", "OVERWRITE", "PRESERVE"):
            invalid(f"resolveConflicts must be one of NONE, OVERWRITE, PRESERVE (got {rc})")

    def op_CreateAddon(self, region, args, body, query, multi):
        c = self.cluster(region, args[0], active=True)
        name = body.get("addonName") or invalid("addonName is required")
        token = body.get("clientRequestToken")
        if name in c.addons:
            if token and self.tokens.get(("addon", region, c.name, token)) == name:
                return ok({"addon": c.addons[name].view()})  # a retried request: same answer
            in_use("Addon already exists.")
        if token:
            self.tokens[("addon", region, c.name, token)] = name
        self._check_resolve(body)
        version = self._resolve_version(c, name, body.get("addonVersion"))
        config = addon_lib.parse_configuration(name, body.get("configurationValues"), self.settings.on("addon_schema"))
        a = addon_lib.Addon(c, name, version, body, body.get("configurationValues"))
        a.begin("CREATING", self.profile.transition("addon.CREATING"), lambda: setattr(a, "status", "ACTIVE"))
        c.addons[name] = a
        self._notify_kube(c, name, config)
        return ok({"addon": a.view()})

    def _notify_kube(self, c, name, config):
        if name == "vpc-cni" and c.kube is not None:
            c.kube.on_addon(name, config)

    def op_UpdateAddon(self, region, args, body, query, multi):
        c = self.cluster(region, args[0], active=True)
        a = self.addon(c, args[1])
        if a.status not in ("ACTIVE", "DEGRADED"):
            in_use(f"Addon {a.name} is in {a.status} state")
        self._check_resolve(body)
        version = self._resolve_version(c, a.name, body.get("addonVersion")) if body.get("addonVersion") else a.version
        text = body["configurationValues"] if "configurationValues" in body else a.config_text
        config = addon_lib.parse_configuration(a.name, text, self.settings.on("addon_schema"))
        params = [("AddonVersion", version)]
        if "configurationValues" in body:
            params.append(("ConfigurationValues", text))
        if "serviceAccountRoleArn" in body:
            params.append(("ServiceAccountRoleArn", body["serviceAccountRoleArn"]))
        if body.get("resolveConflicts"):
            params.append(("ResolveConflicts", body["resolveConflicts"]))

        def done():
            a.version, a.config_text, a.modified = version, text or "", time.time()
            if "serviceAccountRoleArn" in body:
                a.role = body["serviceAccountRoleArn"]
            a.status = "ACTIVE"
        u = Update("AddonUpdate", params, self.profile.transition("addon.UPDATING"), done)
        u.failure = self._injected_failure("UpdateAddon", a.name)
        before = a.status
        u.undo = lambda: setattr(a, "status", before)
        a.updates[u.id] = u
        a.status = "UPDATING"
        self._notify_kube(c, a.name, config)
        return ok({"update": u.view()})

    def op_DeleteAddon(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        a = self.addon(c, args[1])
        if a.status == "DELETING":
            in_use(f"Addon {a.name} is already being deleted")
        a.begin("DELETING", self.profile.transition("addon.DELETING"), lambda: c.addons.pop(a.name, None))
        return ok({"addon": a.view()})

    # --- insights (insights.py) ----------------------------------------------------
    def op_ListInsights(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        items, token = self._page(insights_lib.listed(c, (body or {}).get("filter") or {}), {**query, **(body or {})})
        return ok({"insights": items, "nextToken": token})

    def op_DescribeInsight(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        found = insights_lib.described(c, args[1]) or not_found(f"No insight found for id: {args[1]}")
        return ok({"insight": found})

    def op_DescribeAddonVersions(self, region, args, body, query, multi):
        found = addon_lib.describe_versions(query.get("addonName"), query.get("kubernetesVersion"))
        items, token = self._page(found, query)
        return ok({"addons": items, "nextToken": token})

    def op_DescribeAddonConfiguration(self, region, args, body, query, multi):
        name, version = query.get("addonName"), query.get("addonVersion")
        if name not in addon_lib.ADDON_TYPES:
            not_found(f"Addon {name} not found")
        if not any(version in addon_lib.versions(name, k) for k in addon_lib.K8S_VERSIONS):
            invalid(f"Addon version {version} not found for {name}")
        return ok({"addonName": name, "addonVersion": version,
                   "configurationSchema": addon_lib.schema_text(name), "podIdentityConfiguration": []})

    # --- access entries ---------------------------------------------------------
    def _api_mode(self, c):
        if c.access_config["authenticationMode"] == "CONFIG_MAP":
            bad_request("The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
                        "to perform this operation.")

    def _new_access_entry(self, c, body):
        principal = body.get("principalArn") or invalid("principalArn is required")
        kind = "role" if ":role/" in principal or ":assumed-role/" in principal else "user"
        pname = principal.split("/")[-1]
        username = body.get("username") or (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/{pname}/{{{{SessionName}}}}" if kind == "role" else principal)
        e = {"clusterName": c.name, "principalArn": principal, "kubernetesGroups": body.get("kubernetesGroups", []),
             "accessEntryArn": f"arn:aws:eks:{c.region}:{ACCOUNT}:access-entry/{c.name}/{kind}/{ACCOUNT}/"
                               f"{pname}/{uuid.uuid4()}",
             "createdAt": time.time(), "modifiedAt": time.time(), "tags": dict(body.get("tags") or {}),
             "username": username, "type": body.get("type", "STANDARD"), "policies": {}}
        c.access_entries[principal] = e
        return e

    @staticmethod
    def _entry_view(e):
        return {k: v for k, v in e.items() if k != "policies"}

    def entry(self, c, principal):
        return c.access_entries.get(principal) or not_found(
            f"The specified access entry resource is not found: {principal}")

    def op_CreateAccessEntry(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        self._api_mode(c)
        if body.get("principalArn") in c.access_entries:
            in_use(f"The specified access entry resource is already in use on this cluster.")
        return ok({"accessEntry": self._entry_view(self._new_access_entry(c, body))})

    def op_DescribeAccessEntry(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        return ok({"accessEntry": self._entry_view(self.entry(c, args[1]))})

    def op_UpdateAccessEntry(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        e = self.entry(c, args[1])
        for k in ("kubernetesGroups", "username"):
            if k in body:
                e[k] = body[k]
        e["modifiedAt"] = time.time()
        return ok({"accessEntry": self._entry_view(e)})

    def op_DeleteAccessEntry(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        self.entry(c, args[1])
        del c.access_entries[args[1]]
        return ok({})

    def op_ListAccessEntries(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        arns = [e["principalArn"] for _, e in sorted(c.access_entries.items())]
        if query.get("associatedPolicyArn"):
            arns = [p for p in arns if query["associatedPolicyArn"] in c.access_entries[p]["policies"]]
        items, token = self._page(arns, query)
        return ok({"accessEntries": items, "nextToken": token})

    def op_AssociateAccessPolicy(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        e = self.entry(c, args[1])
        arn = body.get("policyArn") or invalid("policyArn is required")
        if not arn.startswith(POLICY_PREFIX) or arn[len(POLICY_PREFIX):] not in ACCESS_POLICIES:
            not_found(f"The specified policyArn is not found: {arn}")
        scope = body.get("accessScope") or invalid("accessScope is required")
        if scope.get("type") not in ("cluster", "namespace"):
            invalid("accessScope.type must be cluster or namespace")
        if scope["type"] == "namespace" and not scope.get("namespaces"):
            invalid("accessScope.namespaces is required for type namespace")
        now = time.time()
        old = e["policies"].get(arn)
        e["policies"][arn] = {"policyArn": arn, "accessScope": scope,
                              "associatedAt": old["associatedAt"] if old else now, "modifiedAt": now}
        return ok({"clusterName": c.name, "principalArn": e["principalArn"],
                   "associatedAccessPolicy": e["policies"][arn]})

    def op_DisassociateAccessPolicy(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        e = self.entry(c, args[1])
        if args[2] not in e["policies"]:
            not_found(f"The specified policy is not associated: {args[2]}")
        del e["policies"][args[2]]
        return ok({})

    def op_ListAssociatedAccessPolicies(self, region, args, body, query, multi):
        c = self.cluster(region, args[0])
        e = self.entry(c, args[1])
        items, token = self._page([p for _, p in sorted(e["policies"].items())], query)
        return ok({"clusterName": c.name, "principalArn": e["principalArn"],
                   "associatedAccessPolicies": items, "nextToken": token})

    def op_ListAccessPolicies(self, region, args, body, query, multi):
        items, token = self._page([{"name": n, "arn": POLICY_PREFIX + n} for n in ACCESS_POLICIES], query)
        return ok({"accessPolicies": items, "nextToken": token})

    # --- tags -------------------------------------------------------------------
    def _tagged(self, arn):
        for c in self.clusters.values():
            if c.arn == arn:
                return c.tags
            for o in [*c.nodegroups.values(), *c.addons.values()]:
                if o.arn == arn:
                    return o.tags
            for e in c.access_entries.values():
                if e["accessEntryArn"] == arn:
                    return e["tags"]
        not_found(f"Resource not found: {arn}")

    def op_ListTagsForResource(self, region, args, body, query, multi):
        return ok({"tags": self._tagged(args[0])})

    def op_TagResource(self, region, args, body, query, multi):
        self._tagged(args[0]).update(body.get("tags") or {})
        return ok({})

    def op_UntagResource(self, region, args, body, query, multi):
        tags = self._tagged(args[0])
        for k in multi.get("tagKeys", []):
            tags.pop(k, None)
        return ok({})

    def reset(self):
        with self.lock:
            for c in list(self.clusters.values()):
                if c.kube is not None:
                    try:
                        c.kube.stop()
                    except Exception:
                        pass
            self.clusters.clear()
            self.tokens.clear()
            self.strict.reset()
