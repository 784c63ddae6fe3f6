"""NAT gateway lifecycle that moto skips: pending -> available, deleting -> deleted,
ClientToken idempotency, and cleanup of the NAT's ENI and EIP association once deleted."""
import hashlib
import threading
import time


class NatTracker:
    def __init__(self, clients, profile):
        self.clients = clients
        self.profile = profile
        self._lock = threading.Lock()
        self.nats = {}     # nat id -> {region, ready_at, gone_at, finalized}
        self.tokens = {}   # (region, client token) -> (nat id, params fingerprint)

    @staticmethod
    def params_fingerprint(params: dict) -> str:
        rest = {k: v for k, v in sorted(params.items()) if k not in ("ClientToken", "Version")}
        return hashlib.sha1(repr(rest).encode()).hexdigest()

    def created(self, region: str, nat_id: str):
        with self._lock:
            self.nats[nat_id] = {"region": region, "ready_at": time.time() + self.profile.transition("natgateway.pending"),
                                 "gone_at": None, "finalized": False}

    def deleting(self, nat_id: str, region: str):
        with self._lock:
            n = self.nats.setdefault(nat_id, {"region": region, "ready_at": 0, "gone_at": None, "finalized": False})
            if n["gone_at"] is None:
                n["gone_at"] = time.time() + self.profile.transition("natgateway.deleting")
        self.tick()

    def state(self, nat_id: str, moto_state: str) -> str:
        n = self.nats.get(nat_id)
        if n is None:
            return moto_state
        now = time.time()
        if n["gone_at"] is not None:
            return "deleted" if now >= n["gone_at"] else "deleting"
        return "pending" if now < n["ready_at"] else "available"

    def live_in(self, region: str) -> set:
        """NAT ids (known to localcloud) that are not yet `deleted`."""
        return {i for i, n in self.nats.items() if n["region"] == region and self.state(i, "") != "deleted"}

    def tick(self):
        """Finish deletions whose time has come: free the EIP and remove the NAT's ENI."""
        now = time.time()
        with self._lock:
            due = [(i, n) for i, n in self.nats.items()
                   if n["gone_at"] is not None and now >= n["gone_at"] and not n["finalized"]]
            for _, n in due:
                n["finalized"] = True
        for nat_id, n in due:
            ec2 = self.clients.ec2(n["region"])
            try:
                nat = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]
            except Exception:
                continue
            for a in nat.get("NatGatewayAddresses", []):
                if a.get("AllocationId"):
                    for addr in ec2.describe_addresses(AllocationIds=[a["AllocationId"]]).get("Addresses", []):
                        if addr.get("AssociationId"):
                            try:
                                ec2.disassociate_address(AssociationId=addr["AssociationId"])
                            except Exception:
                                pass
                if a.get("NetworkInterfaceId"):
                    try:
                        ec2.delete_network_interface(NetworkInterfaceId=a["NetworkInterfaceId"])
                    except Exception:
                        pass
