"""eksnet bench: apply, no-change plan and destroy of the bench stacks against localcloud's
`realistic` latency profile, scaled down, compared with the critical path of the graph.

Run through scripts/bench (which builds eksnet first). Standard library only. Not a test: it
prints figures and writes them as JSON; it fails only when a command fails.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The calls one resource needs, in order, to be created / deleted (the ones a perfect tool
# cannot avoid), and the profile transition it then waits out. Reads a waiter must make
# to see the transition end count once (`observe`). Calls a resource makes concurrently
# (e.g. policies attached in parallel) are listed once.
KINDS = {
    "vpc": {"create": ["ec2.CreateVpc", "ec2.ModifyVpcAttribute", "ec2.ModifyVpcAttribute"], "delete": ["ec2.DeleteVpc"]},
    "vpc_cidr": {"create": ["ec2.AssociateVpcCidrBlock"], "delete": ["ec2.DisassociateVpcCidrBlock"]},
    "subnet": {"create": ["ec2.CreateSubnet"], "delete": ["ec2.DeleteSubnet"]},
    "internet_gateway": {"create": ["ec2.CreateInternetGateway", "ec2.AttachInternetGateway"],
                         "delete": ["ec2.DetachInternetGateway", "ec2.DeleteInternetGateway"]},
    "elastic_ip": {"create": ["ec2.AllocateAddress"], "delete": ["ec2.ReleaseAddress"]},
    "nat_gateway": {"create": ["ec2.CreateNatGateway"], "create_wait": "natgateway.pending", "create_observe": "ec2.DescribeNatGateways",
                    "delete": ["ec2.DeleteNatGateway"], "delete_wait": "natgateway.deleting", "delete_observe": "ec2.DescribeNatGateways"},
    "route_table": {"create": ["ec2.CreateRouteTable", "ec2.CreateRoute"], "delete": ["ec2.DeleteRouteTable"]},
    "route_table_association": {"create": ["ec2.AssociateRouteTable"], "delete": ["ec2.DisassociateRouteTable"]},
    "security_group": {"create": ["ec2.CreateSecurityGroup"], "delete": ["ec2.DeleteSecurityGroup"]},
    "security_group_rules": {"create": ["ec2.AuthorizeSecurityGroupIngress"], "delete": ["ec2.RevokeSecurityGroupIngress"]},
    "iam_role": {"create": ["iam.CreateRole", "iam.AttachRolePolicy"], "delete": ["iam.DetachRolePolicy", "iam.DeleteRole"]},
    "eks_cluster": {"create": ["eks.CreateCluster"], "create_wait": "cluster.CREATING", "create_observe": "eks.DescribeCluster",
                    "delete": ["eks.DeleteCluster"], "delete_wait": "cluster.DELETING", "delete_observe": "eks.DescribeCluster"},
    "eks_access_entry": {"create": ["eks.CreateAccessEntry", "eks.AssociateAccessPolicy"], "delete": ["eks.DeleteAccessEntry"]},
    "eks_addon": {"create": ["eks.CreateAddon"], "create_wait": "addon.CREATING", "create_observe": "eks.DescribeAddon",
                  "delete": ["eks.DeleteAddon"], "delete_wait": "addon.DELETING", "delete_observe": "eks.DescribeAddon"},
    "eks_nodegroup": {"create": ["eks.CreateNodegroup"], "create_wait": "nodegroup.CREATING", "create_observe": "eks.DescribeNodegroup",
                      "delete": ["eks.DeleteNodegroup"], "delete_wait": "nodegroup.DELETING", "delete_observe": "eks.DescribeNodegroup"},
    # Kubernetes objects: one server-side apply / one delete; a namespace then terminates
    # (the Kubernetes double finalizes it after NAMESPACE_FINALIZE_S, unscaled).
    "k8s_manifest": {"create": ["kube.PATCH"], "delete": ["kube.DELETE"]},
}
NAMESPACE_FINALIZE_S = 0.5  # localcloud/localcloud/kube_api.py namespace_finalize_delay_s
# localcloud applies EKS transitions on a ticker (localcloud/localcloud/server.py, every 0.2 s):
# a cluster, nodegroup or add-on shows its new status on the first tick after its time is up,
# between 0 and one tick late, whoever polls. The critical path is a lower bound: it counts 0.

DEFAULT_POLL = 5.0  # eksnet's default --poll-interval, seconds

# The waits eksnet makes, by the profile's transition: its Transition in src/resources/wait.rs
# (whose SHAPES table the lag model reads), the call that starts it and the call that polls it.
WAITS = {
    "cluster.CREATING": ("ClusterCreate", "eks.CreateCluster", "eks.DescribeCluster"),
    "cluster.DELETING": ("ClusterDelete", "eks.DeleteCluster", "eks.DescribeCluster"),
    "nodegroup.CREATING": ("NodegroupCreate", "eks.CreateNodegroup", "eks.DescribeNodegroup"),
    "nodegroup.DELETING": ("NodegroupDelete", "eks.DeleteNodegroup", "eks.DescribeNodegroup"),
    "addon.CREATING": ("AddonCreate", "eks.CreateAddon", "eks.DescribeAddon"),
    "addon.DELETING": ("AddonDelete", "eks.DeleteAddon", "eks.DescribeAddon"),
    "natgateway.pending": ("NatGatewayCreate", "ec2.CreateNatGateway", "ec2.DescribeNatGateways"),
    "natgateway.deleting": ("NatGatewayDelete", "ec2.DeleteNatGateway", "ec2.DescribeNatGateways"),
}
# Targets of issue 22 at real durations (measured at any scale: polls do not depend on it).
CLUSTER_CREATE_POLLS = 40
AWS_CALLS = 120  # per apply and per destroy of the reference stack
MEAN_LAG_S = 2.5


def shapes():
    """eksnet's expected shapes (src/resources/wait.rs SHAPES, the one table): per Transition,
    (probe, likely_from, likely_until) in AWS seconds, and SPARSE_POLLS."""
    text = open(os.path.join(REPO, "src/resources/wait.rs")).read()
    sparse = int(re.search(r"pub const SPARSE_POLLS: u32 = (\d+);", text).group(1))
    num = r"(\d+(?:\s*\*\s*\d+)?)"
    table = {}
    for m in re.finditer(rf"Shape {{ transition: Transition::(\w+), probe: {num}, likely_from: {num}, likely_until: {num} }}", text):
        table[m.group(1)] = tuple(eval(g, {"__builtins__": {}}) for g in m.groups()[1:])  # "8 * 60"
    return table, sparse


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- stacks

def synthetic_stack(groups):
    """A network-only stack with `groups` security groups (each with its rules: 2 resources),
    every group allowing 443 from the previous one, on a 6-AZ, 3-tier VPC."""
    out = [
        "# Generated by bench/bench.py: the synthetic large stack (not hand-written).\n",
        "name: bench-synthetic\n",
        "region: us-east-1\n",
        "availability_zone_count: 6\n",
        "vpc: {cidr: 10.0.0.0/16, secondary_cidrs: [100.64.0.0/16]}\n",
        "subnets:\n",
        "  private: {derive: {from: 10.0.0.0/16, prefix: 20, start: 0}}\n",
        "  public: {derive: {from: 10.0.0.0/16, prefix: 24, start: 200}}\n",
        "  intra: {derive: {from: 100.64.0.0/16, prefix: 20, start: 0}}\n",
        "nat: {public: single, private: single}\n",
        "security_groups:\n",
    ]
    for i in range(groups):
        out.append(f"  g{i:03d}:\n")
        out.append(f"    description: synthetic group {i}\n")
        out.append("    ingress:\n")
        out.append("      - {protocol: tcp, ports: 443, cidrs: [10.0.0.0/16]}\n")
        if i > 0:
            out.append(f"      - {{protocol: tcp, ports: \"8000-8080\", security_group: g{i - 1:03d}}}\n")
        out.append("    egress:\n")
        out.append("      - {protocol: all, cidrs: [0.0.0.0/0]}\n")
    return "".join(out)


# ---------------------------------------------------------------- graph and critical path

def parse_dot(text):
    strings = r'"((?:[^"\\]|\\.)*)"'
    nodes, edges = [], []
    for line in text.splitlines():
        m = re.fullmatch(rf"\s*{strings}\s*->\s*{strings};", line)
        if m:
            edges.append((json.loads(f'"{m.group(1)}"'), json.loads(f'"{m.group(2)}"')))
            continue
        m = re.fullmatch(rf"\s*{strings};", line)
        if m:
            nodes.append(json.loads(f'"{m.group(1)}"'))
    return nodes, edges  # edge: dependency -> dependent


def mean_latency(profile, op, served=None):
    """Seconds one call of `op` takes: as served in this run (the fastest in the request log:
    the profile's latency plus the emulator's own work, a lower bound), else the profile's mean."""
    if served and served.get(op):
        return min(served[op])
    if op.startswith("kube."):
        return 0.0
    lo, hi = profile["operations"].get(op, profile["default_operation"])
    return (lo + hi) / 2


