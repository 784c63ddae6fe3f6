"""SigV4 check of an EKS token's presigned STS URL (switch `token_signature`).

On EKS, aws-iam-authenticator sends the presigned GetCallerIdentity request to STS with the
header `x-k8s-aws-id: <its own cluster name>`, and STS checks the signature: a token made for
another cluster, a tampered URL or a wrong secret fails (kubernetes-sigs/aws-iam-authenticator
pkg/token/token.go, Verify). moto does not check signatures, so localcloud does it here, with
the secret of the token's access key as moto knows it (IAM access keys, STS session
credentials) or the pair `scripts/localcloud` exports (testing/testing).

Signature Version 4 with the signature in the query string
(https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html): the canonical
request is method, path, the sorted query without X-Amz-Signature, the signed headers, and the
payload hash; presigners use `UNSIGNED-PAYLOAD` (botocore) or the hash of the empty body
(aws-sigv4 with an empty signable body), so both are accepted.
"""
from __future__ import annotations

import hashlib
import hmac
import urllib.parse

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
KNOWN_SECRETS = {"testing": "testing"}  # what scripts/localcloud exports


def _quote(s: str) -> str:
    return urllib.parse.quote(s, safe="-_.~")


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def expected_signatures(url: urllib.parse.SplitResult, params: dict[str, str], headers: dict[str, str],
                        secret: str) -> list[str]:
    """The signatures a presigner holding `secret` could have produced for this URL."""
    credential = params["X-Amz-Credential"]
    _, date, region, service, terminator = credential.split("/")
    signed = params["X-Amz-SignedHeaders"].split(";")
    query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(params.items()) if k != "X-Amz-Signature")
    canonical_headers = "".join(f"{h}:{' '.join(headers.get(h, '').split())}\n" for h in signed)
    scope = f"{date}/{region}/{service}/{terminator}"
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    for part in (region, service, terminator):
        key = _hmac(key, part)
    out = []
    for payload in (UNSIGNED_PAYLOAD, EMPTY_SHA256):
        canonical = "\n".join(["GET", url.path or "/", query, canonical_headers, ";".join(signed), payload])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope,
                             hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
        out.append(hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest())
    return out


def valid(url: urllib.parse.SplitResult, params: dict[str, str], cluster: str, secret: str) -> bool:
    headers = {"host": url.netloc, "x-k8s-aws-id": cluster}
    got = params.get("X-Amz-Signature", "")
    try:
        return any(hmac.compare_digest(got, s) for s in expected_signatures(url, params, headers, secret))
    except (KeyError, ValueError):
        return False


def moto_secret(access_key_id: str) -> str | None:
    """The secret of an access key: localcloud's exported pair, or one moto issued in this process."""
    if access_key_id in KNOWN_SECRETS:
        return KNOWN_SECRETS[access_key_id]
    try:
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends
    except ImportError:
        return None
    for backends in (sts_backends, iam_backends):
        for account in list(backends.keys()):
            for backend in list(backends[account].values()):
                for role in getattr(backend, "assumed_roles", []):
                    if role.access_key_id == access_key_id:
                        return role.secret_access_key
                for user in list(getattr(backend, "users", {}).values()):
                    for key in user.access_keys:
                        if key.access_key_id == access_key_id:
                            return key.secret_access_key
    return None
