"""The front endpoint: what AWS_ENDPOINT_URL points at.

Every request is identified (service, region, operation), may get an injected fault or
added latency, is handled by localcloud's own additions (EKS, EC2 rules) or forwarded to
moto untouched, and is written to the request log.
"""
import http.client
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from localcloud import awserrors
from localcloud.awserrors import AwsError, Response
from localcloud.ami_releases import Ssm
from localcloud.pricing import Pricing
from localcloud.throttle import error_for as throttle_error

SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
QUERY_SCOPE = re.compile(r"^[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request$")
ACCESS_KEY = re.compile(r"Credential=([^/]+)/")
# moto's account when the access key names none (moto.core DEFAULT_ACCOUNT_ID)
DEFAULT_ACCOUNT = "123456789012"
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer",
               "upgrade", "proxy-connection", "server", "date"}


class Request:
    def __init__(self, method: str, raw_path: str, headers: dict, body: bytes):
        self.method = method
        self.raw_path = raw_path
        self.path, _, self.query = raw_path.partition("?")
        self.headers = headers  # lower-case keys
        self.body = body
        self.qs = urllib.parse.parse_qs(self.query, keep_blank_values=True)
        self.service, self.region = self._scope()
        self.params = self._query_params()
        self.operation = self.params.get("Action") or ""

    def _scope(self):
        m = SCOPE.search(self.headers.get("authorization", ""))
        if m:
            return m.group(2), m.group(1)
        cred = self.qs.get("X-Amz-Credential", [""])[0]
        m = QUERY_SCOPE.match(cred)
        if m:
            return m.group(2), m.group(1)
        return "unknown", "us-east-1"

    def account(self) -> str:
        """The account the call acts in: as moto decides it, a 12-digit access key id is an
        account id; any other key acts in the default account."""
        m = ACCESS_KEY.search(self.headers.get("authorization", "")) or ACCESS_KEY.search("Credential=" + self.qs.get("X-Amz-Credential", [""])[0])
        key = m.group(1) if m else ""
        return key if len(key) == 12 and key.isdigit() else DEFAULT_ACCOUNT

    def _query_params(self) -> dict:
        params = {k: v[0] for k, v in self.qs.items()}
        ctype = self.headers.get("content-type", "")
        if self.method == "POST" and "x-www-form-urlencoded" in ctype:
            for k, v in urllib.parse.parse_qs(self.body.decode(), keep_blank_values=True).items():
                params[k] = v[0]
        return params

    def with_params(self, params: dict) -> "Request":
        """A copy whose form body carries `params` instead (query-protocol services)."""
        body = urllib.parse.urlencode(params).encode()
        r = Request(self.method, self.raw_path, dict(self.headers), body)
        return r


