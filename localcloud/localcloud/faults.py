"""Fault injection rules.

A rule: {"service": "ec2", "operation": "CreateSubnet", "error": "Throttling",
         "status": 400, "message": "...", "probability": 0.5 | "nth": 3, "times": 2}
- service / operation: exact match, "*" or absent = any.
- probability: fire with that chance; nth: fire on the nth matching call only
  (1-based, counted per rule); neither: fire on every matching call.
- times: stop after firing that many times.

A hold rule has "hold": SECONDS instead of "error": the call takes effect, then its answer is
held back that long; "held" counts the calls that took effect (a call refused with an error,
e.g. a NotFound of EC2's eventual consistency, does not use the rule up). A test waits until held > 0
and kills its client: the object exists in AWS but the client never learnt its id (the crash
window every create has).

An error rule with "after": true carries the call out first and then answers with the error,
as when a response is lost on the way back: the client's retry finds the call already done
(e.g. a conditional S3 PUT that then fails its own precondition).

A rule for service "vpc-resource-controller", operation "DeleteNetworkInterface" (named
exactly; "*" does not reach it) makes the data plane leave pod branch ENIs behind (see
dataplane_sgp.py).
"""
import random
import threading

DEFAULT_STATUS = {
    "Throttling": 400, "ThrottlingException": 400, "RequestLimitExceeded": 503,
    "InternalError": 500, "InternalFailure": 500, "ServerException": 500,
    "ServiceUnavailable": 503, "ServiceUnavailableException": 503,
    "DependencyViolation": 400, "ResourceInUseException": 409,
    "AccessDeniedException": 400, "InternalErrorException": 500,
}


class FaultRules:
    def __init__(self):
        self._lock = threading.Lock()
        self._rules: list[dict] = []

    def set(self, rules: list[dict]) -> None:
        with self._lock:
            self._rules = []
        for r in rules:
            self.add(r)

    def add(self, rule: dict) -> dict:
        if "error" not in rule and "hold" not in rule:
            raise ValueError("a fault rule needs an 'error' code or a 'hold' in seconds")
        r = dict(rule)
        if "error" in r:
            r.setdefault("status", DEFAULT_STATUS.get(r["error"], 400))
            r.setdefault("message", f"localcloud injected fault: {r['error']}")
        else:
            r["hold"] = float(r["hold"])
        r["_seen"] = 0
        r["_fired"] = 0
        r["_held"] = 0
        with self._lock:
            self._rules.append(r)
        return r

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def list(self) -> list[dict]:
        with self._lock:
            return [{**{k: v for k, v in r.items() if not k.startswith("_")},
                     "seen": r["_seen"], "fired": r["_fired"], "held": r["_held"]} for r in self._rules]

    def took_effect(self, rule: dict) -> None:
        """A held call has been carried out; its answer is about to be held back."""
        with self._lock:
            rule["_held"] += 1

    def unfire(self, rule: dict) -> None:
        """A hold rule fired on a call that was refused: it did not take effect, so the rule
        waits for the next matching call (its `times` is not used up)."""
        with self._lock:
            rule["_fired"] -= 1

    def match(self, service: str, operation: str, exact_service: bool = False) -> dict | None:
        """The rule that fires for this call, if any (counts the call). With exact_service only
        rules naming `service` apply (internal components such as the data plane's
        "vpc-resource-controller" are not hit by catch-all rules)."""
        with self._lock:
            for r in self._rules:
                if r.get("service", "*") not in ((service,) if exact_service else ("*", service)):
                    continue
                if r.get("operation", "*") not in ("*", operation):
                    continue
                if "times" in r and r["_fired"] >= r["times"]:
                    continue
                r["_seen"] += 1
                if "nth" in r:
                    fire = r["_seen"] == r["nth"]
                elif "probability" in r:
                    fire = random.random() < float(r["probability"])
                else:
                    fire = True
                if fire:
                    r["_fired"] += 1
                    return r
        return None
