#!/usr/bin/env bash
# Checks the Lambda package: a zip holding an executable `bootstrap` for the configured
# architecture, under Lambda's 50 MB direct-upload limit and our own 5 MB budget.
# Usage: tools/check-zip.sh cfn-out/processor.zip
set -euo pipefail
zip=${1:?usage: tools/check-zip.sh ZIP}
[ -f "$zip" ] || { echo "error: $zip not found; run make build" >&2; exit 1; }
size=$(stat -c %s "$zip")
budget=$((5 * 1024 * 1024))
python3 - "$zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
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
    print(f"bootstrap: ELF for {arch}, {info.file_size} bytes unpacked")
PY
echo "zip: $size bytes (budget $budget)"
[ "$size" -le "$budget" ] || { echo "error: $zip is over the 5 MB budget" >&2; exit 1; }
