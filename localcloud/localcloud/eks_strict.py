"""EKS as it is rather than "on a good day" (switches in strict.py). eks.py calls `before` and
`after` around every operation, `tick` with its own, `configure_kube` for each new cluster.

addon_degraded — add-ons pass through DEGRADED. coredns stays DEGRADED with the health issue
  InsufficientNumberOfReplicas until the cluster has nodes (a nodegroup ACTIVE with
  desiredSize > 0): "The add-on is unhealthy because it doesn't have the desired number of
  replicas." (aws/containers-roadmap#2328; terraform-aws-modules/terraform-aws-eks#3001,
  pulumi/pulumi-eks#1819: create waits end in "last state: 'DEGRADED'" without nodes).
  vpc-cni is DEGRADED for `addon_degraded_calls` EKS calls on the cluster (and the profile's
  `addon.DEGRADED` seconds) after it is created or updated, while aws-node rolls out.
  hashicorp/terraform-provider-aws internal/service/eks/addon.go waitAddonCreated keeps polling
  through DEGRADED (Pending: CREATING, DEGRADED; Target: ACTIVE).
update_lag — UpdateClusterConfig / UpdateClusterVersion / UpdateNodegroupConfig /
  UpdateNodegroupVersion / UpdateAddon answer an update id (DescribeUpdate: InProgress) before
  the update starts: the object stays ACTIVE for `update_lag_calls` EKS calls on the cluster,
  then UPDATING for the profile's time, then the update is Successful and the object ACTIVE.
  A client that waits for "ACTIVE" right after the call sees the old state; EKS's clients poll
  DescribeUpdate instead (terraform-provider-aws waitClusterUpdateSuccessful,
  waitAddonUpdateSuccessful: Pending InProgress, Target Successful).
auth_mode_rules — authentication mode moves one way: CONFIG_MAP -> API_AND_CONFIG_MAP -> API
  ("Switching authentication modes on an existing cluster is a one-way operation",
  https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html#set-cam). Any other
  move, skipping a step or "moving" to the current mode, is
  `InvalidParameterException: Unsupported authentication mode update from CONFIG_MAP to API`
  (pulumi/pulumi-eks#1493; aws/aws-cdk#31032 for API_AND_CONFIG_MAP to API_AND_CONFIG_MAP).
  CreateCluster with CONFIG_MAP needs bootstrapClusterCreatorAdminPermissions true:
  "bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to
  CONFIG_MAP" (terraform-aws-modules/terraform-aws-eks#3206).
k8s_versions — see k8s_versions.py.
tag_rules — see tag_rules.py.
token_expiry_scaled / token_signature / token_local_sts — TokenPolicy below, kube_auth.py.
"""
from __future__ import annotations

import json
import time

from localcloud import k8s_versions, tag_rules
from localcloud.awserrors import AwsError

AUTH_MODE_NEXT = {"CONFIG_MAP": "API_AND_CONFIG_MAP", "API_AND_CONFIG_MAP": "API"}
UPDATES = ("UpdateClusterConfig", "UpdateClusterVersion", "UpdateNodegroupConfig", "UpdateNodegroupVersion",
           "UpdateAddon")
NO_REPLICAS = {"code": "InsufficientNumberOfReplicas",
               "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.",
               "resourceIds": []}


def invalid(message: str):
    raise AwsError("InvalidParameterException", message, 400)


class TokenPolicy:
    """What a cluster's token verifier asks localcloud (kube_auth.TokenVerifier.policy)."""

    def __init__(self, settings, profile):
        self.settings = settings
        self.profile = profile

    def token_lifetime(self) -> float:
        return self.settings.token_lifetime(self.profile.scale)

    def accepts_local_sts(self) -> bool:
        return self.settings.on("token_local_sts")

    def secret_for(self, access_key_id: str) -> str | None:
        if not self.settings.on("token_signature"):
            return None
        from localcloud.token_signature import moto_secret
        return moto_secret(access_key_id) or ""


