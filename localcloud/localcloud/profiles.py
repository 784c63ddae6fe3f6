"""Latency profiles: how long resource transitions and API calls take.

One table, read by the server and by benches (GET /_localcloud/profile shows the
effective, scaled values). Durations are AWS seconds; `--scale F` divides them.
"""
import random

PROFILES = {
    "none": {
        "transitions": {},
        "operations": {},
        "default_operation": [0.0, 0.0],
    },
    "realistic": {
        # resource state transitions, seconds of real AWS time
        "transitions": {
            "cluster.CREATING": 540,
            "cluster.DELETING": 300,
            "cluster.UPDATING.version": 480,
            "cluster.UPDATING.config": 180,
            "nodegroup.CREATING": 180,
            "nodegroup.DELETING": 180,
            "nodegroup.UPDATING.config": 60,
            "nodegroup.UPDATING.version": 600,
            "natgateway.pending": 90,
            "natgateway.deleting": 60,
            "addon.CREATING": 60,
            "addon.DELETING": 30,
            "addon.UPDATING": 30,
            "addon.DEGRADED": 30,   # vpc-cni while aws-node rolls out (switch addon_degraded)
            # VPC resource controller: a deleted pod's branch ENI goes after this cool-down
            "branch_eni.cooldown": 60,
        },
        # added latency per API call: [min, max] seconds, uniform
        "operations": {
            "eks.CreateCluster": [0.8, 1.0],
            "eks.DeleteCluster": [0.5, 0.8],
            "eks.CreateNodegroup": [0.5, 0.8],
            "eks.CreateAddon": [0.3, 0.6],
            "ec2.CreateVpc": [0.3, 0.6],
            "ec2.CreateNatGateway": [0.3, 0.6],
            "ec2.RunInstances": [0.5, 1.0],
            "iam.CreateRole": [0.2, 0.5],
            "iam.AttachRolePolicy": [0.2, 0.4],
        },
        "default_operation": [0.1, 0.3],
    },
}


class Profile:
    def __init__(self, name: str = "none", scale: float = 1.0):
        if name not in PROFILES:
            raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
        if scale <= 0:
            raise ValueError("scale must be > 0")
        self.name = name
        self.scale = scale
        self.table = PROFILES[name]

    def transition(self, key: str) -> float:
        """Scaled seconds a resource stays in a transitional state (0 when not listed)."""
        return self.table["transitions"].get(key, 0.0) / self.scale

    def latency(self, service: str, operation: str) -> float:
        lo, hi = self.table["operations"].get(f"{service}.{operation}", self.table["default_operation"])
        return random.uniform(lo, hi) / self.scale

    def as_json(self) -> dict:
        keys = sorted({k for p in PROFILES.values() for k in p["transitions"]})
        return {
            "profile": self.name,
            "scale": self.scale,
            "transitions": {k: self.transition(k) for k in keys},
            "operations": {k: [lo / self.scale, hi / self.scale] for k, (lo, hi) in self.table["operations"].items()},
            "default_operation": [x / self.scale for x in self.table["default_operation"]],
        }
