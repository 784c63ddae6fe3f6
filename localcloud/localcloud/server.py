"""Entry point: `python -m localcloud serve --dir DIR [--profile P] [--scale F] [--page-size N] [--faults FILE]
[--strict] [--config JSON]`.

Starts moto in-process, the front endpoint and a transition ticker; writes DIR/server.json
once ready; stops cleanly on SIGTERM/SIGINT.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time

os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # before moto is imported

from localcloud import ami_releases, insights  # noqa: E402
from localcloud.control import Control  # noqa: E402
from localcloud.ec2 import Ec2  # noqa: E402
from localcloud.eks import Eks  # noqa: E402
from localcloud.faults import FaultRules  # noqa: E402
from localcloud.front import Front  # noqa: E402
from localcloud.motoclient import MotoClients  # noqa: E402
from localcloud.profiles import Profile  # noqa: E402
from localcloud.requestlog import RequestLog  # noqa: E402
from localcloud.strict import Settings  # noqa: E402
from localcloud.throttle import Throttle  # noqa: E402


class App:
    def __init__(self, args):
        from moto.server import ThreadedMotoServer

        from localcloud import moto_speed

        moto_speed.install()

        os.makedirs(args.dir, exist_ok=True)
        self.dir = args.dir
        self.profile = Profile(args.profile, args.scale)
        self.page_size = args.page_size
        # The `realistic` profile is AWS as it is: its latencies and its strict behaviours
        # (docs/aws-behaviour.md); `--config` still turns single switches off.
        self.settings = Settings(args.strict or args.profile == "realistic", json.loads(args.config) if args.config else None)
        self.log = RequestLog(os.path.join(args.dir, "requests.jsonl"))
        self.faults = FaultRules()
        # AWS's API rate limits (throttle.py): off unless asked for
        self.throttle = Throttle(json.loads(args.throttle_rates) if args.throttle_rates else None, args.scale) if args.throttle else None
        if args.faults:
            with open(args.faults) as f:
                rules = json.load(f)
            self.faults.set(rules if isinstance(rules, list) else [rules])
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.moto_url = f"http://{host}:{port}"
        self.clients = MotoClients(self.moto_url)
        self.endpoint = None
        self.ec2 = Ec2(self.clients, self.profile, self.settings)
        self.eks = Eks(self.clients, self.profile, lambda: self.page_size, lambda: self.endpoint,
                       self.log.log_request, self.settings)
        self.eks.faults = self.faults  # the data plane's leave-behind rules (dataplane_sgp)
        self.front = Front(self.moto_url, self.profile, self.page_size, self.log, self.faults,
                           self.ec2, self.eks, Control(self), self.throttle)
        self.endpoint = f"http://127.0.0.1:{self.front.serve(args.port)}"
        self._stop = threading.Event()
        threading.Thread(target=self._ticker, daemon=True, name="ticker").start()

    def _ticker(self):
        while not self._stop.wait(0.2):
            for part in (self.ec2, self.eks):
                try:
                    part.tick()
                except Exception as e:  # keep ticking; a failed transition is retried
                    print(f"localcloud: tick failed: {e}", flush=True)

    def reset(self):
        import urllib.request
        self.eks.reset()
        ami_releases.reset()
        insights.reset()
        self.ec2.nats.nats.clear()
        self.ec2.nats.tokens.clear()
        self.faults.clear()
        if self.throttle:
            self.throttle.reset()
        self.settings.reset()
        self.ec2.strict.reset()
        urllib.request.urlopen(urllib.request.Request(self.moto_url + "/moto-api/reset", method="POST")).read()

    def stop(self):
        self._stop.set()
        self.eks.reset()
        self.front.stop()
        self.moto.stop()


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m localcloud")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--dir", required=True)
    s.add_argument("--profile", default="none")
    s.add_argument("--scale", type=float, default=1.0)
    s.add_argument("--page-size", type=int, default=5)
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--faults")
    s.add_argument("--strict", action="store_true", help="every AWS-strict behaviour on (see strict.py)")
    s.add_argument("--config", help="JSON object of strict switches/parameters (see strict.py)")
    s.add_argument("--throttle", action="store_true", help="throttle API calls as AWS does (see throttle.py)")
    s.add_argument("--throttle-rates", help='JSON {"family": [bucket, refill per second]} over throttle.py DEFAULT_RATES')
    args = p.parse_args(argv)
    app = App(args)
    info = {"endpoint": app.endpoint, "moto": app.moto_url, "pid": os.getpid(), "profile": app.profile.name,
            "scale": app.profile.scale, "page_size": app.page_size, "strict": app.settings.as_json()["strict"],
            "throttle": app.throttle.as_json() if app.throttle else None,
            "request_log": os.path.join(args.dir, "requests.jsonl")}
    tmp = os.path.join(args.dir, "server.json.tmp")
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.replace(tmp, os.path.join(args.dir, "server.json"))
    print(f"localcloud ready: {json.dumps(info)}", flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(1):
        pass
    app.stop()
    try:
        os.remove(os.path.join(args.dir, "server.json"))
    except FileNotFoundError:
        pass
    sys.exit(0)
