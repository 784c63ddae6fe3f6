"""JSONL request log: one line per API call, so tests and benches can count calls."""
import datetime
import json
import threading


class RequestLog:
    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        open(path, "a").close()

    def log_request(self, service: str, operation: str, status: int, duration_ms: float,
                    extra: dict | None = None) -> None:
        entry = {
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
            "service": service,
            "operation": operation,
            "status": int(status),
            "duration_ms": round(float(duration_ms), 3),
        }
        if extra:
            for k, v in extra.items():
                entry.setdefault(k, v)
        line = json.dumps(entry, default=str) + "\n"
        with self._lock, open(self.path, "a") as f:
            f.write(line)

    def truncate(self) -> None:
        with self._lock:
            open(self.path, "w").close()
