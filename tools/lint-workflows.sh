#!/usr/bin/env bash
# Lints .github/workflows: every file against GitHub's workflow schema (check-jsonschema's
# vendored copy, pinned in tools/requirements.txt, offline), then the rules the schema cannot
# know (tools/lint_workflows.py: pinned actions, permissions, no untrusted input in run:, CI
# runs what .ci/run runs). With SYNTH_BIN, also runs the PR preview's template diff script
# against HEAD, so the workflow's own script is known to work.
#
# actionlint would be the first choice, but its PyPI wrapper downloads the binary while it
# installs, which this project's machines cannot; its npm build is a years-old release that
# does not know the `vars` context.
#
# Usage: tools/lint-workflows.sh [SYNTH_BIN]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${VENV:-.venv}
synth=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
workflows=(.github/workflows/*.yml)
passed=0 failed=0

check() { # name, command...
  local name=$1; shift
  if "$@" >"$work/out.txt" 2>&1; then
    passed=$((passed + 1)); echo "ok      $name"
  else
    failed=$((failed + 1)); echo "FAILED  $name"; sed 's/^/        /' "$work/out.txt" | head -60
  fi
}

preview_runs() {
  tools/pr-template-diff.sh HEAD "$synth" "$work/preview" >"$work/preview.md"
  grep -q '^<!-- synth-pr-preview -->$' "$work/preview.md"
  for file in templates/*.yaml; do
    grep -q "^## \`$(basename "$file" .yaml)\`" "$work/preview.md" || { echo "no section for $file"; return 1; }
  done
}

check "schema: ${#workflows[@]} workflows valid" \
  "$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
check "rules: pinned actions, permissions, safe run: steps, CI = .ci/run" \
  "$venv/bin/python" tools/lint_workflows.py "${workflows[@]}"
check "rules: the checker rejects a workflow that breaks them" \
  "$venv/bin/python" tools/lint_workflows.py --self-test
if [ -n "$synth" ]; then
  check "pr-template-diff.sh renders a section per preset against HEAD" preview_runs
fi

echo "workflow lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
