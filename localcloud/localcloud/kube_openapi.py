"""A minimal OpenAPI v3 surface, only so that kubectl trusts the server with field validation.

`kubectl apply` validates with `--validate=strict` by default: it asks /openapi/v3 whether the
PATCH operation of the object's kind takes the `fieldValidation` query parameter; if yes it
leaves validation to the server, if the documents are missing it downloads /openapi/v2 for
client-side validation and fails ("failed to download openapi"). So we publish, per group
version, one PATCH operation per kind declaring that parameter and nothing else: no schemas
(`kubectl explain` and client-side apply's strategic merge computation find nothing), and the
server accepts `fieldValidation` but does not validate fields (no schemas either).

Checked: kubectl 1.29 to 1.33 apply with default validation. kubectl 1.27/1.28 still fetch
/openapi/v2 (protobuf), which is not served: they need `--validate=false`.
"""

from __future__ import annotations

import hashlib
import json

from .kube_catalog import Catalog


def _gv_key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def group_version_doc(catalog: Catalog, group: str, version: str) -> dict | None:
    types = [t for t in catalog.types if t.group == group and t.version == version]
    if not types:
        return None
    paths = {}
    prefix = "/" + _gv_key(group, version)
    for t in types:
        item = f"{prefix}/namespaces/{{namespace}}/{t.plural}/{{name}}" if t.namespaced else f"{prefix}/{t.plural}/{{name}}"
        paths[item] = {
            "patch": {
                "operationId": f"patch{t.kind}",
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {"group": t.group, "version": t.version, "kind": t.kind},
                "parameters": [
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                    {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": True}},
                ],
                "responses": {"200": {"description": "OK"}},
            }
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.5"},
        "paths": paths,
        "components": {},
    }


def _hash(doc: dict) -> str:
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:64].upper()


def root_doc(catalog: Catalog) -> dict:
    paths = {}
    for group, versions in catalog.groups().items():
        for version in versions:
            doc = group_version_doc(catalog, group, version)
            key = _gv_key(group, version)
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={_hash(doc)}"}
    return {"paths": paths}


def lookup(catalog: Catalog, path: str) -> dict | None:
    """The document for an /openapi/v3/... path, or None."""
    rest = path[len("/openapi/v3"):].strip("/")
    if not rest:
        return root_doc(catalog)
    parts = rest.split("/")
    if parts[0] == "api" and len(parts) == 2:
        return group_version_doc(catalog, "", parts[1])
    if parts[0] == "apis" and len(parts) == 3:
        return group_version_doc(catalog, parts[1], parts[2])
    return None
