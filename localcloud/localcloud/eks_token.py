"""An EKS bearer token, as `aws eks get-token` makes it, printed as a kubectl ExecCredential.

    python -m localcloud.eks_token --cluster NAME [--region R]

The token is `k8s-aws-v1.` + base64url (no padding) of a presigned STS GetCallerIdentity URL
whose signature covers the `x-k8s-aws-id: <cluster>` header. Presigning makes no network call.
By default the URL names the real STS host (`sts.<region>.amazonaws.com`), never
AWS_ENDPOINT_URL: the API server (real EKS or localcloud's double) decides where to send it, and
EKS rejects any other host. `--sts-endpoint URL` presigns for another endpoint instead, which is
what `aws eks get-token` does while AWS_ENDPOINT_URL points at localcloud (botocore resolves the
STS endpoint from that variable); localcloud's double accepts such tokens for its own endpoint
(switch `token_local_sts`).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import sys

import botocore.session

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
# The presigned URL says 60 s, but EKS accepts a token for 15 min after X-Amz-Date;
# `aws eks get-token` reports 14 min so clients refresh before that.
URL_EXPIRES_SECONDS = 60
TOKEN_LIFETIME = datetime.timedelta(minutes=14)


def sts_host(region: str) -> str:
    return f"sts.{region}.amazonaws.com"


def presigned_url(cluster: str, region: str, session: botocore.session.Session | None = None,
                  endpoint_url: str | None = None) -> str:
    session = session or botocore.session.get_session()
    client = session.create_client(
        "sts", region_name=region, endpoint_url=endpoint_url or f"https://{sts_host(region)}"
    )

    def add_cluster_header(request, **_):
        request.headers.add_header(CLUSTER_ID_HEADER, cluster)

    client.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    return client.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=URL_EXPIRES_SECONDS, HttpMethod="GET"
    )


def token(cluster: str, region: str, session: botocore.session.Session | None = None,
          endpoint_url: str | None = None) -> str:
    url = presigned_url(cluster, region, session, endpoint_url)
    encoded = base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")
    return TOKEN_PREFIX + encoded


def exec_credential(cluster: str, region: str, endpoint_url: str | None = None) -> dict:
    expires = datetime.datetime.now(datetime.timezone.utc) + TOKEN_LIFETIME
    return {
        "kind": "ExecCredential",
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "spec": {},
        "status": {
            "expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "token": token(cluster, region, endpoint_url=endpoint_url),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud.eks_token", description=__doc__)
    parser.add_argument("--cluster", "--cluster-name", dest="cluster", required=True)
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    )
    parser.add_argument("--sts-endpoint", help="presign for this STS endpoint instead of sts.<region>.amazonaws.com")
    args = parser.parse_args(argv)
    json.dump(exec_credential(args.cluster, args.region, args.sts_endpoint), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
