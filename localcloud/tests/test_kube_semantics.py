"""Fast checks of the API double's semantics without HTTP: patches, apply, selectors, tokens."""

from __future__ import annotations

import base64
import datetime
import os
import sys
from unittest import mock

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from localcloud import eks_token, kube_auth, kube_merge  # noqa: E402
from localcloud.kube_api import ApiError, KubeApi, label_matcher  # noqa: E402


def deployment(env: list[dict], replicas: int = 2) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [
            {"name": "web", "image": "nginx", "env": env}, {"name": "sidecar", "image": "envoy"}]}}},
    }


def test_apply_removes_what_the_manager_stopped_applying_and_keeps_other_managers_fields():
    first = kube_merge.server_side_apply(
        None, deployment([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]), "eksnet", False, "t")
    patched = kube_merge.strategic_merge_patch(first, {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "env": [{"name": "C", "value": "3"}]}]}}}})
    kube_merge.record_update(first, patched, "kubectl-patch", "t", "apps/v1")
    again = kube_merge.server_side_apply(patched, deployment([{"name": "A", "value": "9"}]), "eksnet", False, "t")
    web = again["spec"]["template"]["spec"]["containers"][0]
    assert web["env"] == [{"name": "A", "value": "9"}, {"name": "C", "value": "3"}]
    assert [c["name"] for c in again["spec"]["template"]["spec"]["containers"]] == ["web", "sidecar"]
    managers = {m["manager"]: m["operation"] for m in again["metadata"]["managedFields"]}
    assert managers == {"eksnet": "Apply", "kubectl-patch": "Update"}


def test_apply_conflict_names_manager_and_field_and_force_takes_over():
    live = kube_merge.server_side_apply(None, deployment([]), "eks", False, "t")
    with pytest.raises(kube_merge.ApplyConflict) as conflict:
        kube_merge.server_side_apply(live, deployment([], replicas=3), "eksnet", False, "t")
    assert conflict.value.conflicts == [("eks", ".spec.replicas")]
    # Same value is shared ownership, not a conflict.
    shared = kube_merge.server_side_apply(live, deployment([]), "eksnet", False, "t")
    assert {m["manager"] for m in shared["metadata"]["managedFields"]} == {"eks", "eksnet"}
    forced = kube_merge.server_side_apply(live, deployment([], replicas=3), "eksnet", True, "t")
    assert forced["spec"]["replicas"] == 3


def test_strategic_merge_patch_directives_and_json_patch():
    live = deployment([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    patched = kube_merge.strategic_merge_patch(live, {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "env": [{"name": "A", "$patch": "delete"}]}]}}}, "$setElementOrder/x": []})
    assert patched["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "B", "value": "2"}]
    assert kube_merge.json_merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None, "d": 3}}) == {"a": {"c": 2, "d": 3}}
    doc = kube_merge.json_patch({"spec": {"l": [1]}}, [
        {"op": "add", "path": "/spec/l/-", "value": 2},
        {"op": "test", "path": "/spec/l/1", "value": 2},
        {"op": "move", "from": "/spec/l", "path": "/spec/m"},
    ])
    assert doc == {"spec": {"m": [1, 2]}}
    with pytest.raises(kube_merge.PatchError):
        kube_merge.json_patch({"a": 1}, [{"op": "replace", "path": "/b", "value": 2}])


def test_label_selectors():
    labels = {"app": "nginx", "tier": "web"}
    assert label_matcher("app=nginx,tier in (web, api)")(labels)
    assert label_matcher("app==nginx,!missing")(labels)
    assert not label_matcher("app!=nginx")(labels)
    assert not label_matcher("tier notin (web)")(labels)
    assert label_matcher("")(labels)


def test_store_refuses_missing_namespace_and_bumps_resource_version_only_on_change():
    api = KubeApi(namespace_finalize_delay_s=0)
    ns_type = api.resource_type("v1", "Namespace")
    deploy_type = api.resource_type("apps/v1", "Deployment")
    with pytest.raises(ApiError) as missing:
        api.create(deploy_type, "default", deployment([]), "test")
    assert (missing.value.code, missing.value.message) == (404, 'namespaces "default" not found')
    api.create(ns_type, None, {"metadata": {"name": "default"}}, "test")
    created, was_created = api.patch(deploy_type, "default", "web", "application/apply-patch+yaml", deployment([]), "m")
    assert was_created and created["status"]["readyReplicas"] == 2
    same, _ = api.patch(deploy_type, "default", "web", "application/apply-patch+yaml", deployment([]), "m")
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    changed, _ = api.patch(deploy_type, "default", "web", "application/apply-patch+yaml", deployment([], 4), "m")
    assert int(changed["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert (changed["metadata"]["generation"], changed["status"]["observedGeneration"]) == (2, 2)


def _token_with(url: str) -> str:
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def test_token_checks():
    with mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"}):
        good = eks_token.token("demo", "us-west-2")
        url = eks_token.presigned_url("demo", "us-west-2")
    parsed, params, expiry = kube_auth.parse_token(good)
    assert parsed.hostname == "sts.us-west-2.amazonaws.com"
    assert params["X-Amz-Expires"] == "60" and params["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    now = datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(minutes=14) < expiry - now <= datetime.timedelta(minutes=15)

    bad = {
        "prefix": "k8s-aws-v2." + good[len("k8s-aws-v1."):],
        "host": _token_with(url.replace("sts.us-west-2.amazonaws.com", "evil.example.com")),
        "scheme": _token_with(url.replace("https://", "http://")),
        "extra parameter": _token_with(url + "&Foo=bar"),
    }
    for what, token in bad.items():
        with pytest.raises(kube_auth.Unauthorized):
            kube_auth.parse_token(token)
    with pytest.raises(kube_auth.Unauthorized, match="expired"):
        kube_auth.parse_token(good, now=now + datetime.timedelta(minutes=16))
    with pytest.raises(kube_auth.Unauthorized, match="future"):
        kube_auth.parse_token(good, now=now - datetime.timedelta(minutes=10))
    assert kube_auth.parse_token(_token_with(url.replace("sts.us-west-2.", "sts.")))[0].hostname == "sts.amazonaws.com"