def node_cost(profile, node, verb, served=None, done=None):
    """Seconds `node` needs at least: its calls and the transition it waits out. With `done`
    (the kinds this run created / deleted every object of, from the request log), a node of
    another kind costs nothing: a lower bound does not charge for what the run did not do
    (e.g. a cluster whose delete never ran)."""
    kind = node.split(".", 1)[0]
    if done is not None and kind not in done:
        return 0.0
    spec = KINDS.get(kind, {"create": [], "delete": []})
    cost = sum(mean_latency(profile, op, served) for op in spec[verb])
    if spec.get(f"{verb}_wait"):
        cost += profile["transitions"].get(spec[f"{verb}_wait"], 0.0)
        cost += mean_latency(profile, spec[f"{verb}_observe"], served)
    if verb == "delete" and node.startswith("k8s_manifest.namespace["):
        cost += NAMESPACE_FINALIZE_S
    return cost


def kinds_done(nodes, verb, served):
    """The kinds whose every node this run made its first call for (as many calls as nodes)."""
    count = {}
    for n in nodes:
        kind = n.split(".", 1)[0]
        count[kind] = count.get(kind, 0) + 1
    done = set()
    for kind, n in count.items():
        ops = KINDS.get(kind, {}).get(verb)
        if not ops:
            done.add(kind)  # no calls of its own to check
            continue
        op = "kube.PATCH" if ops[0] == "kube.PATCH" else "kube.DELETE" if ops[0] == "kube.DELETE" else ops[0]
        if len(served.get(op, [])) >= n:
            done.add(kind)
    return done


