"""The object store and the REST verbs of the Kubernetes API double, independent of HTTP.

One lock guards everything; every write bumps a cluster-wide resourceVersion and appends an
event that watches replay. Objects are deleted at once (no finalizers, no graceful deletion,
no garbage collector beyond "a namespace takes its objects with it" and "a CRD takes its custom
resources with it").
"""

from __future__ import annotations

import copy
import datetime
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

from . import kube_merge
from .kube_catalog import BUILTIN_TYPES, Catalog, ResourceType, types_from_crd

CRD_GROUP, CRD_PLURAL = "apiextensions.k8s.io", "customresourcedefinitions"
UNDELETABLE_NAMESPACES = {"default", "kube-system", "kube-public"}
EVENT_HISTORY = 10000
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict:
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            status["details"] = self.details
        return status


def _qualified(rt: ResourceType) -> str:
    return f"{rt.plural}.{rt.group}" if rt.group else rt.plural


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{_qualified(rt)} "{name}" not found',
        {"name": name, "group": rt.group, "kind": rt.plural},
    )


def namespace_not_found(namespace: str) -> ApiError:
    return ApiError(404, "NotFound", f'namespaces "{namespace}" not found', {"name": namespace, "kind": "namespaces"})


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


# ---------------------------------------------------------------- selectors


