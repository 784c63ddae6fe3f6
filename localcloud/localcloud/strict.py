"""Switches between "AWS on a good day" (lenient, today's localcloud) and AWS as it is (strict).

Every behaviour below is one switch in GET/POST /_localcloud/config, `serve --strict` /
`--config JSON`, `scripts/localcloud up --strict` / `--config JSON`. The default is the lenient
value (what localcloud did before the switch existed), except under `--profile realistic`, which
is strict; `{"strict": true}` sets every switch to its
strict value, `{"strict": false}` back to the defaults. docs/aws-behaviour.md lists the AWS
sources; each module that implements a switch cites them again.

| switch                 | default | strict | module            |
|------------------------|---------|--------|-------------------|
| ec2_consistency        | false   | true   | ec2_strict.py     |
| addon_degraded         | false   | true   | eks_strict.py     |
| update_lag             | false   | true   | eks_strict.py     |
| token_expiry_scaled    | false   | true   | eks_strict.py + kube_auth.py |
| k8s_versions           | false   | true   | k8s_versions.py + eks_strict.py |
| tag_rules              | false   | true   | tag_rules.py      |
| auth_mode_rules        | false   | true   | eks_strict.py     |
| token_signature        | false   | true   | token_signature.py |
| token_local_sts        | true    | true   | kube_auth.py (strict leaves it on, see README) |
| addon_schema           | true    | true   | addons.py (already enforced before the switch) |

Parameters (not switched by "strict"; they shape a switch when it is on):
ec2_consistency_calls, ec2_consistency_seconds, addon_degraded_calls, update_lag_calls,
token_lifetime_seconds, k8s_calendar_date.
"""
from __future__ import annotations

import copy
import datetime
import threading

# name -> (default = lenient = today's behaviour, strict value)
SWITCHES: dict[str, tuple[bool, bool]] = {
    "ec2_consistency": (False, True),
    "addon_degraded": (False, True),
    "update_lag": (False, True),
    "token_expiry_scaled": (False, True),
    "k8s_versions": (False, True),
    "tag_rules": (False, True),
    "auth_mode_rules": (False, True),
    "token_signature": (False, True),
    # A token presigned for localcloud's own endpoint is what `aws eks get-token` makes while
    # AWS_ENDPOINT_URL points at localcloud (on AWS that variable is unset), so refusing it
    # would test the environment, not eksnet: strict keeps it accepted.
    "token_local_sts": (True, True),
    # Already enforced before the switches existed: strict and default agree.
    "addon_schema": (True, True),
}

# name -> default value
PARAMS: dict[str, object] = {
    "ec2_consistency_calls": 2,        # follow-up calls that do not see a new EC2 id yet
    "ec2_consistency_seconds": 0.0,    # ... and/or wall-clock seconds after the create
    "addon_degraded_calls": 2,         # EKS calls answered while vpc-cni is briefly DEGRADED
    "update_lag_calls": 1,             # EKS calls before an accepted update starts
    "token_lifetime_seconds": None,    # None: 900 s (scaled by --scale when token_expiry_scaled)
    "k8s_calendar_date": None,         # None: today (UTC); "YYYY-MM-DD" to pin the calendar
}

TOKEN_LIFETIME_SECONDS = 15 * 60  # aws-iam-authenticator pkg/token/token.go presignedURLExpiration


def _check_param(name: str, value):
    if name in ("ec2_consistency_calls", "addon_degraded_calls", "update_lag_calls"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0")
        return value
    if name in ("ec2_consistency_seconds", "token_lifetime_seconds"):
        if value is None and name == "token_lifetime_seconds":
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a number >= 0" + (" or null" if name == "token_lifetime_seconds" else ""))
        return float(value)
    if name == "k8s_calendar_date":
        if value is None:
            return None
        try:
            datetime.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError("k8s_calendar_date must be YYYY-MM-DD or null") from None
        return str(value)
    raise ValueError(f"unknown setting {name}")


class Settings:
    def __init__(self, strict: bool = False, overrides: dict | None = None):
        self._lock = threading.Lock()
        self._values: dict = {}
        self.apply({"strict": bool(strict), **(overrides or {})})
        self._initial = copy.deepcopy(self._values)

    def apply(self, body: dict) -> None:
        """Apply a config body: "strict" first (all switches), then individual keys."""
        if not isinstance(body, dict):
            raise ValueError("config must be a JSON object")
        new = copy.deepcopy(self._values) or {**{k: d for k, (d, _) in SWITCHES.items()}, **PARAMS}
        if "strict" in body:
            if not isinstance(body["strict"], bool):
                raise ValueError("strict must be true or false")
            for k, (default, strict) in SWITCHES.items():
                new[k] = strict if body["strict"] else default
        for k, v in body.items():
            if k == "strict":
                continue
            if k in SWITCHES:
                if not isinstance(v, bool):
                    raise ValueError(f"{k} must be true or false")
                new[k] = v
            elif k in PARAMS:
                new[k] = _check_param(k, v)
            elif k != "page_size":  # handled by the control API itself
                raise ValueError(f"unknown setting {k}; known: strict, {', '.join([*SWITCHES, *PARAMS])}")
        with self._lock:
            self._values = new

    def reset(self) -> None:
        with self._lock:
            self._values = copy.deepcopy(self._initial)

    def __getitem__(self, name: str):
        return self._values[name]

    def on(self, name: str) -> bool:
        return bool(self._values[name])

    def as_json(self) -> dict:
        v = dict(self._values)
        v["strict"] = all(v[k] == s for k, (_, s) in SWITCHES.items())
        return v

    # --- derived values -------------------------------------------------------------
    def token_lifetime(self, scale: float) -> float:
        """Seconds a token lives after its X-Amz-Date."""
        if self._values["token_lifetime_seconds"] is not None:
            return float(self._values["token_lifetime_seconds"])
        if self._values["token_expiry_scaled"]:
            return TOKEN_LIFETIME_SECONDS / scale
        return float(TOKEN_LIFETIME_SECONDS)

    def calendar_date(self) -> datetime.date:
        d = self._values["k8s_calendar_date"]
        return datetime.date.fromisoformat(d) if d else datetime.datetime.now(datetime.timezone.utc).date()
