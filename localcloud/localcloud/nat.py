"""NAT gateway lifecycle that moto skips: pending -> available, deleting -> deleted,
ClientToken idempotency, and cleanup of the NAT's ENI and EIP association once deleted."""
import hashlib
import threading
import time

DEFAULT_ACCOUNT = "123456789012"  # moto's default account


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

    def created(self, region: str, nat_id: str, account: str = DEFAULT_ACCOUNT):
        with self._lock:
            self.nats[nat_id] = {"region": region, "ready_at": time.time() + self.profile.transition("natgateway.pending"),
                                 "gone_at": None, "finalized": False}
        self.mark_interface(region, nat_id, account)

    def mark_interface(self, region: str, nat_id: str, account: str):
        """The NAT gateway's ENI as AWS shows it (moto makes a plain "interface"): requester-managed,
        InterfaceType `nat_gateway`, described "Interface for NAT Gateway nat-…". EC2 user guide,
        "Requester-managed network interfaces": a NAT gateway's interface is created by the
        service on the account's behalf, and "when you delete the resource associated with a
        requester-managed network interface, the AWS service detaches the network interface and
        deletes it"; the EC2 API reference lists `nat_gateway` among NetworkInterface.InterfaceType."""
        try:
            from moto.ec2.models import ec2_backends  # the in-process moto that serves the EC2 API
            nat = self.clients.ec2(region).describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]
            for a in nat.get("NatGatewayAddresses", []):
                if a.get("NetworkInterfaceId"):
                    eni = ec2_backends[account][region].get_network_interface(a["NetworkInterfaceId"])
                    eni.description = f"Interface for NAT Gateway {nat_id}"
                    eni.interface_type = "nat_gateway"
                    eni.requester_managed = True
        except Exception as e:  # moto internals moved: the ENI stays a plain "interface"
            print(f"localcloud: cannot mark the interface of {nat_id}: {e!r}", flush=True)

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
                n["finalized"] = False  # tried again on the next tick
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