class EksStrict:
    def __init__(self, settings, profile):
        self.settings = settings
        self.profile = profile
        self.pending = []   # [(cluster, holder, update, calls left, seconds of UPDATING)]
        self.degraded = []  # [(cluster, addon, calls left, until)]

    def reset(self):
        self.pending.clear()
        self.degraded.clear()

    def configure_kube(self, kube):
        if kube is not None and hasattr(kube, "verifier"):
            kube.verifier.policy = TokenPolicy(self.settings, self.profile)

    # --- refusals, before the operation ---------------------------------------------
    def before(self, eks, op, region, args, body, query):
        s = self.settings
        if s.on("tag_rules"):
            if op in ("CreateCluster", "CreateNodegroup", "CreateAddon", "CreateAccessEntry"):
                tag_rules.check_eks(body.get("tags"))
            elif op == "TagResource":
                tag_rules.check_eks(body.get("tags"), "BadRequestException")
        if s.on("k8s_versions"):
            today = s.calendar_date()
            if op == "CreateCluster":
                version = body.get("version") or k8s_versions.default_version(today)
                if version not in k8s_versions.offered(today):
                    invalid(k8s_versions.unsupported(version))
                body["version"] = version
            elif op == "UpdateClusterVersion" and body.get("version") is not None:
                if body["version"] not in k8s_versions.offered(today):
                    invalid(k8s_versions.unsupported(body["version"]))
            elif op == "CreateNodegroup" and (region, args[0]) in eks.clusters:
                version = body.get("version") or eks.clusters[(region, args[0])].version
                message = k8s_versions.al2_refused(body.get("amiType"), version)
                if message:
                    invalid(message)
            elif op == "UpdateNodegroupVersion" and (region, args[0]) in eks.clusters:
                c = eks.clusters[(region, args[0])]
                ng = c.nodegroups.get(args[1])
                if ng is not None:
                    message = k8s_versions.al2_refused(ng.body.get("amiType"), body.get("version") or c.version)
                    if message:
                        invalid(message)
        if s.on("auth_mode_rules"):
            access = body.get("accessConfig") or {}
            if op == "CreateCluster" and access.get("authenticationMode", "CONFIG_MAP") == "CONFIG_MAP" and \
                    access.get("bootstrapClusterCreatorAdminPermissions") is False:
                invalid("bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode "
                        "is set to CONFIG_MAP")
            if op == "UpdateClusterConfig" and access.get("authenticationMode") and (region, args[0]) in eks.clusters:
                current = eks.clusters[(region, args[0])].access_config["authenticationMode"]
                new = access["authenticationMode"]
                if AUTH_MODE_NEXT.get(current) != new:
                    invalid(f"Unsupported authentication mode update from {current} to {new}")

    # --- state changes, after the operation -------------------------------------------
    def after(self, eks, op, region, args, body, query, resp):
        if resp.status != 200 or not args:
            return resp
        c = eks.clusters.get((region, args[0]))
        if c is None:
            return resp
        if op in UPDATES:
            self._updated(c, op, args, resp)
        elif op == "CreateAddon" and self.settings.on("addon_degraded"):
            a = c.addons.get(body.get("addonName"))
            if a is not None and a.status == "CREATING":
                a.after = lambda: self._settle(c, a)
        # this call counts against the windows of the cluster's objects (it saw them as they were)
        self._count(c, op)
        return resp

    def _updated(self, c, op, args, resp):
        update_id = json.loads(resp.body)["update"]["id"]
        holder = c if op.startswith("UpdateCluster") else \
            c.nodegroups.get(args[1]) if op.startswith("UpdateNodegroup") else c.addons.get(args[1])
        u = getattr(holder, "updates", {}).get(update_id)
        if u is None:
            return
        if op == "UpdateAddon" and self.settings.on("addon_degraded"):
            apply = u.apply
            u.apply = lambda: (apply(), self._settle(c, holder))
        if self.settings.on("update_lag") and self.settings["update_lag_calls"] > 0:
            seconds = max(u.until - time.time(), 0.0)
            u.until = float("inf")            # cannot finish before it has started
            holder.status = "ACTIVE"          # not started yet: the object is as it was
            self.pending.append([c, holder, u, self.settings["update_lag_calls"] + 1, seconds])

    def _settle(self, c, a):
        """An add-on's work is done: ACTIVE, or DEGRADED for a while (strict)."""
        a.issues = []
        if a.name == "coredns" and not self._has_nodes(c):
            a.status, a.issues = "DEGRADED", [dict(NO_REPLICAS)]
        elif a.name == "vpc-cni" and (self.settings["addon_degraded_calls"] or
                                      self.profile.transition("addon.DEGRADED")):
            a.status = "DEGRADED"
            self.degraded.append([c, a, self.settings["addon_degraded_calls"],
                                  time.time() + self.profile.transition("addon.DEGRADED")])
        else:
            a.status = "ACTIVE"

    @staticmethod
    def _has_nodes(c) -> bool:
        return any(ng.status in ("ACTIVE", "UPDATING") and int(ng.scaling.get("desiredSize", 0)) > 0
                   for ng in c.nodegroups.values())

    def _count(self, c, op):
        now = time.time()
        for p in list(self.pending):
            if p[0] is c:
                p[3] -= 1
                if p[3] <= 0:  # starts now: UPDATING for the profile's time
                    self.pending.remove(p)
                    _, holder, u, _, seconds = p
                    holder.status = "UPDATING"
                    u.until = now + seconds
        for d in list(self.degraded):
            if d[0] is c:
                d[2] = max(d[2] - 1, 0)
                if d[2] == 0 and now >= d[3]:
                    self.degraded.remove(d)
                    if d[1].status == "DEGRADED":
                        d[1].status = "ACTIVE"

    # --- time ----------------------------------------------------------------------
    def tick(self, clusters):
        """coredns leaves DEGRADED once the cluster has nodes; add-ons gone leave the lists."""
        for c in clusters:
            for a in c.addons.values():
                if a.name == "coredns" and a.status == "DEGRADED" and self._has_nodes(c):
                    a.status, a.issues = "ACTIVE", []
        live = {id(c) for c in clusters}
        self.pending = [p for p in self.pending if id(p[0]) in live]
        self.degraded = [d for d in self.degraded if id(d[0]) in live and d[1].status == "DEGRADED"]