def s3_operation(method: str, path: str, query: dict) -> str:
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "ListBuckets"
    if len(parts) == 1:
        for sub in ("versioning", "versions", "tagging", "policy", "location"):
            if sub in query:
                name = {"versions": "ObjectVersions", "location": "BucketLocation"}.get(sub, "Bucket" + sub.capitalize())
                return {"GET": "Get" if sub != "versions" else "List", "PUT": "Put", "DELETE": "Delete"}.get(method, method) + name
        return {"GET": "ListObjectsV2" if "list-type" in query else "ListObjects", "PUT": "CreateBucket",
                "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(method, method + "Bucket")
    return {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject",
            "DELETE": "DeleteObject"}.get(method, method + "Object")


class Front:
    def __init__(self, moto_url: str, profile, page_size: int, log, faults, ec2, eks, control, throttle=None):
        u = urllib.parse.urlparse(moto_url)
        self.moto_host, self.moto_port = u.hostname, u.port
        self.profile = profile
        self.page_size = page_size
        self.log = log
        self.faults = faults
        self.ec2 = ec2
        self.eks = eks
        self.control = control
        self.throttle = throttle
        self.pricing = Pricing()
        self.ssm = Ssm()
        self.server = None

    # --- forwarding -------------------------------------------------------------
    def forward(self, req: Request) -> Response:
        conn = http.client.HTTPConnection(self.moto_host, self.moto_port, timeout=120)
        try:
            headers = {k: v for k, v in req.headers.items() if k not in HOP_HEADERS and k != "expect"}
            headers["content-length"] = str(len(req.body))
            conn.request(req.method, req.raw_path, body=req.body, headers=headers)
            r = conn.getresponse()
            body = r.read()
            out = {k: v for k, v in r.getheaders() if k.lower() not in HOP_HEADERS}
            return Response(r.status, body, out)
        finally:
            conn.close()

    # --- one request ------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.path.startswith("/_localcloud"):
            return self.control.handle(req)
        start = time.monotonic()
        operation, rule, throttled = req.operation, None, False
        try:
            if req.service == "eks":
                operation = self.eks.operation_name(req)
            elif req.service == "s3":
                operation = s3_operation(req.method, req.path, req.qs)
            elif req.service == "pricing":
                operation = self.pricing.operation_name(req)
            elif req.service == "ssm":
                operation = self.ssm.operation_name(req)
            elif not operation:
                operation = f"{req.method} {req.path}"
            # A throttled call is refused before anything else sees it (fault rules count it not).
            throttled = bool(self.throttle) and not self.throttle.admit(req.account(), req.region, req.service, operation)
            rule = None if throttled else self.faults.match(req.service, operation)
            if throttled:
                resp = awserrors.render(req.service, *throttle_error(req.service))
            elif rule and "error" in rule:
                if rule.get("after"):  # done in "AWS"; the answer is lost on the way back
                    self.dispatch(req, operation)
                    self.faults.took_effect(rule)
                resp = awserrors.render(req.service, rule["error"], rule["message"], int(rule["status"]))
            else:
                delay = self.profile.latency(req.service, operation)
                if delay:
                    time.sleep(delay)
                resp = self.dispatch(req, operation)
                if rule and resp.status >= 300:  # refused: nothing took effect to hold back
                    self.faults.unfire(rule)
                    rule = None
                elif rule:  # a hold rule: done in "AWS", the answer comes late (or never)
                    self.faults.took_effect(rule)
                    time.sleep(rule["hold"])
        except AwsError as e:
            if rule and "hold" in rule:  # refused (e.g. not consistent yet): the hold waits for a call that takes effect
                self.faults.unfire(rule)
                rule = None
            resp = awserrors.render(req.service, e.code, e.message, e.status)
        except Exception as e:  # a bug in localcloud: say so in the service's own format
            import traceback
            traceback.print_exc()
            code = "InternalError" if req.service == "ec2" else "ServerException" if req.service == "eks" else "InternalErrorException" if req.service == "pricing" else "InternalFailure"
            resp = awserrors.render(req.service, code, f"localcloud: {type(e).__name__}: {e}", 500)
        extra = {"region": req.region}
        if rule:
            extra["fault"] = rule.get("error", "hold")
        if throttled:
            extra["throttled"] = True
        self.log.log_request(req.service, operation, resp.status, (time.monotonic() - start) * 1000, extra)
        return resp

    def dispatch(self, req: Request, operation: str) -> Response:
        if req.service == "eks":
            return self.eks.handle(req, operation)
        if req.service == "ec2":
            return self.ec2.handle(req, operation, self.forward, self.page_size)
        if req.service == "pricing":
            return self.pricing.handle(req, operation)
        if req.service == "ssm" and self.ssm.handles(req, operation):
            return self.ssm.handle(req, operation)
        resp = self.forward(req)
        if operation == "GetBucketVersioning":
            # moto names the root GetBucketVersioningResponse; S3 (and the SDKs) use this one.
            resp.body = resp.body.replace(b"GetBucketVersioningResponse", b"VersioningConfiguration")
        return resp

    # --- HTTP server ------------------------------------------------------------
    def serve(self, port: int = 0) -> int:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _any(self):
                body = self._body()
                headers = {k.lower(): v for k, v in self.headers.items()}
                resp = front.handle(Request(self.command, self.path, headers, body))
                self.send_response(resp.status)
                for k, v in resp.headers.items():
                    if k.lower() not in HOP_HEADERS:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(resp.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _any

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        self.server = Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True, name="front").start()
        return self.server.server_address[1]

    def stop(self):
        if self.server:
            self.server.shutdown()


def json_response(status: int, obj) -> Response:
    return Response(status, json.dumps(obj, default=str).encode(), {"Content-Type": "application/json"})
