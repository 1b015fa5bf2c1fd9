#!/usr/bin/env bash
# Checks the Lambda package: a zip holding an executable `bootstrap`, an ELF binary for ARCH
# when given (arm64 or x86_64: the configuration's lambda_architecture), under our own 4 MB
# budget, 4,000,000 bytes (docs/performance.md; Lambda's direct-upload limit is 50 MB). The deploy targets call it with
# ZIP_BUDGET_BYTES=0, which checks the contents and the architecture only.
# Usage: tools/check-zip.sh ZIP [ARCH]
set -euo pipefail
zip=${1:?usage: tools/check-zip.sh ZIP [ARCH]}
want=${2:-}
budget=${ZIP_BUDGET_BYTES:-4000000}
[ -f "$zip" ] || { echo "error: $zip not found; run make build" >&2; exit 1; }
size=$(stat -c %s "$zip")
python3 - "$zip" "$want" <<'PY'
import sys, zipfile
path, want = sys.argv[1], sys.argv[2]
try:
    z = zipfile.ZipFile(path)
except zipfile.BadZipFile:
    sys.exit(f"error: {path} is not a zip; run make build")
with z:
    names = z.namelist()
    if names != ["bootstrap"]:
        sys.exit(f"error: the zip must hold exactly bootstrap, holds {names}")
    info = z.getinfo("bootstrap")
    mode = info.external_attr >> 16
    if not mode & 0o111:
        sys.exit("error: bootstrap is not executable in the zip")
    head = z.read("bootstrap")[:20]
    if head[:4] != b"\x7fELF":
        sys.exit("error: bootstrap is not an ELF binary")
    machine = int.from_bytes(head[18:20], "little")
    arch = {0xB7: "arm64", 0x3E: "x86_64"}.get(machine, hex(machine))
    if want and arch != want:
        sys.exit(f"error: {path} holds an {arch} bootstrap but the configuration's "
                 f"lambda_architecture is {want}; run make build with the same PRESET/CONFIG/SET")
    print(f"bootstrap: ELF for {arch}, {info.file_size} bytes unpacked")
PY
if [ "$budget" = 0 ]; then echo "zip: $size bytes"; else echo "zip: $size bytes (budget $budget)"; fi
[ "$budget" = 0 ] || [ "$size" -le "$budget" ] || { echo "error: $zip is over the budget of $budget bytes" >&2; exit 1; }