def critical_path(profile, nodes, edges, verb, served=None, done=None):
    """Longest path (seconds) through the graph, each node weighted by its cost (its calls and
    the transition it waits out), plus one round of reads (what any tool does first: find
    out what exists). Destroy walks the edges backwards. With `served` (durations per
    operation from the request log), calls cost what they cost in this run; without, the
    profile's means."""
    deps = {n: [] for n in nodes}
    for a, b in edges:
        if verb == "create":
            deps[b].append(a)
        else:
            deps[a].append(b)
    finish, via = {}, {}

    def visit(n):
        if n in finish:
            return finish[n]
        start = 0.0
        for d in deps[n]:
            if visit(d) > start:
                start, via[n] = finish[d], d
        finish[n] = start + node_cost(profile, n, verb, served, done)
        return finish[n]

    sys.setrecursionlimit(10000)
    end = max(nodes, key=visit) if nodes else None
    path = []
    while end is not None:
        path.append(end)
        end = via.get(end)
    read_round = mean_latency(profile, "ec2.DescribeVpcs", served)
    return (finish[path[0]] if path else 0.0) + read_round, list(reversed(path))


def poll_times(shape, sparse, cap=DEFAULT_POLL):
    """eksnet's polls of a wait of this shape (src/resources/wait.rs `Schedule::Shaped`): the
    probe, `sparse` evenly spaced polls up to likely_from, then every `cap`; yields forever."""
    probe, likely_from, _ = shape
    dense_from = max(likely_from, probe)
    for n in range(sparse + 1):
        yield probe + (dense_from - probe) * n / sparse
    t = dense_from
    while True:
        t += cap
        yield t


def real_scale_waits(transition, shape, sparse):
    """(polls, lag) of a wait of `transition` AWS seconds at real scale, default polling."""
    for i, t in enumerate(poll_times(shape, sparse)):
        if t >= transition:
            return i + 1, t - transition


def window_mean_lag(shape, sparse):
    """Mean lag over transitions ending anywhere in the shape's likely window (every 0.1 s)."""
    _, lo, hi = shape
    lags = [real_scale_waits(lo + (i + 0.5) / 10, shape, sparse)[1] for i in range(int((hi - lo) * 10))]
    return sum(lags) / len(lags)


# ---------------------------------------------------------------- running things

