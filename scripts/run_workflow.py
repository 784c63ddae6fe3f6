"""Runs a GitHub Actions workflow's steps locally (scripts/run-workflow is the entry point).

Modelled after GitHub's documentation ("Workflow syntax for GitHub Actions", "Evaluate
expressions in workflows and actions", "Contexts reference",
https://docs.github.com/en/actions/reference/workflows-and-actions):

  * jobs run in `needs` order; a job runs when its `if:` holds (default: every needed job
    succeeded), each in a fresh copy of the repository (`actions/checkout`);
  * a step runs when its `if:` holds (default `success()`: no earlier step of the job failed;
    `always()` runs anyway); `run:` goes to `bash -e {0}` as on GitHub's Linux runners, with the
    workflow's, job's and step's `env:` and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_ENV
    files; `${{ … }}` in `run`, `env`, `with` and `if` is evaluated (contexts github, env, vars,
    steps.*.outputs, needs.*.outputs; operators == != && || ! and parentheses; literals);
  * actions/upload-artifact and actions/download-artifact keep files in one directory per run;
  * what needs GitHub or a real account is skipped and said: the `Install eksnet` step (eksnet
    is already on the PATH), aws-actions/configure-aws-credentials (the environment already
    points at the cloud), actions/github-script (a pull request comment).

Exit status: 0 when every job that ran succeeded, 1 otherwise. Each step is printed as it runs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SKIPPED_ACTIONS = {
    "aws-actions/configure-aws-credentials": "credentials come from the environment",
    "actions/github-script": "talks to GitHub's API",
}


class Context:
    def __init__(self, event: str, ref: str, sha: str):
        self.github = {
            "event_name": event,
            "ref": ref,
            "sha": sha,
            "run_id": "1",
            "run_attempt": "1",
            "event": {"pull_request": {"number": "1"}},
        }
        self.env: dict[str, str] = {}
        self.vars: dict[str, str] = {}
        self.steps: dict[str, dict] = {}
        self.needs: dict[str, dict] = {}
        self.failed = False

    def lookup(self, path: str):
        head, *rest = path.split(".")
        value = {"github": self.github, "env": self.env, "vars": self.vars, "steps": self.steps, "needs": self.needs}.get(head)
        if value is None:
            raise SystemExit(f"run-workflow: unknown context `{head}` in `{path}`")
        for part in rest:
            value = value.get(part, "") if isinstance(value, dict) else ""
        return value


TOKEN = re.compile(r"\s*(==|!=|&&|\|\||!|\(|\)|'(?:[^']|'')*'|[A-Za-z_][\w.\-]*(?:\(\))?|\d+)")


def evaluate(expr: str, ctx: Context):
    """A GitHub expression: literals, context paths, == != && || ! ( ), success() always()
    failure(). Comparison of strings is case-insensitive, as GitHub's is."""
    tokens, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise SystemExit(f"run-workflow: cannot read expression `{expr}` at {pos}")
        tokens.append(m.group(1))
        pos = m.end()
        while pos < len(expr) and expr[pos].isspace():
            pos += 1

    def primary(i):
        t = tokens[i]
        if t == "(":
            v, i = either(i + 1)
            return v, i + 1
        if t == "!":
            v, i = primary(i + 1)
            return not truthy(v), i
        if t.startswith("'"):
            return t[1:-1].replace("''", "'"), i + 1
        if t.isdigit():
            return t, i + 1
        if t in ("true", "false"):
            return t == "true", i + 1
        if t == "always()":
            return True, i + 1
        if t == "success()":
            return not ctx.failed, i + 1
        if t == "failure()":
            return ctx.failed, i + 1
        return ctx.lookup(t), i + 1

    def comparison(i):
        left, i = primary(i)
        while i < len(tokens) and tokens[i] in ("==", "!="):
            op = tokens[i]
            right, i = primary(i + 1)
            same = str(left).lower() == str(right).lower()
            left = same if op == "==" else not same
        return left, i

    def both(i):
        left, i = comparison(i)
        while i < len(tokens) and tokens[i] == "&&":
            right, i = comparison(i + 1)
            left = right if truthy(left) else left
        return left, i

    def either(i):
        left, i = both(i)
        while i < len(tokens) and tokens[i] == "||":
            right, i = both(i + 1)
            left = left if truthy(left) else right
        return left, i

    value, _ = either(0)
    return value


def truthy(v) -> bool:
    return bool(v) and v != "false"


def substitute(text: str, ctx: Context) -> str:
    def one(m):
        v = evaluate(m.group(1), ctx)
        return ("true" if v else "false") if isinstance(v, bool) else str(v)
    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def condition(expr, ctx: Context, default: str) -> bool:
    if expr is None:
        expr = default
    expr = str(expr).strip()
    if expr.startswith("${{") and expr.endswith("}}"):
        expr = expr[3:-2]
    # GitHub adds success() unless a status function is given.
    if not re.search(r"\b(always|success|failure|cancelled)\(\)", expr):
        expr = f"success() && ({expr})"
    return truthy(evaluate(expr, ctx))


def order(jobs: dict) -> list[str]:
    done, out = set(), []
    def visit(name):
        if name in done:
            return
        needs = jobs[name].get("needs") or []
        for n in [needs] if isinstance(needs, str) else needs:
            visit(n)
        done.add(name)
        out.append(name)
    for name in jobs:
        visit(name)
    return out


