"""EKS bearer-token authentication, as aws-iam-authenticator does it on EKS.

A token is `k8s-aws-v1.` + base64url(no padding) of a presigned STS GetCallerIdentity URL. We
check its shape and age locally, then replay the presigned request against the local STS (the
localcloud front endpoint, or moto directly in tests) and take the caller ARN from the answer.

Limitation: moto does not verify SigV4 signatures, so the binding of a token to a cluster (the
signed `x-k8s-aws-id` header) cannot be checked cryptographically here. We require that the
header is among X-Amz-SignedHeaders, which is what a forged or `aws sts` style URL lacks, and we
send the header with our cluster name, as EKS does; a token minted for another cluster name is
accepted by this double where real EKS would refuse it — unless the server's `token_signature`
switch is on (see token_signature.py), which checks the SigV4 signature over the header.

A verifier may carry a `policy` (set by localcloud's EKS, eks_strict.TokenPolicy) with
`token_lifetime()` (seconds; 900 unless the `token_expiry_scaled`/`token_lifetime_seconds`
settings change it), `accepts_local_sts()` (tokens presigned for the STS endpoint this verifier
replays to, i.e. localcloud's own endpoint, as `aws eks get-token` makes them while
AWS_ENDPOINT_URL points at localcloud) and `secret_for(access_key_id)` (None: no signature
check; else the secret, or "" for an unknown key). Without a policy: 15 minutes, local endpoint
accepted, no signature check.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
TOKEN_LIFETIME = datetime.timedelta(minutes=15)  # EKS / aws-iam-authenticator
CLOCK_SKEW = datetime.timedelta(minutes=5)
STS_HOST = re.compile(r"^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$")
ALLOWED_PARAMS = {
    "action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
    "x-amz-security-token", "x-amz-signature", "x-amz-signedheaders",
}


class Unauthorized(Exception):
    """The reason is for logs only; clients see a bare 401 Unauthorized, as on EKS."""


@dataclass(frozen=True)
class Identity:
    arn: str
    account: str
    user_id: str


def _decode(token: str) -> str:
    if not token.startswith(TOKEN_PREFIX):
        raise Unauthorized("token lacks the k8s-aws-v1. prefix")
    body = token[len(TOKEN_PREFIX):]
    try:
        url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as e:
        raise Unauthorized(f"token is not base64url: {e}") from e
    # A tampered token can decode to bytes no URL may hold; the API server refuses it (401).
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise Unauthorized("token decodes to a URL with control characters")
    return url


def parse_token(token: str, now: datetime.datetime | None = None, lifetime: datetime.timedelta = TOKEN_LIFETIME,
                local_origin: str | None = None) -> tuple[urllib.parse.SplitResult, dict[str, str], datetime.datetime]:
    """Validate the presigned URL inside a token; return (url, params, expiry).

    `local_origin` ("http://127.0.0.1:PORT"): also accept URLs presigned for that endpoint."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    url = urllib.parse.urlsplit(_decode(token))
    sts = url.scheme == "https" and STS_HOST.match(url.hostname or "")
    local = local_origin is not None and f"{url.scheme}://{url.netloc}" == local_origin.rstrip("/")
    if not (sts or local) or url.path not in ("", "/"):
        raise Unauthorized(f"not an STS URL: {url.scheme}://{url.netloc}{url.path}")
    pairs = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
    params = {k: v for k, v in pairs}
    if len(params) != len(pairs):
        raise Unauthorized("repeated query parameter")
    unknown = {k for k in params if k.lower() not in ALLOWED_PARAMS}
    if unknown:
        raise Unauthorized(f"unexpected query parameters {sorted(unknown)}")
    if params.get("Action") != "GetCallerIdentity":
        raise Unauthorized(f"Action is {params.get('Action')!r}, not GetCallerIdentity")
    signed = [h.strip().lower() for h in params.get("X-Amz-SignedHeaders", "").split(";")]
    if CLUSTER_ID_HEADER not in signed:
        raise Unauthorized("x-k8s-aws-id is not a signed header")
    for required in ("X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-Expires"):
        if not params.get(required):
            raise Unauthorized(f"{required} missing")
    try:
        signed_at = datetime.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc
        )
        expires_in = int(params["X-Amz-Expires"])
    except ValueError as e:
        raise Unauthorized(f"bad X-Amz-Date or X-Amz-Expires: {e}") from e
    if expires_in <= 0:
        raise Unauthorized("X-Amz-Expires is not positive")
    if signed_at > now + CLOCK_SKEW:
        raise Unauthorized("X-Amz-Date is in the future")
    # Like aws-iam-authenticator: the token lives 15 min from signing, whatever X-Amz-Expires says.
    expiry = signed_at + lifetime
    if now >= expiry:
        raise Unauthorized(f"token expired at {expiry.isoformat()}")
    return url, params, expiry