class Localcloud:
    def __init__(self, directory, scale, page_size, throttle=False):
        self.dir = directory
        self.scale = scale
        self.page_size = page_size
        self.throttle = throttle
        self.env = {}

    def __enter__(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        out = subprocess.run(
            [os.path.join(REPO, "scripts/localcloud"), "up", "--dir", self.dir, "--profile", "realistic",
             "--scale", str(self.scale), "--page-size", str(self.page_size)] + (["--throttle"] if self.throttle else []),
            check=True, capture_output=True, text=True)
        for line in out.stdout.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            self.env[key] = value
        return self

    def __exit__(self, *exc):
        subprocess.run([os.path.join(REPO, "scripts/localcloud"), "down", "--dir", self.dir], capture_output=True)

    def profile(self):
        with urllib.request.urlopen(self.env["AWS_ENDPOINT_URL"] + "/_localcloud/profile", timeout=30) as r:
            return json.load(r)

    def throttle_state(self):
        with urllib.request.urlopen(self.env["AWS_ENDPOINT_URL"] + "/_localcloud/throttle", timeout=30) as r:
            return json.load(r)

    def log_lines(self):
        try:
            with open(self.env["LOCALCLOUD_REQUEST_LOG"]) as f:
                return f.readlines()
        except FileNotFoundError:
            return []


def run_measured(argv, env=None, cwd=None):
    """Runs a command; returns (exit code, wall seconds, peak RSS MiB of that process, stdout, stderr)."""
    start = time.perf_counter()
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # wait4 gives the peak RSS of this child alone (ru_maxrss, KiB on Linux)
    out, err = [], []
    import threading
    ts = [threading.Thread(target=lambda s, b: b.append(s.read()), args=(p.stdout, out)),
          threading.Thread(target=lambda s, b: b.append(s.read()), args=(p.stderr, err))]
    for t in ts:
        t.start()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    for t in ts:
        t.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, wall, usage.ru_maxrss / 1024, "".join(out), "".join(err)


def quick_wall(argv, runs):
    """Median wall seconds of `argv` (output discarded), spawned with as little of Python's own
    overhead as possible (posix_spawn, no pipes): for the sub-10-ms figures."""
    walls = []
    devnull = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    for _ in range(runs):
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        _, status = os.waitpid(pid, 0)
        walls.append(time.perf_counter() - start)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(argv)} failed")
    os.close(devnull)
    return statistics.median(walls)


READ = re.compile(r"^(Describe|List|Get)")


def refused_of(lines):
    """AWS calls answered with an error that are not throttling: under the strict `realistic`
    profile mostly the eventual-consistency window's NotFound for an id just created (each new
    EC2 id unseen for 2 calls: localcloud/localcloud/strict.py), which eksnet retries."""
    n = 0
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        n += rec.get("service") != "kube" and rec.get("status", 200) >= 400 and not rec.get("throttled")
    return n


def calls_of(lines):
    """API calls by service.operation; reads made after the first change (waiter polls and
    read-backs) counted apart."""
    by_op, polls_by_op, served = {}, {}, {}
    changed = False
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        key = f"{rec.get('service')}.{rec.get('operation')}"
        by_op[key] = by_op.get(key, 0) + 1
        # Kubernetes operations name the object ("PATCH v1 namespaces x"): keyed by method
        kind = f"kube.{str(rec.get('operation')).split(' ')[0]}" if rec.get("service") == "kube" else key
        served.setdefault(kind, []).append(rec.get("duration_ms", 0.0) / 1000)
        if not READ.match(str(rec.get("operation"))) and rec.get("service") != "kube":
            changed = True
        elif changed and READ.match(str(rec.get("operation"))):
            polls_by_op[key] = polls_by_op.get(key, 0) + 1
    return dict(sorted(by_op.items())), dict(sorted(polls_by_op.items())), served


# ---------------------------------------------------------------- one stack

def bench_stack(name, stack_path, eksnet, args, workdir):
    result = {"stack": name, "file": os.path.relpath(stack_path, REPO)}
    poll = DEFAULT_POLL / args.scale
    lcdir = os.path.join(workdir, name)
    state = os.path.join(lcdir, "eksnet.state.json")

    def eksnet_argv(*cmd):
        return [eksnet, "-f", stack_path, "--state", state, "--poll-interval", f"{poll * 1000:.0f}ms", "--aws-time-scale", str(args.scale),
                "--parallelism", str(args.parallelism), *cmd]

    code, wall, _, dot, err = run_measured([eksnet, "-f", stack_path, "graph"])
    if code != 0:
        raise SystemExit(f"eksnet graph {stack_path} failed:\n{err}")
    nodes, edges = parse_dot(dot)
    kinds = sorted({n.split(".", 1)[0] for n in nodes})
    result.update(resources=len(nodes), edges=len(edges), kinds=kinds)

    result["validate_s"] = quick_wall([eksnet, "-f", stack_path, "validate"], 9)

    with Localcloud(lcdir, args.scale, args.page_size) as lc:
        env = dict(os.environ, **lc.env)
        profile = lc.profile()
        result["profile"] = {"scale": profile["scale"], "transitions": profile["transitions"]}
        # moto builds a region's backends on the first call (seconds): a plan first, unmeasured,
        # as a user would run one
        code, wall, _, _, err = run_measured(eksnet_argv("plan"), env=env)
        if code != 0:
            raise SystemExit(f"eksnet plan of {name} exited {code}:\n{err[-4000:]}")
        result["warmup_plan_s"] = wall
        for phase, cmd in [("apply", ["apply", "--auto-approve"]), ("plan", ["plan", "--detailed-exitcode"]),
                           ("destroy", ["destroy", "--auto-approve"])]:
            before = len(lc.log_lines())
            log(f"  {name}: eksnet {' '.join(cmd)}")
            code, wall, rss, out, err = run_measured(eksnet_argv(*cmd), env=env)
            with open(os.path.join(lcdir, f"{phase}.log"), "w") as f:
                f.write(out + err)
            if code != 0:
                raise SystemExit(f"eksnet {' '.join(cmd)} of {name} exited {code}:\n{err[-4000:]}")
            by_op, polls, served = calls_of(lc.log_lines()[before:])
            r = {"wall_s": wall, "peak_rss_mib": rss, "api_calls": sum(by_op.values()), "aws_refused": refused_of(lc.log_lines()[before:]),
                 "aws_calls": sum(v for k, v in by_op.items() if not k.startswith("kube.")), "calls_by_operation": by_op,
                 # seconds localcloud spent serving (summed over concurrent calls): when it exceeds
                 # wall × parallelism the emulator, not the graph, bounds the run
                 "served_s": sum(sum(v) for v in served.values())}
            if phase == "plan":
                r["kinds"] = len(kinds)
                r["bound_2x_kinds"] = 2 * len(kinds)
            else:
                verb = "create" if phase == "apply" else "delete"
                done = kinds_done(nodes, verb, served)
                cp, path = critical_path(profile, nodes, edges, verb, served, done)
                pure, _ = critical_path(profile, nodes, edges, verb, done=done)
                # polls per wait: the polls of each waited operation over the waits started
                waits = {}
                for key, (transition, start, observe) in WAITS.items():
                    started = by_op.get(start, 0)
                    if started:
                        waits[key] = {"transition": transition, "waits": started, "observe": observe}
                for w in waits.values():
                    shared = sum(x["waits"] for x in waits.values() if x["observe"] == w["observe"])
                    w["polls_per_wait"] = polls.get(w["observe"], 0) / shared
                r.update(critical_path_s=cp, ratio=wall / cp if cp else None, critical_path=path,
                         profile_critical_path_s=pure, profile_ratio=wall / pure if pure else None,
                         kinds_not_done=sorted({n.split(".", 1)[0] for n in nodes} - done),
                         polls=sum(polls.values()), polls_by_operation=polls, waits=waits)
            result[phase] = r
    return result