def _split_terms(selector: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        terms.append(current.strip())
    return terms


def label_matcher(selector: str | None):
    """Equality- and set-based label selectors (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`)."""
    checks = []
    for term in _split_terms(selector or ""):
        m = re.match(r"^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$", term)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            if op == "in":
                checks.append(lambda l, k=key, vs=values: l.get(k) in vs)
            else:
                checks.append(lambda l, k=key, vs=values: l.get(k) not in vs)
        elif "!=" in term:
            key, value = (s.strip() for s in term.split("!=", 1))
            checks.append(lambda l, k=key, v=value: l.get(k) != v)
        elif "=" in term:
            key, value = (s.strip() for s in re.split(r"==?", term, maxsplit=1))
            checks.append(lambda l, k=key, v=value: l.get(k) == v)
        elif term.startswith("!"):
            checks.append(lambda l, k=term[1:].strip(): k not in l)
        else:
            checks.append(lambda l, k=term: k in l)
    return lambda labels: all(check(labels or {}) for check in checks)


def field_matcher(selector: str | None):
    """Field selectors on dotted paths (`metadata.name=x`, `metadata.namespace!=y`)."""
    checks = []
    for term in _split_terms(selector or ""):
        negate = "!=" in term
        path, value = (s.strip() for s in re.split(r"!=|==?", term, maxsplit=1))

        def check(obj, path=path, value=value, negate=negate):
            node: Any = obj
            for part in path.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            actual = "" if node is None else str(node)
            return (actual != value) if negate else (actual == value)

        checks.append(check)
    return lambda obj: all(check(obj) for check in checks)


# ---------------------------------------------------------------- store


@dataclass
class Event:
    rv: int
    group: str
    plural: str
    type: str  # ADDED / MODIFIED / DELETED
    obj: dict


class KubeApi:
    def __init__(self, node_count: int = 2, namespace_finalize_delay_s: float = 0.5):
        self.node_count = node_count
        self.namespace_finalize_delay_s = namespace_finalize_delay_s
        self.cond = threading.Condition()
        self.rv = 0
        self.objects: dict[tuple[str, str], dict[tuple[str, str], dict]] = {}
        self.events: list[Event] = []
        self.closed = False

    # -- catalog

    def catalog(self) -> Catalog:
        with self.cond:
            crds = list(self.objects.get((CRD_GROUP, CRD_PLURAL), {}).values())
        types = list(BUILTIN_TYPES)
        for crd in crds:
            types += types_from_crd(crd)
        return Catalog(types)

    def resource_type(self, api_version: str, kind: str) -> ResourceType:
        rt = self.catalog().find_kind(api_version, kind)
        if rt is None:
            raise bad_request(f'no matches for kind "{kind}" in version "{api_version}"')
        return rt

    # -- low level (lock held by caller)

    def _bucket(self, rt: ResourceType) -> dict[tuple[str, str], dict]:
        return self.objects.setdefault((rt.group, rt.plural), {})

    def _require_namespace(self, rt: ResourceType, namespace: str | None) -> str:
        if not rt.namespaced:
            return ""
        if not namespace:
            raise bad_request("the server could not find the requested resource: a namespace is required")
        if ("", namespace) not in self.objects.get(("", "namespaces"), {}):
            raise namespace_not_found(namespace)
        return namespace

    def _refuse_if_terminating(self, rt: ResourceType, namespace: str, name: str) -> None:
        ns = self.objects.get(("", "namespaces"), {}).get(("", namespace)) if rt.namespaced else None
        if ns and ns["metadata"].get("deletionTimestamp"):
            raise ApiError(
                403, "Forbidden",
                f'{_qualified(rt)} "{name}" is forbidden: unable to create new content in namespace '
                f"{namespace} because it is being terminated",
                {"name": name, "group": rt.group, "kind": rt.plural},
            )

    def _commit(self, rt: ResourceType, obj: dict, event_type: str) -> dict:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        self._bucket(rt)[key] = obj
        self._record(rt, event_type, obj)
        return copy.deepcopy(obj)

    def _remove(self, rt: ResourceType, namespace: str, name: str) -> dict:
        obj = self._bucket(rt).pop((namespace, name))
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self._record(rt, "DELETED", obj)
        return copy.deepcopy(obj)

    def _record(self, rt: ResourceType, event_type: str, obj: dict) -> None:
        self.events.append(Event(self.rv, rt.group, rt.plural, event_type, copy.deepcopy(obj)))
        if len(self.events) > EVENT_HISTORY:
            del self.events[: len(self.events) - EVENT_HISTORY]
        self.cond.notify_all()

    def _finalize(self, rt: ResourceType, new: dict, old: dict | None, namespace: str, now: str, status_write: bool = False) -> dict:
        """Server-maintained fields, kind-specific defaulting and the simulated controllers."""
        new["apiVersion"], new["kind"] = rt.api_version, rt.kind
        meta = new.setdefault("metadata", {})
        if rt.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        for generated in ("resourceVersion", "selfLink", "deletionTimestamp"):
            meta.pop(generated, None)
        if old is None:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now
            if rt.has_generation:
                meta["generation"] = 1
        else:
            old_meta = old["metadata"]
            if old_meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = old_meta["deletionTimestamp"]
            meta["uid"] = old_meta["uid"]
            meta["creationTimestamp"] = old_meta["creationTimestamp"]
            if rt.has_generation:
                meta["generation"] = old_meta.get("generation", 1) + (1 if _spec(new) != _spec(old) else 0)
            if "status" in rt.subresources and not status_write:
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
        if old is None and "status" in rt.subresources and not status_write:
            new.pop("status", None)
        if not meta.get("labels"):
            meta.pop("labels", None)
        if not meta.get("annotations"):
            meta.pop("annotations", None)
        if not status_write:
            simulate_controller(rt, new, now, self.node_count)
        return new

    def _validate_name(self, rt: ResourceType, meta: dict) -> str:
        name = meta.get("name")
        if not name and meta.get("generateName"):
            name = meta["generateName"] + uuid.uuid4().hex[:5]
            meta["name"] = name
        if not name:
            raise ApiError(422, "Invalid", f"{rt.kind} \"\" is invalid: metadata.name: Required value: name or generateName is required")
        pattern = DNS_LABEL if rt.plural == "namespaces" else DNS_SUBDOMAIN
        if not pattern.match(name):
            raise ApiError(
                422, "Invalid",
                f'{rt.kind} "{name}" is invalid: metadata.name: Invalid value: "{name}": a lowercase RFC 1123 '
                "name must consist of lower case alphanumeric characters, '-' or '.', and must start and end "
                "with an alphanumeric character",
                {"name": name, "group": rt.group, "kind": rt.kind},
            )
        return name

    def _check_body(self, rt: ResourceType, body: Any, namespace: str, name: str | None) -> dict:
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON or YAML object")
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if (api_version and api_version != rt.api_version) or (kind and kind != rt.kind):
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({rt.api_version})" if api_version != rt.api_version else
                f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
            )
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if rt.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        if name is not None and meta.get("name") and meta["name"] != name:
            raise bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
        if name is not None:
            meta["name"] = name
        return body

    # -- verbs

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> dict:
        with self.cond:
            namespace = self._require_namespace(rt, namespace) if rt.namespaced else ""
            obj = self._bucket(rt).get((namespace, name))
            if obj is None:
                raise not_found(rt, name)
            return copy.deepcopy(obj)

    def list(self, rt: ResourceType, namespace: str | None, label_selector: str | None = None, field_selector: str | None = None) -> dict:
        labels, fields = label_matcher(label_selector), field_matcher(field_selector)
        with self.cond:
            items = [
                copy.deepcopy(obj)
                for (ns, _), obj in sorted(self._bucket(rt).items())
                if (not namespace or ns == namespace)
                and labels(obj["metadata"].get("labels"))
                and fields(obj)
            ]
            return {
                "kind": rt.list_kind,
                "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": str(self.rv)},
                "items": items,
            }

    def create(self, rt: ResourceType, namespace: str | None, body: Any, manager: str, dry_run: bool = False) -> dict:
        now = now_rfc3339()
        with self.cond:
            namespace = self._require_namespace(rt, namespace) if rt.namespaced else ""
            body = self._check_body(rt, copy.deepcopy(body), namespace, None)
            name = self._validate_name(rt, body["metadata"])
            if (namespace, name) in self._bucket(rt):
                raise ApiError(
                    409, "AlreadyExists", f'{_qualified(rt)} "{name}" already exists',
                    {"name": name, "group": rt.group, "kind": rt.plural},
                )
            body["metadata"].pop("managedFields", None)
            self._refuse_if_terminating(rt, namespace, name)
            obj = self._finalize(rt, body, None, namespace, now)
            kube_merge.record_update(None, obj, manager, now, rt.api_version)
            if dry_run:
                return obj
            created = self._commit(rt, obj, "ADDED")
            self._after_create(rt, created, manager)
            return created

    def replace(self, rt: ResourceType, namespace: str | None, name: str, body: Any, manager: str, dry_run: bool = False, subresource: str = "") -> dict:
        now = now_rfc3339()
        with self.cond:
            namespace = self._require_namespace(rt, namespace) if rt.namespaced else ""
            body = self._check_body(rt, copy.deepcopy(body), namespace, name)
            old = self._bucket(rt).get((namespace, name))
            if old is None:
                raise not_found(rt, name)
            wanted_rv = body["metadata"].get("resourceVersion")
            if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:
                raise ApiError(
                    409, "Conflict",
                    f'Operation cannot be fulfilled on {_qualified(rt)} "{name}": the object has been modified; '
                    "please apply your changes to the latest version and try again",
                    {"name": name, "group": rt.group, "kind": rt.plural},
                )
            return self._update(rt, namespace, old, body, manager, now, dry_run, subresource, "Update")

    def _update(self, rt, namespace, old, new, manager, now, dry_run, subresource, operation) -> dict:
        if subresource == "status":
            merged = copy.deepcopy(old)
            merged["status"] = copy.deepcopy(new.get("status"))
            new = merged
        new = self._finalize(rt, new, old, namespace, now, status_write=subresource == "status")
        if operation == "Update":
            kube_merge.record_update(old, new, manager, now, rt.api_version, subresource)
        if _comparable(new) == _comparable(old):
            return copy.deepcopy(old)  # a no-op write keeps the resourceVersion, as on a real server
        if dry_run:
            return new
        return self._commit(rt, new, "MODIFIED")

    def patch(
        self, rt: ResourceType, namespace: str | None, name: str, content_type: str, patch: Any,
        manager: str | None, force: bool = False, dry_run: bool = False, subresource: str = "",
    ) -> tuple[dict, bool]:
        """Returns (object, created)."""
        now = now_rfc3339()
        with self.cond:
            namespace = self._require_namespace(rt, namespace) if rt.namespaced else ""
            old = self._bucket(rt).get((namespace, name))
            if content_type == "application/apply-patch+yaml":
                if not manager:
                    raise bad_request("PATCH /apply requires fieldManager to be set (fieldManager is required for apply requests)")
                body = self._check_body(rt, copy.deepcopy(patch), namespace, name)
                body.setdefault("apiVersion", rt.api_version)
                body.setdefault("kind", rt.kind)
                body["metadata"].pop("managedFields", None)
                if old is None:
                    self._validate_name(rt, body["metadata"])
                try:
                    new = kube_merge.server_side_apply(old, body, manager, force, now)
                except kube_merge.ApplyConflict as e:
                    raise ApiError(
                        409, "Conflict", str(e),
                        {"causes": [
                            {"reason": "FieldManagerConflict", "message": f'conflict with "{m}" using {e.api_version}', "field": f}
                            for m, f in e.conflicts
                        ]},
                    ) from e
                if old is None:
                    self._refuse_if_terminating(rt, namespace, name)
                    obj = self._finalize(rt, new, None, namespace, now)
                    if dry_run:
                        return obj, True
                    created = self._commit(rt, obj, "ADDED")
                    self._after_create(rt, created, manager)
                    return created, True
                return self._update(rt, namespace, old, new, manager, now, dry_run, subresource, "Apply"), False
            if old is None:
                raise not_found(rt, name)
            try:
                if content_type == "application/merge-patch+json":
                    new = kube_merge.json_merge_patch(old, patch)
                elif content_type == "application/strategic-merge-patch+json":
                    if rt.group not in ("", "apps", "apiextensions.k8s.io"):
                        raise ApiError(
                            415, "UnsupportedMediaType",
                            "strategic merge patch is not supported for custom resources; use merge or apply",
                        )
                    new = kube_merge.strategic_merge_patch(old, patch)
                elif content_type == "application/json-patch+json":
                    if not isinstance(patch, list):
                        raise bad_request("a JSON patch must be a list of operations")
                    new = kube_merge.json_patch(old, patch)
                else:
                    raise ApiError(415, "UnsupportedMediaType", 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json')
            except kube_merge.PatchError as e:
                raise ApiError(422, "Invalid", str(e)) from e
            if not isinstance(new, dict):
                raise bad_request("the patch must leave an object")
            new.setdefault("metadata", {})["name"] = name
            return self._update(rt, namespace, old, new, manager or "unknown", now, dry_run, subresource, "Update"), False

    def delete(self, rt: ResourceType, namespace: str | None, name: str, dry_run: bool = False, preconditions: dict | None = None) -> dict:
        with self.cond:
            namespace = self._require_namespace(rt, namespace) if rt.namespaced else ""
            obj = self._bucket(rt).get((namespace, name))
            if obj is None:
                raise not_found(rt, name)
            if rt.plural == "namespaces" and not rt.group and name in UNDELETABLE_NAMESPACES:
                raise ApiError(403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                               {"name": name, "kind": "namespaces"})
            pre = preconditions or {}
            if (pre.get("uid") and pre["uid"] != obj["metadata"]["uid"]) or (
                pre.get("resourceVersion") and pre["resourceVersion"] != obj["metadata"]["resourceVersion"]
            ):
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {_qualified(rt)} "{name}": precondition failed')
            if dry_run:
                return copy.deepcopy(obj)
            if rt.plural == "namespaces" and not rt.group:
                return self._terminate_namespace(rt, obj)
            if rt.group == CRD_GROUP and rt.plural == CRD_PLURAL:
                for t in types_from_crd(obj):
                    for ns, n in list(self._bucket(t)):
                        self._remove(t, ns, n)
            return self._remove(rt, namespace, name)

    def _terminate_namespace(self, rt: ResourceType, obj: dict) -> dict:
        """Like the namespace controller: Terminating first, contents and namespace gone shortly after.

        In between, objects in it can still be read and deleted (so `kubectl delete -f` of a
        file that lists the namespace first succeeds, as on a real cluster) but not created.
        """
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return copy.deepcopy(obj)
        terminating = copy.deepcopy(obj)
        terminating["metadata"]["deletionTimestamp"] = now_rfc3339()
        terminating["status"] = {"phase": "Terminating"}
        result = self._commit(rt, terminating, "MODIFIED")
        timer = threading.Timer(self.namespace_finalize_delay_s, self._finalize_namespace, (meta["name"], meta["uid"]))
        timer.daemon = True
        timer.start()
        return result

    def _finalize_namespace(self, name: str, uid: str) -> None:
        with self.cond:
            ns_type = next(t for t in BUILTIN_TYPES if t.plural == "namespaces")
            obj = self._bucket(ns_type).get(("", name))
            if obj is None or obj["metadata"]["uid"] != uid:
                return
            for rt in self.catalog().types:
                if rt.namespaced:
                    for ns, n in list(self._bucket(rt)):
                        if ns == name:
                            self._remove(rt, ns, n)
            self._remove(ns_type, "", name)

    def delete_collection(self, rt: ResourceType, namespace: str | None, label_selector: str | None, field_selector: str | None, dry_run: bool = False) -> dict:
        with self.cond:
            listed = self.list(rt, namespace, label_selector, field_selector)
            for item in listed["items"]:
                if not (rt.plural == "namespaces" and item["metadata"]["name"] in UNDELETABLE_NAMESPACES):
                    self.delete(rt, item["metadata"].get("namespace"), item["metadata"]["name"], dry_run)
            return listed

    def _after_create(self, rt: ResourceType, obj: dict, manager: str) -> None:
        """What controllers do right after a create: every namespace gets a `default` ServiceAccount."""
        if rt.plural == "namespaces" and not rt.group:
            sa_type = next(t for t in BUILTIN_TYPES if t.plural == "serviceaccounts")
            ns = obj["metadata"]["name"]
            if (ns, "default") not in self._bucket(sa_type):
                sa = {"metadata": {"name": "default", "namespace": ns}}
                sa = self._finalize(sa_type, sa, None, ns, obj["metadata"]["creationTimestamp"])
                self._commit(sa_type, sa, "ADDED")

    # -- watch

    def watch(
        self, rt: ResourceType, namespace: str | None, label_selector: str | None, field_selector: str | None,
        resource_version: str | None, timeout_s: float, send_initial_events: bool = False,
        stopped=lambda: False,
    ) -> Iterator[dict]:
        labels, fields = label_matcher(label_selector), field_matcher(field_selector)

        def matches(obj):
            meta = obj["metadata"]
            return (not namespace or meta.get("namespace") == namespace) and labels(meta.get("labels")) and fields(obj)

        deadline = time.monotonic() + timeout_s
        with self.cond:
            if resource_version in (None, "", "0") or send_initial_events:
                initial = self.list(rt, namespace, label_selector, field_selector)
                cursor = int(initial["metadata"]["resourceVersion"])
                pending = [{"type": "ADDED", "object": o} for o in initial["items"]]
                if send_initial_events:
                    pending.append({"type": "BOOKMARK", "object": {
                        "kind": rt.kind, "apiVersion": rt.api_version,
                        "metadata": {"resourceVersion": str(cursor), "annotations": {"k8s.io/initial-events-end": "true"}},
                    }})
            else:
                try:
                    cursor = int(resource_version)
                except ValueError:
                    raise bad_request(f"invalid resourceVersion {resource_version!r}")
                oldest = self.events[0].rv if self.events else self.rv + 1
                if cursor < oldest - 1 and cursor < self.rv:
                    gone = ApiError(410, "Expired", f"too old resource version: {cursor} ({oldest - 1})")
                    pending = [{"type": "ERROR", "object": gone.status()}]
                    cursor = -1
                else:
                    pending = []
        yield from pending
        if cursor < 0:
            return
        while not stopped() and not self.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with self.cond:
                if not self.events or self.events[-1].rv <= cursor:
                    self.cond.wait(timeout=min(1.0, remaining))
                batch = [e for e in self.events if e.rv > cursor]
                if batch:
                    cursor = batch[-1].rv
            for e in batch:
                if e.group == rt.group and e.plural == rt.plural and matches(e.obj):
                    yield {"type": e.type, "object": copy.deepcopy(e.obj)}

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


def _comparable(obj: dict) -> dict:
    result = copy.deepcopy(obj)
    meta = result.get("metadata", {})
    meta.pop("resourceVersion", None)
    for entry in meta.get("managedFields") or []:
        entry.pop("time", None)
    return result


def _conditions(obj: dict, wanted: list[dict], now: str) -> list[dict]:
    """Conditions with their timestamps kept while type and status stay the same."""
    previous = {c.get("type"): c for c in (obj.get("status") or {}).get("conditions") or []}
    result = []
    for condition in wanted:
        before = previous.get(condition["type"])
        if before and before.get("status") == condition["status"]:
            stamps = {k: before[k] for k in ("lastUpdateTime", "lastTransitionTime") if k in before}
        else:
            stamps = {"lastUpdateTime": now, "lastTransitionTime": now}
        result.append({**condition, **{k: v for k, v in stamps.items() if k in condition}})
    return result


def _spec(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def simulate_controller(rt: ResourceType, obj: dict, now: str, node_count: int | None) -> None:
    """The state controllers would converge to at once: everything is ready immediately
    (node_count None: a data plane is attached and owns Deployment/DaemonSet status)."""
    meta = obj["metadata"]
    if rt.group == "" and rt.plural == "namespaces":
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Terminating" if meta.get("deletionTimestamp") else "Active"}
    elif rt.group == "apps" and rt.plural == "deployments":
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        replicas = spec["replicas"]
        if node_count is None:  # a data plane (dataplane.py) writes workload status from real pods
            return
        obj["status"] = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": _conditions(obj, [
                {"type": "Available", "status": "True", "lastUpdateTime": now, "lastTransitionTime": now,
                 "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "lastUpdateTime": now, "lastTransitionTime": now,
                 "reason": "NewReplicaSetAvailable",
                 "message": f'ReplicaSet "{meta["name"]}-{meta["uid"].replace("-", "")[:10]}" has successfully progressed.'},
            ], now),
        }
    elif rt.group == "apps" and rt.plural == "daemonsets" and node_count is not None:
        obj["status"] = {
            "observedGeneration": meta.get("generation", 1),
            "currentNumberScheduled": node_count,
            "desiredNumberScheduled": node_count,
            "numberAvailable": node_count,
            "numberMisscheduled": 0,
            "numberReady": node_count,
            "updatedNumberScheduled": node_count,
        }
    elif rt.group == CRD_GROUP and rt.plural == CRD_PLURAL:
        names = (obj.get("spec") or {}).get("names") or {}
        obj["status"] = {
            "acceptedNames": names,
            "storedVersions": [v.get("name") for v in (obj.get("spec") or {}).get("versions") or [] if v.get("storage")],
            "conditions": _conditions(obj, [
                {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now, "reason": "NoConflicts",
                 "message": "no conflicts found"},
                {"type": "Established", "status": "True", "lastTransitionTime": now, "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted"},
            ], now),
        }