def checkout(work: Path):
    for item in ("stacks", "templates", "examples"):
        if (REPO / item).exists():
            shutil.copytree(REPO / item, work / item)


def run_job(name: str, job: dict, workflow_env: dict, ctx: Context, artifacts: Path, home: Path) -> bool:
    work = Path(tempfile.mkdtemp(prefix=f"job-{name}-"))
    ctx.steps, ctx.failed = {}, False
    job_env = {k: substitute(str(v), ctx) for k, v in (job.get("env") or {}).items()}
    ctx.env = {**workflow_env, **job_env}
    outputs_file, summary = work / ".github_output", work / ".github_step_summary"
    for step in job.get("steps") or []:
        title = step.get("name") or step.get("uses") or step.get("run", "").splitlines()[0]
        if not condition(step.get("if"), ctx, "success()"):
            print(f"  - {title}: skipped (if)", flush=True)
            continue
        uses = step.get("uses", "")
        action = uses.split("@")[0]
        with_ = {k: substitute(str(v), ctx) for k, v in (step.get("with") or {}).items()}
        if action == "actions/checkout":
            checkout(work)
            print(f"  - {title}: copied the repository", flush=True)
            continue
        if action == "actions/upload-artifact":
            target = artifacts / with_["name"]
            target.mkdir(parents=True, exist_ok=True)
            for path in with_["path"].split():
                source = work / path
                if source.is_dir():
                    shutil.copytree(source, target / path, dirs_exist_ok=True)
                elif source.exists():
                    shutil.copy(source, target / path)
            print(f"  - {title}: kept {with_['path']} as artifact {with_['name']}", flush=True)
            continue
        if action == "actions/download-artifact":
            source = artifacts / with_["name"]
            if not source.exists():
                print(f"  - {title}: no artifact {with_['name']}", flush=True)
                ctx.failed = True
                continue
            shutil.copytree(source, work, dirs_exist_ok=True)
            print(f"  - {title}: fetched artifact {with_['name']}", flush=True)
            continue
        if action in SKIPPED_ACTIONS:
            print(f"  - {title}: skipped here ({SKIPPED_ACTIONS[action]})", flush=True)
            continue
        if uses:
            raise SystemExit(f"run-workflow: action {uses} is not modelled")
        if title == "Install eksnet":
            print(f"  - {title}: skipped here (eksnet is on the PATH)", flush=True)
            continue
        script = substitute(step["run"], ctx)
        env = {**os.environ, **ctx.env, **{k: substitute(str(v), ctx) for k, v in (step.get("env") or {}).items()}}
        outputs_file.write_text("")
        env.update(GITHUB_OUTPUT=str(outputs_file), GITHUB_STEP_SUMMARY=str(summary), GITHUB_WORKSPACE=str(work), HOME=str(home))
        print(f"  - {title}: running", flush=True)
        code = subprocess.run(["bash", "-e", "-c", script], cwd=work, env=env).returncode
        outputs = dict(line.split("=", 1) for line in outputs_file.read_text().splitlines() if "=" in line)
        if "id" in step:
            ctx.steps[step["id"]] = {"outputs": outputs, "outcome": "success" if code == 0 else "failure"}
        if code != 0:
            print(f"    failed with exit code {code}", flush=True)
            ctx.failed = True
    ctx.needs[name] = {
        "result": "failure" if ctx.failed else "success",
        "outputs": {k: substitute(str(v), ctx) for k, v in (job.get("outputs") or {}).items()},
    }
    shutil.rmtree(work, ignore_errors=True)
    return not ctx.failed


def main() -> int:
    p = argparse.ArgumentParser(description="Run a GitHub Actions workflow's steps on this machine.")
    p.add_argument("workflow")
    p.add_argument("--event", default="push", help="github.event_name (push, pull_request, schedule, workflow_dispatch)")
    p.add_argument("--ref", default="refs/heads/main", help="github.ref")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a repository variable (vars.NAME)")
    args = p.parse_args()
    workflow = yaml.safe_load(Path(args.workflow).read_text())
    ctx = Context(args.event, args.ref, "0" * 40)
    ctx.vars = dict(v.split("=", 1) for v in args.var)
    workflow_env = {k: substitute(str(v), ctx) for k, v in (workflow.get("env") or {}).items()}
    ctx.env = workflow_env
    artifacts = Path(tempfile.mkdtemp(prefix="artifacts-"))
    home = Path(tempfile.mkdtemp(prefix="home-"))
    ok = True
    try:
        for name in order(workflow["jobs"]):
            job = workflow["jobs"][name]
            needs = job.get("needs") or []
            needs = [needs] if isinstance(needs, str) else needs
            ctx.failed = any(ctx.needs.get(n, {}).get("result") != "success" for n in needs)
            if not condition(job.get("if"), ctx, "success()"):
                print(f"job {name}: skipped (if)", flush=True)
                ctx.needs[name] = {"result": "skipped", "outputs": {}}
                continue
            print(f"job {name}:", flush=True)
            if run_job(name, job, workflow_env, ctx, artifacts, home):
                print(f"job {name}: succeeded", flush=True)
            else:
                print(f"job {name}: failed", flush=True)
                ok = False
    finally:
        shutil.rmtree(artifacts, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