# ---------------------------------------------------------------- many stacks, one account

# Issue 22's targets for the fleet: the slowest of N concurrent stacks within 1.2 × one stack
# alone, and under 5 % of all calls throttled.
FLEET_SLOWEST_RATIO = 1.2
FLEET_THROTTLED_SHARE = 0.05


def fleet_stack(name):
    """The reference stack renamed (stack, cluster and tags) so that many can live in one account
    and region; its manifest templates by absolute path (the file is written elsewhere)."""
    text = open(os.path.join(REPO, "stacks/custom-networking.yaml")).read()
    text = text.replace("name: cni-custom-networking-demo", f"name: {name}")
    text = text.replace("project: cni-custom-networking-demo", f"project: {name}")
    text = text.replace("name: CNICustomNetworkDemoEKS", f"name: {name}")
    text = text.replace("../templates/", os.path.join(REPO, "templates") + "/")
    if f"name: {name}" not in text:
        raise SystemExit("bench: the reference stack changed shape; update fleet_stack()")
    return text


def phase_calls(lines):
    """(calls, AWS calls, throttled calls) of a slice of the request log."""
    calls = aws = throttled = 0
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        calls += 1
        if rec.get("service") != "kube":
            aws += 1
        if rec.get("throttled"):
            throttled += 1
    return calls, aws, throttled


def served_median_ms(lines):
    """localcloud's median time to answer a call: when it grows with the number of stacks,
    the emulator (one Python process) bounds the run, not AWS's throttling."""
    durations = []
    for line in lines:
        try:
            durations.append(json.loads(line).get("duration_ms", 0.0))
        except ValueError:
            continue
    return statistics.median(durations) if durations else 0.0


