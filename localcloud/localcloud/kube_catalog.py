"""Which resources the Kubernetes API double serves, and the discovery documents describing them.

Built-in kinds are listed here; custom resources come from the CustomResourceDefinition objects
in the store, as on a real server: the cluster comes up with the ENIConfig and
SecurityGroupPolicy CRDs that EKS installs, and a CRD applied later is served too.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SERVER_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.5-eks-localcloud",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-05-01T00:00:00Z",
    "goVersion": "go1.23.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    type: str
    json_path: str
    priority: int = 0
    description: str = ""


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for core
    version: str
    plural: str
    kind: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    # Whether metadata.generation tracks spec changes (apps and custom resources do; core
    # kinds such as ConfigMap or Namespace don't carry one).
    has_generation: bool = True
    printer_columns: tuple[PrinterColumn, ...] = field(default=())

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    def discovery_entries(self) -> list[dict]:
        digest = hashlib.sha256(f"{self.group_version}/{self.plural}".encode()).digest()
        entry = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": ALL_VERBS,
            "storageVersionHash": base64.b64encode(digest[:8]).decode("ascii"),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        entries = [entry]
        for sub in self.subresources:
            entries.append(
                {
                    "name": f"{self.plural}/{sub}",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "kind": self.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        return entries


BUILTIN_TYPES: tuple[ResourceType, ...] = (
    ResourceType(
        "", "v1", "namespaces", "Namespace", "namespace", False, ("ns",),
        subresources=("status",), has_generation=False,
        printer_columns=(PrinterColumn("Status", "string", ".status.phase"),),
    ),
    ResourceType(
        "", "v1", "pods", "Pod", "pod", True, ("po",), ("all",), ("status",), has_generation=False,
        printer_columns=(PrinterColumn("Status", "string", ".status.phase"),),
    ),
    ResourceType(
        "", "v1", "services", "Service", "service", True, ("svc",), ("all",), ("status",),
        has_generation=False,
        printer_columns=(
            PrinterColumn("Type", "string", ".spec.type"),
            PrinterColumn("Cluster-IP", "string", ".spec.clusterIP"),
        ),
    ),
    ResourceType("", "v1", "configmaps", "ConfigMap", "configmap", True, ("cm",), has_generation=False),
    ResourceType(
        "", "v1", "serviceaccounts", "ServiceAccount", "serviceaccount", True, ("sa",),
        has_generation=False,
    ),
    ResourceType(
        "apps", "v1", "deployments", "Deployment", "deployment", True, ("deploy",), ("all",),
        ("status", "scale"),
        printer_columns=(
            PrinterColumn("Ready", "string", "{.status.readyReplicas}/{.spec.replicas}"),
            PrinterColumn("Up-to-date", "integer", ".status.updatedReplicas"),
            PrinterColumn("Available", "integer", ".status.availableReplicas"),
        ),
    ),
    ResourceType(
        "apps", "v1", "daemonsets", "DaemonSet", "daemonset", True, ("ds",), ("all",), ("status",),
        printer_columns=(
            PrinterColumn("Desired", "integer", ".status.desiredNumberScheduled"),
            PrinterColumn("Current", "integer", ".status.currentNumberScheduled"),
            PrinterColumn("Ready", "integer", ".status.numberReady"),
            PrinterColumn("Up-to-date", "integer", ".status.updatedNumberScheduled"),
            PrinterColumn("Available", "integer", ".status.numberAvailable"),
        ),
    ),
    # What the data plane (dataplane.py) writes and runs; their tables are in dataplane_table.py.
    ResourceType("", "v1", "nodes", "Node", "node", False, ("no",), (), ("status",), has_generation=False),
    ResourceType("", "v1", "events", "Event", "event", True, ("ev",), has_generation=False),
    ResourceType("apps", "v1", "replicasets", "ReplicaSet", "replicaset", True, ("rs",), ("all",), ("status", "scale")),
    ResourceType(
        "apps", "v1", "statefulsets", "StatefulSet", "statefulset", True, ("sts",), ("all",), ("status", "scale"),
        printer_columns=(PrinterColumn("Ready", "string", "{.status.readyReplicas}/{.spec.replicas}"),),
    ),
    ResourceType("batch", "v1", "jobs", "Job", "job", True, (), ("all",), ("status",)),
    # Read by managed node updates: a drain that a budget forbids fails the update
    # (dataplane.eviction_blocked).
    ResourceType("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", "poddisruptionbudget", True, ("pdb",),
                 (), ("status",)),
    ResourceType(
        "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
        "customresourcedefinition", False, ("crd", "crds"), ("api-extensions",), ("status",),
        printer_columns=(PrinterColumn("Created At", "date", ".metadata.creationTimestamp"),),
    ),
)


def types_from_crd(crd: dict) -> list[ResourceType]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    result = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        columns = tuple(
            PrinterColumn(
                c.get("name", ""),
                c.get("type", "string"),
                c.get("jsonPath", ""),
                int(c.get("priority", 0)),
                c.get("description", ""),
            )
            for c in version.get("additionalPrinterColumns") or []
        )
        result.append(
            ResourceType(
                group=spec.get("group", ""),
                version=version.get("name", ""),
                plural=names.get("plural", ""),
                kind=names.get("kind", ""),
                singular=names.get("singular") or names.get("kind", "").lower(),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=("status",) if (version.get("subresources") or {}).get("status") is not None else (),
                printer_columns=columns,
            )
        )
    return result


class Catalog:
    """The set of resource types served at one moment (built-ins + served CRD versions)."""

    def __init__(self, types: list[ResourceType]):
        self.types = types

    def find(self, group: str, version: str, plural: str) -> ResourceType | None:
        for t in self.types:
            if t.group == group and t.version == version and t.plural == plural:
                return t
        return None

    def find_kind(self, api_version: str, kind: str) -> ResourceType | None:
        for t in self.types:
            if t.api_version == api_version and t.kind == kind:
                return t
        return None

    def groups(self) -> dict[str, list[str]]:
        """group -> versions in preference order (first one preferred)."""
        result: dict[str, list[str]] = {}
        for t in self.types:
            versions = result.setdefault(t.group, [])
            if t.version not in versions:
                versions.append(t.version)
        return result

    def api_versions(self, server_address: str) -> dict:
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
            ],
        }

    def _group_doc(self, group: str, versions: list[str]) -> dict:
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}

    def api_group_list(self) -> dict:
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [self._group_doc(g, vs) for g, vs in self.groups().items() if g],
        }

    def api_group(self, group: str) -> dict | None:
        versions = self.groups().get(group)
        if not group or not versions:
            return None
        return {"kind": "APIGroup", "apiVersion": "v1", **self._group_doc(group, versions)}

    def resource_list(self, group: str, version: str) -> dict | None:
        types = [t for t in self.types if t.group == group and t.version == version]
        if not types:
            return None
        resources = [e for t in types for e in t.discovery_entries()]
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": types[0].group_version,
            "resources": resources,
        }
