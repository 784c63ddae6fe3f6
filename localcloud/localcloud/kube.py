"""A Kubernetes API double for one EKS cluster, served over HTTPS on 127.0.0.1.

Real `kubectl` and kube-rs talk to it exactly as to EKS: endpoint + cluster CA + EKS bearer
token. It serves discovery, get/list/watch/create/update/patch (incl. server-side apply)/delete
for the kinds eksnet touches, and starts holding what a fresh EKS cluster holds.

    cluster = KubeCluster("demo", "ap-southeast-2", "http://127.0.0.1:4566", log_request)
    cluster.start(); cluster.endpoint; cluster.ca_data
    cluster.on_addon("vpc-cni", {"env": {"ENABLE_POD_ENI": "true"}})
    cluster.stop()

Alone, it schedules no pods and has no nodes (workload status is set ready at once); inside
localcloud, eks.py attaches a data plane (dataplane.py) that runs nodes, pods and the VPC CNI.
Not emulated (see the modules for details): no admission, defaulting or schema validation, no RBAC (any caller STS
knows is cluster-admin), no finalizers or graceful deletion, no OpenAPI schemas (only what kubectl needs to trust server-side validation), no aggregated
discovery, no protobuf request bodies (responses are always JSON), no pagination (`limit` is ignored; everything comes in one page).
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from . import certs, kube_openapi, kube_seed
from .kube_api import ApiError, KubeApi
from .kube_auth import TokenVerifier, Unauthorized
from .kube_catalog import SERVER_VERSION, ResourceType
from .kube_table import table

LogRequest = Callable[[str, str, int, float, dict], None]
PUBLIC_PATHS = {"/version", "/healthz", "/livez", "/readyz"}
UNAUTHORIZED = ApiError(401, "Unauthorized", "Unauthorized")
DEFAULT_WATCH_TIMEOUT_S = 1800.0


class KubeCluster:
    def __init__(self, name: str, region: str, sts_endpoint: str, log_request: LogRequest):
        self.name = name
        self.region = region
        self.log_request = log_request
        self.api = KubeApi()
        self.verifier = TokenVerifier(name, sts_endpoint)
        self._certs = certs.generate()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._cert_dir: str | None = None
        self._addon_eni_configs: set[str] = set()
        for obj in kube_seed.initial_objects(region):
            self._seed(obj)

    # -- interface used by the localcloud front

    def start(self) -> None:
        self._cert_dir = tempfile.mkdtemp(prefix="localcloud-kube-")
        _, chain, key = self._certs.write(self._cert_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(chain, key)
        context.set_alpn_protocols(["http/1.1"])
        self._server = _Server(("127.0.0.1", 0), _Handler, self, context)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
            name=f"kube-{self.name}", daemon=True,
        )
        self._thread.start()

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("KubeCluster.start() has not been called")
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def ca_data(self) -> str:
        return self._certs.ca_data

    @property
    def ca_pem(self) -> bytes:
        return self._certs.ca_pem

    def on_addon(self, name: str, config: dict | None) -> None:
        """Render the add-on as EKS would after Create/UpdateAddon with these configurationValues.

        vpc-cni: the aws-node DaemonSet is re-applied (field manager `eks`, forced, as with
        resolveConflicts=OVERWRITE) from the defaults plus `env` / `init.env`; a variable dropped
        from the configuration returns to its default. With `eniConfig.create`, one ENIConfig per
        AZ of `eniConfig.subnets`; ENIConfigs the add-on created before and no longer renders are
        deleted. Other add-ons (coredns, kube-proxy) are already installed and their
        configuration has no effect here.
        """
        if name != "vpc-cni":
            return
        daemonset, eni_configs = kube_seed.vpc_cni_desired(self.region, config)
        self._apply_as_eks(daemonset)
        for eni_config in eni_configs.values():
            self._apply_as_eks(eni_config)
        rt = self.api.resource_type("crd.k8s.amazonaws.com/v1alpha1", "ENIConfig")
        for stale in self._addon_eni_configs - set(eni_configs):
            try:
                self.api.delete(rt, None, stale)
            except ApiError:
                pass
        self._addon_eni_configs = set(eni_configs)

    def stop(self) -> None:
        self.api.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._cert_dir:
            shutil.rmtree(self._cert_dir, ignore_errors=True)
            self._cert_dir = None

    # -- seeding

    def _seed(self, obj: dict) -> None:
        if obj["kind"] in ("Namespace", "Service"):
            rt = self.api.resource_type(obj["apiVersion"], obj["kind"])
            self.api.create(rt, obj["metadata"].get("namespace"), obj, "kube-apiserver")
        else:
            self._apply_as_eks(obj)

    def _apply_as_eks(self, obj: dict) -> dict:
        rt = self.api.resource_type(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        result, _ = self.api.patch(
            rt, meta.get("namespace"), meta["name"], "application/apply-patch+yaml", obj,
            kube_seed.EKS_MANAGER, force=True,
        )
        return result


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, cluster: KubeCluster, context: ssl.SSLContext):
        super().__init__(address, handler)
        self.cluster = cluster
        self.ssl_context = context
        self.stopping = False

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so a slow or broken
        # client cannot stall accept().
        request.settimeout(30)
        try:
            connection = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            try:
                connection.close()
            except OSError:
                pass

    def shutdown(self):
        self.stopping = True
        super().shutdown()


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes", "")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "localcloud-kube"
    sys_version = ""
    timeout = 300
    server: _Server

    def log_message(self, format, *args):  # the request log replaces the stderr access log
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # -- plumbing

    def _handle(self) -> None:
        started = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        self.query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        self.url_path = url.path.rstrip("/") or "/"
        self.operation = f"{self.command} {self.url_path}"
        self.extra: dict[str, Any] = {}
        length = int(self.headers.get("Content-Length") or 0)
        self.raw_body = self.rfile.read(length) if length else b""
        status = 500
        try:
            status = self._serve()
        except ApiError as e:
            status = self._send_json(e.code, e.status())
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True
            status = 499
        except Exception as e:  # a bug here must still answer like an API server
            self.extra["error"] = repr(e)
            status = self._send_json(500, ApiError(500, "InternalError", f"localcloud kube: {e!r}").status())
        finally:
            elapsed_ms = (time.monotonic() - started) * 1000.0
            try:
                self.server.cluster.log_request("kube", self.operation, status, round(elapsed_ms, 3), self.extra)
            except Exception:
                pass

    def _send_json(self, code: int, doc: Any) -> int:
        body = json.dumps(doc).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return code

    def _send_text(self, code: int, text: str) -> int:
        body = text.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return code

    def _scale(self, rt: ResourceType, namespace: str | None, name: str) -> int:
        """The scale subresource of Deployments, ReplicaSets and StatefulSets: an autoscaling/v1
        Scale whose spec.replicas is the workload's (what `kubectl scale` reads and patches with a
        merge patch; a PUT replaces it). Kubernetes API reference, "Scale"
        (https://kubernetes.io/docs/reference/kubernetes-api/autoscaling/scale-v1/)."""
        api = self.server.cluster.api
        if self.command in ("PATCH", "PUT"):
            body = self._body() or {}
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if self.command == "PATCH" and content_type == "application/json-patch+json":
                ops = [op for op in body if isinstance(op, dict) and op.get("path") == "/spec/replicas"] if isinstance(body, list) else []
                replicas = ops[-1].get("value") if ops else None
            else:
                replicas = ((body.get("spec") or {}) if isinstance(body, dict) else {}).get("replicas")
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise ApiError(422, "Invalid", f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: '
                               f'{json.dumps(replicas)}: must be greater than or equal to 0')
            self.extra["verb"] = "patch" if self.command == "PATCH" else "update"
            manager = self.query.get("fieldManager") or (self.headers.get("User-Agent") or "unknown").split("/")[0]
            api.patch(rt, namespace, name, "application/merge-patch+json", {"spec": {"replicas": replicas}}, manager,
                      dry_run="dryRun" in self.query)
        else:
            self.extra["verb"] = "get"
        obj = api.get(rt, namespace, name)
        meta = obj["metadata"]
        selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        return self._send_json(200, {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in sorted(selector.items()))},
        })

    def _body(self) -> Any:
        if not self.raw_body:
            return None
        if self.raw_body.startswith(b"k8s\x00"):
            # client-go's typed clients (e.g. `kubectl create namespace X`) send protobuf; only
            # JSON/YAML bodies are understood here (apply, create -f, patch, replace, kube-rs).
            raise ApiError(
                415, "UnsupportedMediaType",
                "localcloud kube: protobuf request bodies are not supported; send JSON "
                "(e.g. `kubectl create -f` or `kubectl apply` instead of `kubectl create namespace`)",
            )
        text = self.raw_body.decode("utf-8")
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if "yaml" in content_type:
            import yaml  # only server-side apply may send YAML

            try:
                return yaml.safe_load(text)
            except yaml.YAMLError as e:
                raise ApiError(400, "BadRequest", f"error decoding YAML: {e}") from e
        raise ApiError(400, "BadRequest", "the request body is not valid JSON")

    def _authenticate(self) -> None:
        authorization = self.headers.get("Authorization")
        if self.url_path in PUBLIC_PATHS and not authorization:
            return  # system:anonymous may read version and health, as on EKS
        try:
            identity = self.server.cluster.verifier.verify(authorization)
        except Unauthorized as e:
            self.extra["auth_error"] = str(e)
            raise UNAUTHORIZED
        self.extra["user"] = identity.arn

    # -- routing

    def _serve(self) -> int:
        self._authenticate()
        api = self.server.cluster.api
        path = self.url_path
        if path == "/version":
            return self._send_json(200, SERVER_VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return self._send_text(200, "ok")
        parts = [p for p in path.split("/") if p]
        catalog = api.catalog()
        if path == "/openapi/v3" or path.startswith("/openapi/v3/"):
            doc = kube_openapi.lookup(catalog, path)
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self._send_json(200, doc)
        if path.startswith("/openapi/"):  # v2: not served (see kube_openapi)
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if parts == ["api"]:
            host = f"127.0.0.1:{self.server.server_address[1]}"
            return self._send_json(200, catalog.api_versions(host))
        if parts == ["apis"]:
            return self._send_json(200, catalog.api_group_list())
        if len(parts) == 2 and parts[0] == "apis":
            doc = catalog.api_group(parts[1])
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self._send_json(200, doc)
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            doc = catalog.resource_list(group, version)
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self._send_json(200, doc)
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            inner = catalog.find(group, version, rest[2])
            if inner is not None and inner.namespaced:
                namespace, rest = rest[1], rest[2:]
        rt = catalog.find(group, version, rest[0])
        if rt is None or len(rest) > 3 or (namespace and not rt.namespaced):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else ""
        if subresource and subresource not in rt.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        self.operation = f"{self.command} {rt.group_version} {rt.plural}" + (
            f" {namespace}/{name}" if namespace and name else f" {name}" if name else f" {namespace}/" if namespace else ""
        ) + (f"/{subresource}" if subresource else "")
        return self._resource(rt, namespace, name, subresource)

    def _resource(self, rt: ResourceType, namespace: str | None, name: str | None, subresource: str) -> int:
        if subresource == "scale" and name:
            return self._scale(rt, namespace, name)
        api = self.server.cluster.api
        q = self.query
        dry_run = "dryRun" in q
        manager = q.get("fieldManager") or (self.headers.get("User-Agent") or "unknown").split("/")[0]
        method = self.command
        if method in ("GET", "HEAD") and name:
            self.extra["verb"] = "get"
            obj = api.get(rt, namespace, name)
            if "as=Table" in (self.headers.get("Accept") or ""):  # `kubectl get pod NAME`
                return self._send_json(200, table(rt, [obj], q.get("includeObject", "Metadata"),
                                                  obj["metadata"].get("resourceVersion", "")))
            return self._send_json(200, obj)
        if method in ("GET", "HEAD"):
            if _truthy(q.get("watch")) and "watch" in q:
                self.extra["verb"] = "watch"
                return self._watch(rt, namespace)
            self.extra["verb"] = "list"
            listed = api.list(rt, namespace, q.get("labelSelector"), q.get("fieldSelector"))
            if "as=Table" in (self.headers.get("Accept") or ""):
                return self._send_json(200, table(rt, listed["items"], q.get("includeObject", "Metadata"),
                                                  listed["metadata"]["resourceVersion"]))
            return self._send_json(200, listed)
        if rt.namespaced and not namespace and method != "DELETE":
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on {rt.plural} across all namespaces")
        if method == "POST" and not name:
            self.extra["verb"] = "create"
            return self._send_json(201, api.create(rt, namespace, self._body(), manager, dry_run))
        if method == "PUT" and name:
            self.extra["verb"] = "update"
            return self._send_json(200, api.replace(rt, namespace, name, self._body(), manager, dry_run, subresource))
        if method == "PATCH" and name:
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            apply = content_type == "application/apply-patch+yaml"
            self.extra["verb"] = "apply" if apply else "patch"
            if apply:
                self.extra["fieldManager"] = q.get("fieldManager")
            obj, created = api.patch(
                rt, namespace, name, content_type, self._body(), q.get("fieldManager") if apply else manager,
                force=_truthy(q.get("force")) and "force" in q, dry_run=dry_run, subresource=subresource,
            )
            return self._send_json(201 if created else 200, obj)
        if method == "DELETE" and name:
            self.extra["verb"] = "delete"
            options = self._body() or {}
            dry_run = dry_run or bool(options.get("dryRun"))
            return self._send_json(200, api.delete(rt, namespace, name, dry_run, options.get("preconditions")))
        if method == "DELETE":
            self.extra["verb"] = "deletecollection"
            return self._send_json(200, api.delete_collection(
                rt, namespace, q.get("labelSelector"), q.get("fieldSelector"), dry_run))
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on this path")

    def _watch(self, rt: ResourceType, namespace: str | None) -> int:
        q = self.query
        try:
            timeout_s = float(q.get("timeoutSeconds") or DEFAULT_WATCH_TIMEOUT_S)
        except ValueError:
            raise ApiError(400, "BadRequest", "timeoutSeconds must be a number")
        rv = q.get("resourceVersion")
        if rv and not rv.isdigit():
            raise ApiError(400, "BadRequest", f"invalid resourceVersion {rv!r}")
        events = self.server.cluster.api.watch(
            rt, namespace, q.get("labelSelector"), q.get("fieldSelector"), rv,
            timeout_s, _truthy(q.get("sendInitialEvents")) and "sendInitialEvents" in q,
            stopped=lambda: self.server.stopping,
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()
        count = 0
        try:
            for event in events:
                line = json.dumps(event).encode("utf-8") + b"\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
                count += 1
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (ConnectionError, ssl.SSLError, socket.timeout, OSError):
            self.close_connection = True
        self.extra["events"] = count
        return 200