def bench_fleet(eksnet, args, workdir):
    """N copies of the reference stack applied, then destroyed, all at once in one account and
    region of a throttling localcloud (throttle.py: token buckets per account, region and API
    family, refilled `scale` times faster as AWS time runs `scale` times faster), against one
    copy alone in the same localcloud first."""
    n, scale = args.fleet, args.fleet_scale
    lcdir = os.path.join(workdir, "fleet")
    poll = DEFAULT_POLL / scale
    result = {"stacks": n, "scale": scale, "retry_mode": args.fleet_retry_mode}
    with Localcloud(lcdir, scale, args.page_size, throttle=True) as lc:
        env = dict(os.environ, **lc.env)
        result["throttle"] = lc.throttle_state()

        def argv(name, *cmd):
            path = os.path.join(lcdir, f"{name}.yaml")
            if not os.path.exists(path):
                with open(path, "w") as f:
                    f.write(fleet_stack(name))
            return [eksnet, "-f", path, "--state", os.path.join(lcdir, f"{name}.state.json"), "--poll-interval", f"{poll * 1000:.0f}ms",
                    "--aws-time-scale", str(scale), "--parallelism", str(args.parallelism), "--retry-mode", args.fleet_retry_mode, *cmd]

        def run_all(names, *cmd):
            """Runs `eksnet cmd` for every name at once; returns (phase wall, {name: wall}, request-log slice)."""
            import threading
            before = len(lc.log_lines())
            walls, failures = {}, []

            def one(name):
                code, wall, _, out, err = run_measured(argv(name, *cmd), env=env)
                with open(os.path.join(lcdir, f"{name}.{cmd[0]}.log"), "w") as f:
                    f.write(out + err)
                walls[name] = wall
                if code != 0:
                    failures.append(f"eksnet {' '.join(cmd)} of {name} exited {code}:\n{err[-3000:]}")

            start = time.perf_counter()
            threads = [threading.Thread(target=one, args=(name,)) for name in names]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
            if failures:
                raise SystemExit("\n".join(failures))
            return wall, walls, lc.log_lines()[before:]

        # moto builds a region's backends on the first call: one plan first, unmeasured
        run_all(["fleet-warmup"], "plan")
        for phase, cmd in [("apply", ("apply", "--auto-approve")), ("destroy", ("destroy", "--auto-approve"))]:
            log(f"  fleet: one stack alone: eksnet {' '.join(cmd)}")
            _, walls, lines = run_all(["fleet-solo"], *cmd)
            calls, aws, throttled = phase_calls(lines)
            result.setdefault("single", {})[phase] = {"wall_s": walls["fleet-solo"], "calls": calls, "aws_calls": aws, "throttled": throttled,
                                                      "served_median_ms": served_median_ms(lines)}
        names = [f"fleet-{i:02d}" for i in range(1, n + 1)]
        for phase, cmd in [("apply", ("apply", "--auto-approve")), ("destroy", ("destroy", "--auto-approve"))]:
            log(f"  fleet: {n} stacks at once: eksnet {' '.join(cmd)}")
            wall, walls, lines = run_all(names, *cmd)
            calls, aws, throttled = phase_calls(lines)
            slowest = max(walls, key=walls.get)
            single = result["single"][phase]["wall_s"]
            result.setdefault("fleet", {})[phase] = {
                "wall_s": wall, "calls": calls, "aws_calls": aws, "throttled": throttled, "served_median_ms": served_median_ms(lines),
                "throttled_share": throttled / aws if aws else 0.0, "slowest": slowest, "slowest_s": walls[slowest],
                "median_s": statistics.median(walls.values()), "slowest_vs_single": walls[slowest] / single, "walls_s": walls}
        result["throttle_after"] = lc.throttle_state()
    return result


def report_fleet(f):
    p = print
    rates = ", ".join(f"{k} {v[0]:.0f}+{v[1]:g}/s" for k, v in f["throttle"]["rates"].items())
    p(f"\n== fleet: {f['stacks']} copies of the reference stack at once in one account and region, scale {f['scale']:g}, "
      f"--retry-mode {f['retry_mode']}; throttled as AWS does (bucket+refill in AWS time: {rates})")
    for phase in ("apply", "destroy"):
        s, r = f["single"][phase], f["fleet"][phase]
        p(f"   {phase:7s} one alone {s['wall_s']:6.2f} s ({s['aws_calls']} AWS calls, {s['throttled']} throttled)   "
          f"{f['stacks']} at once: all done in {r['wall_s']:6.2f} s, median {r['median_s']:.2f} s, slowest {r['slowest_s']:.2f} s ({r['slowest']})")
        p(f"           {r['aws_calls']} AWS calls ({r['calls']} with Kubernetes), {r['throttled']} throttled ({100 * r['throttled_share']:.1f} %); "
          f"localcloud's median answer {s.get('served_median_ms', 0):.0f} ms alone, {r.get('served_median_ms', 0):.0f} ms at once")


def fleet_figures(f):
    p = print
    for phase in ("apply", "destroy"):
        r = f["fleet"][phase]
        p(f"   fleet     {phase:7s} slowest of {f['stacks']} / one alone {r['slowest_vs_single']:.2f} ≤ {FLEET_SLOWEST_RATIO}: "
          + ("met" if r["slowest_vs_single"] <= FLEET_SLOWEST_RATIO else "NOT met")
          + f"; throttled {100 * r['throttled_share']:.1f} % < {100 * FLEET_THROTTLED_SHARE:.0f} %: "
          + ("met" if r["throttled_share"] < FLEET_THROTTLED_SHARE else "NOT met"))


# ---------------------------------------------------------------- report

