#!/usr/bin/env bash
# Creates the project's virtualenv and installs the pinned Python tools into it.
# Usage: tools/venv.sh [DIR]   (default .venv)
set -euo pipefail
venv=${1:-.venv}
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
if ! "$python" -c 'import venv' 2>/dev/null; then
  echo "error: $python has no venv module; install python3-venv (apt-get install python3-venv)" >&2
  exit 1
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
touch "$venv/.installed"
echo "installed the pinned tools into $venv"
