"""API request throttling as AWS applies it: a token bucket per account, region and API family.

Off unless `serve --throttle` (tests and the bench's single-stack runs are not throttled); the
fleet scenario, where many stacks share one account, turns it on.

EC2 (Amazon EC2 developer guide, "Request throttling for the Amazon EC2 API",
https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): "Amazon EC2 throttles
EC2 API requests for each AWS account on a per-Region basis", with "the token bucket
algorithm": each request removes one token; "if the bucket is below its maximum capacity, a set
number of tokens is added back to it every second"; over the limit the answer is
`RequestLimitExceeded`. Its request token table: non-mutating actions (Describe*, List*,
Search*, Get*) a bucket of 100 refilled by 20 per second; mutating actions 200, refilled by 5.
(EC2 buckets are per API action for most actions; the families here are the table's rows, one
bucket per row, which is the stricter reading.)

EKS publishes no request rates (its API reference only documents `ThrottlingException`, HTTP
429, for a "service … throttling requests"); the figures below are an assumption, as close to
EC2's as its read-heavy pollers suggest, and configurable.

Each family's rates are `[bucket, refill per second]` in AWS time; with `--scale F` the refill
is F times faster, as every other AWS duration of the profile is F times shorter (a stack at
scale 60 makes its calls 60 times more densely).
"""
import threading
import time

# family -> (bucket size, refill tokens per second)
DEFAULT_RATES = {
    "ec2-describe": (100.0, 20.0),
    "ec2-mutating": (200.0, 5.0),
    "eks-describe": (100.0, 10.0),  # not published: assumed
    "eks-mutating": (50.0, 2.0),    # not published: assumed
}

READ_PREFIXES = ("Describe", "List", "Get", "Search")


def family(service: str, operation: str) -> str | None:
    """The throttled family of a call, or None for calls localcloud does not throttle."""
    if service not in ("ec2", "eks"):
        return None
    kind = "describe" if operation.startswith(READ_PREFIXES) else "mutating"
    return f"{service}-{kind}"


def error_for(service: str) -> tuple[str, str, int]:
    """The code, message and HTTP status AWS answers a throttled call of `service` with."""
    if service == "ec2":
        # EC2: "If you exceed an API throttling limit, you get the RequestLimitExceeded error code"
        # (a common client error of the EC2 error-code reference; 503 as faults.py answers it).
        return "RequestLimitExceeded", "Request limit exceeded.", 503
    # EKS ThrottlingException: "The request or operation couldn't be performed because a
    # service is throttling requests" (EKS API reference, Errors; HTTP 429).
    return "ThrottlingException", "Rate exceeded", 429


class Bucket:
    def __init__(self, size: float, refill: float, now: float):
        self.size = size
        self.refill = refill
        self.tokens = size
        self.at = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.size, self.tokens + (now - self.at) * self.refill)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Throttle:
    """Token buckets per (account, region, family). `rates` overrides DEFAULT_RATES per family;
    `scale` speeds the refill up as the profile speeds AWS time up."""

    def __init__(self, rates: dict | None = None, scale: float = 1.0, clock=time.monotonic):
        self.rates = {k: tuple(map(float, v)) for k, v in {**DEFAULT_RATES, **(rates or {})}.items()}
        self.scale = scale
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple, Bucket] = {}
        self.throttled = 0

    def admit(self, account: str, region: str, service: str, operation: str) -> bool:
        """Takes a token for the call; False when its bucket is empty (the call is refused)."""
        fam = family(service, operation)
        if fam is None or fam not in self.rates:
            return True
        size, refill = self.rates[fam]
        now = self.clock()
        with self._lock:
            key = (account, region, fam)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = Bucket(size, refill * self.scale, now)
            if bucket.take(now):
                return True
            self.throttled += 1
            return False

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self.throttled = 0

    def as_json(self) -> dict:
        return {"rates": {k: list(v) for k, v in self.rates.items()}, "scale": self.scale, "throttled": self.throttled}