def fmt_calls(d, width=100):
    items = [f"{k} {v}" for k, v in d.items()]
    lines, cur = [], ""
    for it in items:
        if len(cur) + len(it) + 2 > width:
            lines.append(cur)
            cur = ""
        cur = f"{cur}, {it}" if cur else it
    return lines + ([cur] if cur else [])


def report(results):
    p = print
    m = results["machine"]
    p(f"eksnet bench — {results['date']} — scale {results['scale']} (1 AWS minute = {60 / results['scale']:.2f} s), "
      f"--poll-interval {results['poll_interval_s'] * 1000:.0f}ms, {results['build']} build, page size {results['page_size']}")
    p(f"machine: {m['cpus']} CPUs, {m['cpu']}, {m['kernel']}, load before {m['load_before']}")
    p(f"eksnet --version: {results['version_s'] * 1000:.1f} ms (median of 21)   [figure: < 10 ms]")
    if results.get("fleet"):
        report_fleet(results["fleet"])
    for s in results["stacks"]:
        p(f"\n== {s['stack']} ({s['file']}): {s['resources']} resources, {len(s['kinds'])} kinds, {s['edges']} edges")
        p(f"   validate: {s['validate_s'] * 1000:.1f} ms (median of 9)" + ("   [figure: < 50 ms for 300 resources]" if s["resources"] >= 300 else ""))
        for phase in ("apply", "destroy"):
            r = s[phase]
            p(f"   {phase:7s} wall {r['wall_s']:6.2f} s   critical path {r['critical_path_s']:6.2f} s   ratio {r['ratio']:.3f}"
              f"   API calls {r['api_calls']} (AWS {r['aws_calls']})   polls {r['polls']}   peak RSS {r['peak_rss_mib']:.0f} MiB")
            if r["kinds_not_done"]:
                p(f"           not {phase == 'apply' and 'created' or 'deleted'} by this run (left out of the critical path): {', '.join(r['kinds_not_done'])}")
            p("           polls per wait: " + ", ".join(f"{k} {w['polls_per_wait']:.1f} (× {w['waits']})" for k, w in r["waits"].items()))
            p(f"           (critical path with the profile's mean call latencies instead of served ones: "
              f"{r['profile_critical_path_s']:.2f} s, ratio {r['profile_ratio']:.3f}; localcloud busy {r['served_s']:.1f} s)")
            p(f"           path: {' → '.join(r['critical_path'])}")
            for line in fmt_calls(r["calls_by_operation"]):
                p(f"           {line}")
            p(f"           reads after the first change: {', '.join(f'{k} {v}' for k, v in r['polls_by_operation'].items())}")
        r = s["plan"]
        p(f"   plan    wall {r['wall_s']:6.2f} s   API calls {r['api_calls']} (2 × {r['kinds']} kinds = {r['bound_2x_kinds']})"
          f"   peak RSS {r['peak_rss_mib']:.0f} MiB")
        for line in fmt_calls(r["calls_by_operation"]):
            p(f"           {line}")
    p("\nfigures:")
    for s in results["stacks"]:
        for phase in ("apply", "destroy"):
            r = s[phase]
            target = s["stack"] in ("reference", "wide")
            p(f"   {s['stack']:9s} {phase:7s} wall/critical path {r['ratio']:.3f}  "
              + (("met" if r["ratio"] <= 1.05 else "NOT met") + " (≤ 1.05)" if target else "(no target: localcloud-throughput bound)"))
        if s["stack"] == "reference":
            for phase in ("apply", "destroy"):
                r = s[phase]
                p(f"   {s['stack']:9s} {phase:7s} {r['aws_calls']} AWS calls ({r.get('aws_refused', 0)} refused and retried) ≤ {AWS_CALLS}: "
                  + ("met" if r["aws_calls"] <= AWS_CALLS else "NOT met"))
        w = s["apply"]["waits"].get("cluster.CREATING")
        if w:
            p(f"   {s['stack']:9s} apply   {w['polls_per_wait']:.0f} polls per cluster creation ≤ {CLUSTER_CREATE_POLLS}: "
              + ("met" if w["polls_per_wait"] <= CLUSTER_CREATE_POLLS else "NOT met"))
        r = s["plan"]
        p(f"   {s['stack']:9s} plan    {r['api_calls']} calls ≤ 2 × {r['kinds']} kinds = {r['bound_2x_kinds']}: "
          + ("met" if r["api_calls"] <= r["bound_2x_kinds"] else "NOT met") + f"; wall {r['wall_s']:.2f} s"
          + ((" < 2 s: " + ("met" if r["wall_s"] < 2 else "NOT met")) if s["resources"] >= 300 else ""))
        if s["resources"] >= 300:
            p(f"   {s['stack']:9s} validate {s['validate_s'] * 1000:.1f} ms < 50 ms: " + ("met" if s["validate_s"] < 0.05 else "NOT met"))
        rss = max(s[ph]["peak_rss_mib"] for ph in ("apply", "plan", "destroy"))
        p(f"   {s['stack']:9s} peak RSS {rss:.0f} MiB < 100 MiB: " + ("met" if rss < 100 else "NOT met"))
    if results.get("fleet"):
        fleet_figures(results["fleet"])
    p(f"   eksnet --version {results['version_s'] * 1000:.1f} ms < 10 ms: " + ("met" if results["version_s"] < 0.01 else "NOT met"))
    p("\nwaits at real scale with the default --poll-interval 5s (the schedule of src/resources/wait.rs, calls taking"
      " no time): polls and lag after AWS ends the transition, at the profile's duration; mean lag over the likely window:")
    for k, v in results["real_scale_waits"].items():
        p(f"   {k:20s} {v['duration_s']:5.0f} s: {v['polls']:3d} polls, lag {v['lag_s']:4.1f} s;"
          f" window {v['window_s'][0]}-{v['window_s'][1]} s: mean lag {v['window_mean_lag_s']:.2f} s ≤ {MEAN_LAG_S}: "
          + ("met" if v["window_mean_lag_s"] <= MEAN_LAG_S + 0.01 else "NOT met"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eksnet", required=True, help="the eksnet binary (an absolute path)")
    ap.add_argument("--build", default="debug", help="which build the binary is (for the record)")
    ap.add_argument("--scale", type=float, default=60.0, help="divide AWS durations and the poll interval by this (60: 1 min = 1 s)")
    ap.add_argument("--stacks", default="reference,wide,synthetic,fleet",
                    help="comma-separated: reference, wide, synthetic, fleet (many copies of the reference at once)")
    ap.add_argument("--synthetic-groups", type=int, default=140, help="security groups in the synthetic stack (2 resources each)")
    ap.add_argument("--page-size", type=int, default=100, help="localcloud's page size for Describe/List (AWS pages at 100-1000)")
    ap.add_argument("--parallelism", type=int, default=10)
    ap.add_argument("--fleet", type=int, default=20, help="stacks the fleet scenario runs at once")
    ap.add_argument("--fleet-scale", type=float, default=20.0,
                    help="the fleet's scale (lower than --scale: 2 cores serve every stack's calls, so AWS time must run slower)")
    ap.add_argument("--fleet-retry-mode", default="adaptive", choices=["standard", "adaptive"], help="eksnet's --retry-mode in the fleet")
    ap.add_argument("--out", help="JSON results file [bench/results/<UTC time>.json]")
    args = ap.parse_args()

    now = datetime.datetime.now(datetime.timezone.utc)
    workdir = os.path.join(REPO, ".localcloud", "bench")
    os.makedirs(workdir, exist_ok=True)
    stacks = {"reference": os.path.join(REPO, "stacks/custom-networking.yaml"), "wide": os.path.join(REPO, "bench/stacks/wide.yaml")}
    synthetic = os.path.join(workdir, "synthetic.yaml")
    with open(synthetic, "w") as f:
        f.write(synthetic_stack(args.synthetic_groups))
    stacks["synthetic"] = synthetic

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    results = {
        "date": now.isoformat(timespec="seconds"),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip(),
        "build": args.build, "scale": args.scale, "poll_interval_s": DEFAULT_POLL / args.scale, "page_size": args.page_size,
        "machine": {"cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "load_before": os.getloadavg()[0]},
        "version_s": quick_wall([args.eksnet, "--version"], 21),
        "stacks": [],
    }
    for name in args.stacks.split(","):
        log(f"bench: {name}")
        if name == "fleet":
            results["fleet"] = bench_fleet(args.eksnet, args, workdir)
            continue
        results["stacks"].append(bench_stack(name, stacks[name], args.eksnet, args, workdir))
    # the transitions at real scale (the profile's scaled seconds × the scale)
    transitions = results["stacks"][0]["profile"]["transitions"] if results["stacks"] else {}
    table, sparse = shapes()
    results["real_scale_waits"] = {}
    for k, v in transitions.items():
        if k in WAITS and v > 0:
            shape = table[WAITS[k][0]]
            polls, lag = real_scale_waits(v * args.scale, shape, sparse)
            results["real_scale_waits"][k] = {"duration_s": v * args.scale, "polls": polls, "lag_s": lag,
                                              "window_s": shape[1:], "window_mean_lag_s": window_mean_lag(shape, sparse)}

    report(results)
    out = args.out or os.path.join(REPO, "bench", "results", now.strftime("%Y-%m-%dT%H%M%SZ") + ".json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nresults: {os.path.relpath(out, REPO)}")


if __name__ == "__main__":
    main()
