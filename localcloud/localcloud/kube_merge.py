"""Patch and server-side-apply semantics, approximated without OpenAPI schemas.

A real API server knows from each type's schema which lists are maps keyed by a field
(`containers` by `name`, `ports` by `containerPort`+`protocol`, ...) and which are atomic. We
hard-code the keyed lists of the kinds eksnet touches (see `LIST_KEYS`); every other list is
atomic (replaced whole).

Server-side apply keeps, per field manager, the set of fields it owns (a set of paths written in
the `fieldsV1` vocabulary: `f:<field>`, `k:<key json>` for a keyed list item, `.` for the item
itself). With those sets we do what the real server does, to the extent eksnet relies on it:
  * conflicts: applying a value to a field another manager owns with a different value is a 409
    Conflict unless `force=true`, which takes the field over;
  * removal: a field the manager applied before and no longer applies is removed from the object
    unless another manager still owns it;
  * updates (PUT / non-apply PATCH) take ownership of the fields they change.
Not emulated: defaulting, schema validation, `x-kubernetes-list-type: set` lists, granular
ownership inside atomic lists, and the exact ordering rules of merged lists (new items go last).
"""

from __future__ import annotations

import copy
import json
from typing import Any

MISSING = object()

# List field name -> key fields of its items (the patchMergeKey / listMapKeys of the real schemas).
LIST_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "conditions": ("type",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "versions": ("name",),  # CustomResourceDefinition.spec.versions
}
PORT_LIST_KEYS = (("containerPort", "protocol"), ("port", "protocol"))

# Fields of an object no manager ever owns: identity and server-maintained metadata.
UNOWNED_METADATA = {
    "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
    "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink",
}


def _key_fields(field_name: str, items: list) -> tuple[str, ...] | None:
    """Key fields for a list, or None when the list is atomic."""
    candidates = PORT_LIST_KEYS if field_name == "ports" else (LIST_KEYS.get(field_name),)
    for keys in candidates:
        if keys and all(isinstance(i, dict) and keys[0] in i for i in items):
            return keys
    return None


def _item_key(keys: tuple[str, ...], item: dict) -> dict:
    result = {}
    for k in keys:
        if k in item:
            result[k] = item[k]
        elif k == "protocol":
            result[k] = "TCP"  # the default the real schema applies
    return result


def _key_token(keys: tuple[str, ...], item: dict) -> str:
    return "k:" + json.dumps(_item_key(keys, item), separators=(",", ":"), sort_keys=True)


# ---------------------------------------------------------------- field sets (server-side apply)


def field_paths(obj: dict) -> set[tuple[str, ...]]:
    """The set of leaf paths an applied configuration sets."""
    paths: set[tuple[str, ...]] = set()
    for key, value in obj.items():
        if key in ("apiVersion", "kind", "status"):
            continue
        if key == "metadata" and isinstance(value, dict):
            meta = {k: v for k, v in value.items() if k not in UNOWNED_METADATA}
            _walk(meta, ("f:metadata",), paths)
            continue
        _walk_value(key, value, ("f:" + key,), paths)
    return paths


def _walk(obj: dict, prefix: tuple[str, ...], paths: set) -> None:
    for key, value in obj.items():
        _walk_value(key, value, prefix + ("f:" + key,), paths)


def _walk_value(key: str, value: Any, path: tuple[str, ...], paths: set) -> None:
    if isinstance(value, dict) and value:
        _walk(value, path, paths)
    elif isinstance(value, list) and value and (keys := _key_fields(key, value)):
        for item in value:
            item_path = path + (_key_token(keys, item),)
            paths.add(item_path + (".",))
            _walk(item, item_path, paths)
    else:
        paths.add(path)


def paths_to_fields_v1(paths: set[tuple[str, ...]]) -> dict:
    root: dict = {}
    for path in sorted(paths):
        node = root
        for part in path:
            node = node.setdefault(part, {})
    return root


def fields_v1_to_paths(fields: dict, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    paths: set[tuple[str, ...]] = set()
    for key, sub in (fields or {}).items():
        if sub:
            paths |= fields_v1_to_paths(sub, prefix + (key,))
        else:
            paths.add(prefix + (key,))
    return paths


def _step(node: Any, part: str) -> Any:
    if part.startswith("f:"):
        return node.get(part[2:], MISSING) if isinstance(node, dict) else MISSING
    if part.startswith("k:"):
        if not isinstance(node, list):
            return MISSING
        wanted = json.loads(part[2:])
        for item in node:
            if isinstance(item, dict) and _item_key(tuple(wanted), item) == wanted:
                return item
        return MISSING
    return node  # "."


def _list_field_for(path: tuple[str, ...]) -> str:
    return path[-1][2:] if path and path[-1].startswith("f:") else ""


def get_path(obj: Any, path: tuple[str, ...]) -> Any:
    node = obj
    for part in path:
        node = _step(node, part)
        if node is MISSING:
            return MISSING
    return node


def leaf_value(obj: Any, path: tuple[str, ...]) -> Any:
    """The value a manager owns at `path`; for a list item marker (".") only its existence."""
    value = get_path(obj, path)
    if path and path[-1] == "." and value is not MISSING:
        return True
    return value


def delete_path(obj: dict, path: tuple[str, ...]) -> None:
    if path[-1] == ".":
        path = path[:-1]
    parent = get_path(obj, path[:-1])
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif last.startswith("k:") and isinstance(parent, list):
        item = _step(parent, last)
        if item is not MISSING:
            parent.remove(item)


def _pretty(path: tuple[str, ...]) -> str:
    out = ""
    for part in path:
        if part.startswith("f:"):
            out += "." + part[2:]
        elif part.startswith("k:"):
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(part[2:]).items()) + "]"
    return out


