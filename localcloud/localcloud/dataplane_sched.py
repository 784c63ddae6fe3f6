"""The scheduler's part of the data plane: label selectors, node fit, taints, resources.

Pure functions over Kubernetes objects (dicts), used by dataplane.py. What kube-scheduler checks
here (the simple cases of its default filter plugins):
  * NodeUnschedulable: `spec.unschedulable` nodes take no new pods;
  * TaintToleration: NoSchedule / NoExecute taints need a matching toleration;
  * NodeAffinity: `spec.nodeSelector` and the required node-affinity terms
    (`matchExpressions` In/NotIn/Exists/DoesNotExist/Gt/Lt, `matchFields` on metadata.name);
  * NodeResourcesFit: pod count, cpu, memory and extended resources (vpc.amazonaws.com/pod-eni)
    against the node's allocatable, summing the requests of the pods already bound to it.
Among the nodes that fit, the one with the fewest pods wins (ties: name order), so spreading
is deterministic. Not modelled: preemption, priorities, pod (anti-)affinity, topology spread,
preferred terms, volumes, ports.
"""

from __future__ import annotations

import re

TERMINAL = ("Succeeded", "Failed")


# ---------------------------------------------------------------- selectors


def _expression(labels: dict, expr: dict) -> bool:
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        try:
            have, want = int(labels[key]), int(values[0])
        except (KeyError, ValueError, IndexError):
            return False
        return have > want if op == "Gt" else have < want
    return False


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions); {} matches everything."""
    labels = labels or {}
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    return all(_expression(labels, e) for e in selector.get("matchExpressions") or [])


# ---------------------------------------------------------------- quantities


_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
           "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}


def quantity(value) -> float:
    """A resource.Quantity ("250m", "1.5", "128Mi", "1e3") as a number of base units."""
    if isinstance(value, (int, float)):
        return float(value)
    m = re.match(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$", str(value).strip())
    if not m or m.group(2) not in _SUFFIX:
        return 0.0
    return float(m.group(1)) * _SUFFIX[m.group(2)]


def pod_requests(pod: dict) -> dict[str, float]:
    """Effective requests: max(sum of containers, largest init container), limits standing in
    for missing requests (as the API server defaults them)."""
    def of(container):
        res = container.get("resources") or {}
        out = {k: quantity(v) for k, v in (res.get("limits") or {}).items()}
        out.update({k: quantity(v) for k, v in (res.get("requests") or {}).items()})
        return out
    spec = pod.get("spec") or {}
    total: dict[str, float] = {}
    for c in spec.get("containers") or []:
        for k, v in of(c).items():
            total[k] = total.get(k, 0.0) + v
    for c in spec.get("initContainers") or []:
        for k, v in of(c).items():
            total[k] = max(total.get(k, 0.0), v)
    return total


def qos_class(pod: dict) -> str:
    containers = (pod.get("spec") or {}).get("containers") or []
    requests = [((c.get("resources") or {}).get("requests") or {}) for c in containers]
    limits = [((c.get("resources") or {}).get("limits") or {}) for c in containers]
    if not any(k in ("cpu", "memory") for r in requests + limits for k in r):
        return "BestEffort"
    guaranteed = all(
        all(k in lim and quantity(req.get(k, lim[k])) == quantity(lim[k]) for k in ("cpu", "memory"))
        for req, lim in zip(requests, limits)
    )
    return "Guaranteed" if guaranteed else "Burstable"


# ---------------------------------------------------------------- taints


def tolerates(tolerations: list[dict], taint: dict) -> bool:
    for t in tolerations or []:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t["key"] == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def untolerated(pod_spec: dict, node: dict) -> dict | None:
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(pod_spec.get("tolerations"), taint):
            return taint
    return None


# ---------------------------------------------------------------- node fit


def node_selected(pod_spec: dict, node: dict) -> bool:
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (pod_spec.get("nodeSelector") or {}).items()):
        return False
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    fields = {"metadata.name": node["metadata"]["name"]}
    for term in terms:  # terms are ORed, expressions inside a term ANDed
        if all(_expression(labels, e) for e in term.get("matchExpressions") or []) and \
                all(_expression(fields, e) for e in term.get("matchFields") or []):
            return True
    return False


def fits(pod: dict, node: dict, bound: list[dict]) -> str | None:
    """None when `pod` fits `node` (which already runs `bound`), else the scheduler's reason."""
    spec = pod.get("spec") or {}
    # in the order of the default profile's filter plugins; the first failing one is reported
    if (node.get("spec") or {}).get("unschedulable"):
        return "node(s) were unschedulable"
    taint = untolerated(spec, node)
    if taint is not None:
        return f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value') or ''}}}"
    if not node_selected(spec, node):
        return "node(s) didn't match Pod's node affinity/selector"
    allocatable = {k: quantity(v) for k, v in ((node.get("status") or {}).get("allocatable") or {}).items()}
    if len(bound) + 1 > allocatable.get("pods", 110):
        return "Too many pods"
    wanted = pod_requests(pod)
    used: dict[str, float] = {}
    for other in bound:
        for k, v in pod_requests(other).items():
            used[k] = used.get(k, 0.0) + v
    for name, amount in sorted(wanted.items()):
        if amount and used.get(name, 0.0) + amount > allocatable.get(name, 0.0) + 1e-9:
            return f"Insufficient {name}"
    return None


def choose(pod: dict, nodes: list[dict], bound: dict[str, list[dict]]) -> tuple[dict | None, str]:
    """(node, "") or (None, the FailedScheduling message kube-scheduler writes)."""
    reasons: dict[str, int] = {}
    fitting = []
    for node in nodes:
        name = node["metadata"]["name"]
        reason = fits(pod, node, bound.get(name, []))
        if reason is None:
            fitting.append((len(bound.get(name, [])), name, node))
        else:
            reasons[reason] = reasons.get(reason, 0) + 1
    if fitting:
        return min(fitting, key=lambda f: (f[0], f[1]))[2], ""
    detail = ", ".join(sorted(f"{n} {r}" for r, n in reasons.items()))
    message = f"0/{len(nodes)} nodes are available" + (f": {detail}." if detail else ".")
    if nodes:
        message += " preemption: 0/{0} nodes are available: {0} Preemption is not helpful for scheduling.".format(len(nodes))
    return None, message
