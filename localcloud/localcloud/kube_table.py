"""Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for.

kubectl prints whatever columns the server sends (it adds NAMESPACE itself for -A), so without
tables `kubectl get deploy` would show only names. Columns come from the catalog's printer
columns (built-in kinds) or the CRD's additionalPrinterColumns, between NAME and AGE.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from .kube_catalog import ResourceType


def human_age(timestamp: str | None, now: datetime.datetime | None = None) -> str:
    if not timestamp:
        return "<unknown>"
    now = now or datetime.datetime.now(datetime.timezone.utc)
    then = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    seconds = max(0, int((now - then).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    return f"{days}d"


def _lookup(obj: Any, path: str) -> Any:
    node = obj
    for part in [p for p in path.strip().lstrip(".").split(".") if p]:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _cell(obj: dict, json_path: str, column_type: str) -> Any:
    if "{" in json_path:  # a template such as "{.status.readyReplicas}/{.spec.replicas}"
        return re.sub(r"\{([^}]*)\}", lambda m: _text(_lookup(obj, m.group(1)), "0"), json_path)
    value = _lookup(obj, json_path)
    if value is None:
        return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    if column_type == "integer" and not isinstance(value, int):
        return None
    return value


def _text(value: Any, default: str) -> str:
    return default if value is None else str(value)


def table(rt: ResourceType, objects: list[dict], include_object: str, resource_version: str) -> dict:
    from .dataplane_table import TABLES  # pods, nodes, events …: the apiserver's own printers

    custom = TABLES.get((rt.group, rt.plural))
    if custom is not None:
        return _document(custom[0], [(custom[1](o), o) for o in objects], include_object, resource_version)
    columns = [{"name": "Name", "type": "string", "format": "name", "description": "Name of the resource", "priority": 0}]
    for c in rt.printer_columns:
        columns.append({"name": c.name, "type": c.type, "format": "", "description": c.description, "priority": c.priority})
    shows_creation = any(c.json_path == ".metadata.creationTimestamp" for c in rt.printer_columns)
    if not shows_creation:
        columns.append({"name": "Age", "type": "string", "format": "", "description": "Time since creation", "priority": 0})
    cells = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        row: list[Any] = [meta.get("name", "")]
        row += [_cell(obj, c.json_path, c.type) for c in rt.printer_columns]
        if not shows_creation:
            row.append(human_age(meta.get("creationTimestamp")))
        cells.append((row, obj))
    return _document(columns, cells, include_object, resource_version)


def _document(columns: list[dict], cells: list[tuple[list, dict]], include_object: str, resource_version: str) -> dict:
    rows = []
    for values, obj in cells:
        row: dict = {"cells": values}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj.get("metadata") or {}}
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns,
        "rows": rows,
    }