class ApplyConflict(Exception):
    def __init__(self, conflicts: list[tuple[str, str]], api_version: str):
        self.conflicts = conflicts  # (manager, field)
        self.api_version = api_version
        lines = [f'conflict with "{m}" using {api_version}: {f}' for m, f in conflicts]
        plural = "conflict" if len(conflicts) == 1 else "conflicts"
        super().__init__(f"Apply failed with {len(conflicts)} {plural}: " + "\n".join(lines))


def managers_of(obj: dict) -> list[dict]:
    return (obj.get("metadata") or {}).get("managedFields") or []


def server_side_apply(
    live: dict | None, applied: dict, manager: str, force: bool, now: str
) -> dict:
    """Return the new object for applying `applied` as `manager` over `live` (None = absent)."""
    applied = copy.deepcopy(applied)
    applied.pop("status", None)
    new_paths = field_paths(applied)
    result = copy.deepcopy(live) if live is not None else {}
    entries = copy.deepcopy(managers_of(result))
    owned = {
        (e.get("manager"), e.get("operation"), e.get("subresource", "")): fields_v1_to_paths(e.get("fieldsV1"))
        for e in entries
    }
    me = (manager, "Apply", "")

    conflicts = []
    for other, paths in owned.items():
        if other == me:
            continue
        clash = []
        for p in new_paths & paths:
            current = leaf_value(result, p)
            if current is not MISSING and current != leaf_value(applied, p):
                clash.append(p)
        if clash and not force:
            conflicts += [(other[0], _pretty(p)) for p in sorted(clash)]
        elif clash:
            paths.difference_update(clash)
    if conflicts:
        raise ApplyConflict(conflicts, applied.get("apiVersion", ""))

    others = set().union(*(p for k, p in owned.items() if k != me)) if owned else set()
    # Whole list items first (shortest paths), so their fields need no separate removal; never
    # remove an item's key field alone (the item would lose its identity).
    for p in sorted(owned.get(me, set()) - new_paths, key=len):
        base = p[:-1] if p[-1] == "." else p
        if len(p) >= 2 and p[-2].startswith("k:") and p[-1][2:] in json.loads(p[-2][2:]):
            continue
        if not any(o[: len(base)] == base for o in others):
            delete_path(result, p)

    body = {k: v for k, v in applied.items() if k != "metadata"}
    merge_apply(result, body)
    meta = result.setdefault("metadata", {})
    for k, v in (applied.get("metadata") or {}).items():
        if k in UNOWNED_METADATA:
            if k in ("name", "namespace") and k not in meta:
                meta[k] = v
            continue
        meta[k] = _merged(meta.get(k, MISSING), v, k)

    owned[me] = new_paths
    meta["managedFields"] = _entries(owned, entries, me, now, applied.get("apiVersion", ""))
    return result


def record_update(old: dict | None, new: dict, manager: str, now: str, api_version: str, subresource: str = "") -> None:
    """Give `manager` (operation Update) the fields that changed from `old` to `new`."""
    old_paths = field_paths(old) if old else set()
    new_paths = field_paths(new)
    changed = {p for p in new_paths if old is None or leaf_value(old, p) != leaf_value(new, p)}
    removed = old_paths - new_paths
    entries = copy.deepcopy(managers_of(old) if old else managers_of(new))
    owned = {
        (e.get("manager"), e.get("operation"), e.get("subresource", "")): fields_v1_to_paths(e.get("fieldsV1"))
        for e in entries
    }
    me = (manager, "Update", subresource)
    for key, paths in owned.items():
        if key != me:
            paths.difference_update(changed | removed)
    if changed or me in owned:
        owned[me] = (owned.get(me, set()) - removed) | changed
    meta = new.setdefault("metadata", {})
    meta["managedFields"] = _entries(owned, entries, me if changed else None, now, api_version)


def _entries(owned: dict, old_entries: list[dict], touched, now: str, api_version: str) -> list[dict]:
    by_key = {(e.get("manager"), e.get("operation"), e.get("subresource", "")): e for e in old_entries}
    result = []
    order = [k for k in by_key] + [k for k in owned if k not in by_key]
    for key in order:
        paths = owned.get(key)
        if not paths:
            continue
        entry = dict(by_key.get(key) or {})
        entry.update({"manager": key[0], "operation": key[1], "fieldsType": "FieldsV1"})
        if key[2]:
            entry["subresource"] = key[2]
        entry["fieldsV1"] = paths_to_fields_v1(paths)
        if key == touched or "time" not in entry:
            entry["time"] = now
            entry["apiVersion"] = api_version or entry.get("apiVersion", "")
        result.append(entry)
    return result