class TokenVerifier:
    def __init__(self, cluster_name: str, sts_endpoint: str, timeout_s: float = 10.0, policy=None):
        self.cluster_name = cluster_name
        self.sts_endpoint = sts_endpoint.rstrip("/")
        self.timeout_s = timeout_s
        self.policy = policy
        self._cache: dict[str, tuple[datetime.datetime, Identity]] = {}
        self._lock = threading.Lock()

    def verify(self, authorization: str | None) -> Identity:
        if not authorization:
            raise Unauthorized("no credentials")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("not a bearer token")
        token = token.strip()
        policy = self.policy
        lifetime = datetime.timedelta(seconds=policy.token_lifetime()) if policy else TOKEN_LIFETIME
        local = self.sts_endpoint if policy is None or policy.accepts_local_sts() else None
        url, params, expiry = parse_token(token, lifetime=lifetime, local_origin=local)
        if policy is not None:
            secret = policy.secret_for(params["X-Amz-Credential"].split("/")[0])
            if secret is not None:
                from .token_signature import valid
                if not secret:
                    raise Unauthorized("unknown access key")
                if not valid(url, params, self.cluster_name, secret):
                    raise Unauthorized("signature does not match (wrong secret, cluster or tampered URL)")
        with self._lock:
            cached = self._cache.get(token)
        if cached:
            return cached[1]
        identity = self._ask_sts(url, params)
        with self._lock:
            now = datetime.datetime.now(datetime.timezone.utc)
            self._cache = {t: v for t, v in self._cache.items() if v[0] > now}
            self._cache[token] = (expiry, identity)
        return identity

    def _ask_sts(self, url: urllib.parse.SplitResult, params: dict[str, str]) -> Identity:
        # Replay the presigned request with the headers it was signed over. moto routes a request
        # by its Authorization header, not by the presigned query, so we also carry the signature
        # there (same credential scope, same signature); real STS is never called from here.
        headers = {
            "Host": url.netloc,
            CLUSTER_ID_HEADER: self.cluster_name,
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential={params['X-Amz-Credential']}, "
                f"SignedHeaders={params['X-Amz-SignedHeaders']}, Signature={params['X-Amz-Signature']}"
            ),
        }
        if params.get("X-Amz-Security-Token"):
            headers["X-Amz-Security-Token"] = params["X-Amz-Security-Token"]
        request = urllib.request.Request(f"{self.sts_endpoint}/?{url.query}", headers=headers, method="GET")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as e:
            raise Unauthorized(f"STS answered {e.code}") from e
        except (urllib.error.URLError, OSError) as e:
            raise Unauthorized(f"STS unreachable at {self.sts_endpoint}: {e}") from e
        if status != 200:
            raise Unauthorized(f"STS answered {status}")
        return _identity(body)


def _identity(body: bytes) -> Identity:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise Unauthorized(f"STS answer is not XML: {e}") from e
    found = {}
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in ("Arn", "Account", "UserId"):
            found[tag] = (element.text or "").strip()
    if not found.get("Arn"):
        raise Unauthorized("STS answer has no GetCallerIdentityResult Arn")
    return Identity(found["Arn"], found.get("Account", ""), found.get("UserId", ""))
