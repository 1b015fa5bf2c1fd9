"""Rules for .github/workflows that GitHub's schema does not check (tools/lint-workflows.sh).

- Every job has `runs-on` and at least one step; every step has `uses` or `run`.
- Every action is pinned: `owner/repo@v4`, `@v4.1.2` or a 40-hex commit, never a branch.
- No `pull_request_target` (it runs with secrets on code from forks).
- No `${{ github.event.* }}` or `github.head_ref` inside `run:`; such values reach the shell
  through `env:`, so a branch name or title cannot inject commands.
- A job that posts to pull requests has `pull-requests: write`; one that uses
  aws-actions/configure-aws-credentials has `id-token: write`, a `role-to-assume`, and runs
  that step only when the repository variable AWS_ROLE_ARN is set.
- ci.yml runs on push and pull_request and runs what .ci/run runs (`make test`).

Usage: python tools/lint_workflows.py FILE...   |   python tools/lint_workflows.py --self-test
"""

import re
import sys
from pathlib import Path

import yaml

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")
UNTRUSTED = re.compile(r"\$\{\{[^}]*\b(github\.event\.|github\.head_ref)")


def load(text: str) -> dict:
    document = yaml.safe_load(text)
    # YAML 1.1 reads the key `on` as the boolean true.
    if isinstance(document, dict) and True in document:
        document["on"] = document.pop(True)
    return document if isinstance(document, dict) else {}


def triggers(workflow: dict) -> set:
    on = workflow.get("on") or {}
    if isinstance(on, str):
        return {on}
    return set(on)


def permissions(workflow: dict, job: dict) -> dict:
    found = job.get("permissions", workflow.get("permissions", {}))
    if found == "write-all":
        return {"pull-requests": "write", "id-token": "write"}
    return found if isinstance(found, dict) else {}


def problems(name: str, workflow: dict) -> list:
    found = []
    if not workflow.get("jobs"):
        return [f"{name}: no jobs"]
    if "pull_request_target" in triggers(workflow):
        found.append(f"{name}: pull_request_target runs fork code with secrets; use pull_request")
    for job_id, job in workflow["jobs"].items():
        where = f"{name}: job {job_id}"
        if "uses" in job:  # a reusable workflow call
            if not PINNED.match(job["uses"]) and not job["uses"].startswith("./"):
                found.append(f"{where}: reusable workflow {job['uses']} is not pinned")
            continue
        if "runs-on" not in job:
            found.append(f"{where}: no runs-on")
        steps = job.get("steps") or []
        if not steps:
            found.append(f"{where}: no steps")
        perms = permissions(workflow, job)
        for index, step in enumerate(steps):
            label = f"{where}, step {step.get('name') or step.get('uses') or index + 1}"
            uses, run = step.get("uses"), step.get("run")
            if not uses and not run:
                found.append(f"{label}: neither uses nor run")
            if uses and not uses.startswith(("./", "docker://")) and not PINNED.match(uses):
                found.append(f"{label}: {uses} is not pinned to a version tag or commit")
            if run and UNTRUSTED.search(run):
                found.append(f"{label}: run: expands untrusted github.event input; pass it through env:")
            if uses and uses.startswith("actions/github-script") and perms.get("pull-requests") != "write":
                found.append(f"{label}: posts with github-script but the job lacks pull-requests: write")
            if uses and uses.startswith("aws-actions/configure-aws-credentials"):
                if perms.get("id-token") != "write":
                    found.append(f"{label}: OIDC needs permissions id-token: write")
                if "role-to-assume" not in (step.get("with") or {}):
                    found.append(f"{label}: no role-to-assume")
                if "vars.AWS_ROLE_ARN" not in str(step.get("if", "")):
                    found.append(f"{label}: must run only when vars.AWS_ROLE_ARN is set")
    return found


def ci_problems(name: str, workflow: dict, ci_run: str) -> list:
    found = []
    if not {"push", "pull_request"} <= triggers(workflow):
        found.append(f"{name}: must run on push and pull_request")
    runs = [step.get("run", "") for job in workflow.get("jobs", {}).values() for step in job.get("steps") or []]
    wanted = [line.strip() for line in ci_run.splitlines() if line.strip().startswith("make ")]
    if not any(".ci/run" in run or any(w in run for w in wanted) for run in runs):
        found.append(f"{name}: does not run .ci/run ({' '.join(wanted)})")
    return found


def lint(paths: list) -> list:
    found = []
    ci_run = Path(".ci/run").read_text() if Path(".ci/run").exists() else "make test"
    for path in paths:
        workflow = load(Path(path).read_text())
        found += problems(path, workflow)
        if Path(path).name == "ci.yml":
            found += ci_problems(path, workflow, ci_run)
    return found


BROKEN = """
on: pull_request_target
jobs:
  a:
    permissions: {contents: read}
    steps:
      - uses: actions/checkout@main
      - run: echo "${{ github.event.pull_request.title }}"
      - uses: actions/github-script@v7
      - uses: aws-actions/configure-aws-credentials@v4
      - name: nothing
  b:
    runs-on: ubuntu-latest
"""


def self_test() -> list:
    found = problems("broken.yml", load(BROKEN))
    expected = ["pull_request_target", "no runs-on", "not pinned", "untrusted",
                "pull-requests: write", "id-token: write", "no role-to-assume",
                "vars.AWS_ROLE_ARN", "neither uses nor run", "job b: no steps"]
    missing = [e for e in expected if not any(e in f for f in found)]
    return [f"self-test: the checker missed {e!r}" for e in missing]


def main() -> int:
    found = self_test() if sys.argv[1:] == ["--self-test"] else lint(sys.argv[1:])
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