def _merged(live: Any, applied: Any, field_name: str) -> Any:
    if isinstance(applied, dict) and isinstance(live, dict):
        merge_apply(live, applied)
        return live
    if isinstance(applied, list) and isinstance(live, list):
        keys = _key_fields(field_name, applied)
        if keys and (not live or _key_fields(field_name, live) == keys):
            for item in applied:
                token = _key_token(keys, item)
                existing = _step(live, token)
                if existing is MISSING:
                    live.append(copy.deepcopy(item))
                else:
                    merge_apply(existing, item)
            return live
    return copy.deepcopy(applied)


def merge_apply(live: dict, applied: dict) -> None:
    for key, value in applied.items():
        live[key] = _merged(live.get(key, MISSING), value, key)


# ---------------------------------------------------------------- patches


class PatchError(Exception):
    pass


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any, field_name: str = "") -> Any:
    """Kubernetes strategic merge patch: keyed lists merge by key, `$patch` directives honoured."""
    if isinstance(patch, dict):
        directive = patch.get("$patch")
        if directive == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
        if directive == "delete":
            return MISSING
        result = copy.deepcopy(target) if isinstance(target, dict) else {}
        for key, value in patch.items():
            if key.startswith("$"):
                continue  # $retainKeys, $setElementOrder/..., $deleteFromPrimitiveList/...
            if value is None:
                result.pop(key, None)
                continue
            merged = strategic_merge_patch(result.get(key, MISSING), value, key)
            if merged is MISSING:
                result.pop(key, None)
            else:
                result[key] = merged
        return result
    if isinstance(patch, list):
        live = target if isinstance(target, list) else []
        keys = _key_fields(field_name, [p for p in patch if isinstance(p, dict) and "$patch" not in p] or live)
        if keys and all(isinstance(p, dict) for p in patch):
            if any(p.get("$patch") == "replace" for p in patch):
                return [copy.deepcopy({k: v for k, v in p.items() if k != "$patch"}) for p in patch if p.get("$patch") != "replace"]
            result = copy.deepcopy(live)
            for item in patch:
                token = _key_token(keys, item)
                existing = _step(result, token)
                if item.get("$patch") == "delete":
                    if existing is not MISSING:
                        result.remove(existing)
                    continue
                if existing is MISSING:
                    result.append({k: v for k, v in copy.deepcopy(item).items() if not k.startswith("$")})
                else:
                    merged = strategic_merge_patch(existing, item, "")
                    result[result.index(existing)] = merged
            return result
        if field_name == "finalizers":
            return list(dict.fromkeys(list(live) + list(patch)))
        return copy.deepcopy(patch)
    return copy.deepcopy(patch)


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _container(doc: Any, parts: list[str]) -> tuple[Any, str]:
    node = doc
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise PatchError(f"path not found: /{'/'.join(parts)}")
    return node, parts[-1]


def json_patch(doc: Any, operations: list) -> Any:
    """RFC 6902."""
    doc = copy.deepcopy(doc)
    for op in operations:
        kind, parts = op.get("op"), _pointer(op.get("path", ""))
        try:
            if kind == "test":
                value = doc
                for part in parts:
                    value = value[int(part)] if isinstance(value, list) else value[part]
                if value != op.get("value"):
                    raise PatchError(f"test failed at {op.get('path')}")
                continue
            if kind in ("move", "copy"):
                src = _pointer(op.get("from", ""))
                parent, last = _container(doc, src)
                value = parent[int(last)] if isinstance(parent, list) else parent[last]
                value = copy.deepcopy(value)
                if kind == "move":
                    del parent[int(last) if isinstance(parent, list) else last]
                kind, op = "add", {"value": value}
            if not parts:
                doc = copy.deepcopy(op.get("value"))
                continue
            parent, last = _container(doc, parts)
            if kind == "add":
                if isinstance(parent, list):
                    index = len(parent) if last == "-" else int(last)
                    parent.insert(index, copy.deepcopy(op.get("value")))
                else:
                    parent[last] = copy.deepcopy(op.get("value"))
            elif kind == "remove":
                del parent[int(last) if isinstance(parent, list) else last]
            elif kind == "replace":
                if isinstance(parent, list):
                    parent[int(last)] = copy.deepcopy(op.get("value"))
                else:
                    if last not in parent:
                        raise PatchError(f"path not found: {op.get('path')}")
                    parent[last] = copy.deepcopy(op.get("value"))
            else:
                raise PatchError(f"unknown JSON patch operation {kind!r}")
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise PatchError(f"cannot apply {kind} at {op.get('path')}: {e}") from e
    return doc
