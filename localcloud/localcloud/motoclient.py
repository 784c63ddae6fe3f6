"""boto3 clients that talk to moto directly (bypassing the front: no rules, no log)."""
import threading

import boto3
import botocore.config


class MotoClients:
    def __init__(self, moto_url: str):
        self.url = moto_url
        self._lock = threading.Lock()
        self._clients = {}
        self._session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")

    def get(self, service: str, region: str):
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._session.client(
                    service, region_name=region, endpoint_url=self.url,
                    config=botocore.config.Config(retries={"max_attempts": 1}))
            return self._clients[key]

    def ec2(self, region: str):
        return self.get("ec2", region)
