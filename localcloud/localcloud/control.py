"""HTTP control API on the front endpoint, under /_localcloud/ (not an AWS API).

GET    /_localcloud/health          {"ok": true, ...}
GET    /_localcloud/profile         effective (scaled) profile table
GET    /_localcloud/faults          rules with seen/fired counters
POST   /_localcloud/faults          add one rule (object) or several (array)
PUT    /_localcloud/faults          replace all rules (array)
DELETE /_localcloud/faults          remove all rules
GET    /_localcloud/config          {"page_size": N, "profile": ..., "scale": ..., <strict switches>}
POST   /_localcloud/config          {"page_size": N} and/or strict switches ({"strict": true}, see strict.py)
POST   /_localcloud/reset           forget all AWS + EKS state and fault rules (log kept)
POST   /_localcloud/ami-releases    {"kubernetes": "1.33"}: EKS publishes a newer AMI release (ami_releases.py)
POST   /_localcloud/insights        {"cluster", "kubernetesVersion", "reason"?, "recommendation"?, "usage"?}: an upgrade-insight finding (insights.py)
POST   /_localcloud/settle          end every open EC2 consistency window (as seconds passing on AWS)
GET    /_localcloud/throttle        the throttle's rates and calls refused (serve --throttle; throttle.py)
"""
import json

from localcloud.awserrors import Response


def _json(status, obj):
    return Response(status, json.dumps(obj, default=str).encode(), {"Content-Type": "application/json"})


class Control:
    def __init__(self, app):
        self.app = app

    def handle(self, req) -> Response:
        route = req.path[len("/_localcloud"):].strip("/")
        try:
            body = json.loads(req.body) if req.body else None
        except ValueError as e:
            return _json(400, {"error": f"body is not JSON: {e}"})
        app = self.app
        try:
            if route == "health":
                return _json(200, {"ok": True, "endpoint": app.endpoint, "profile": app.profile.name})
            if route == "profile":
                return _json(200, app.profile.as_json())
            if route == "faults":
                if req.method == "GET":
                    return _json(200, app.faults.list())
                if req.method == "DELETE":
                    app.faults.clear()
                    return _json(200, [])
                rules = body if isinstance(body, list) else [body]
                if req.method == "PUT":
                    app.faults.set(rules)
                else:
                    for r in rules:
                        app.faults.add(r)
                return _json(200, app.faults.list())
            if route == "config":
                if req.method == "POST" and body:
                    page_size = int(body["page_size"]) if "page_size" in body else None
                    app.settings.apply(body)
                    if page_size is not None:
                        app.page_size = page_size
                        app.front.page_size = page_size
                return _json(200, {"page_size": app.page_size, "profile": app.profile.name,
                                   "scale": app.profile.scale, **app.settings.as_json()})
            if route == "ami-releases" and req.method == "POST":
                from localcloud import ami_releases
                k8s = str((body or {}).get("kubernetes") or "")
                if not k8s.startswith("1."):
                    raise ValueError("give the Kubernetes version: {\"kubernetes\": \"1.33\"}")
                return _json(200, {"kubernetes": k8s, "release": ami_releases.publish(k8s),
                                   "releases": ami_releases.releases(k8s)})
            if route == "insights" and req.method == "POST":
                from localcloud import insights
                if not (body or {}).get("cluster") or not str(body.get("kubernetesVersion", "")).startswith("1."):
                    raise ValueError("give {\"cluster\": NAME, \"kubernetesVersion\": \"1.33\"}")
                insights.report(body["cluster"], str(body["kubernetesVersion"]), body)
                return _json(200, {"reported": True})
            if route == "throttle":
                return _json(200, app.throttle.as_json() if app.throttle else {"throttle": None})
            if route == "settle" and req.method == "POST":
                app.ec2.strict.reset()
                return _json(200, {"settled": True})
            if route == "reset" and req.method == "POST":
                app.reset()
                return _json(200, {"reset": True})
        except (ValueError, TypeError) as e:
            return _json(400, {"error": str(e)})
        return _json(404, {"error": f"no control route {req.method} {req.path}"})
