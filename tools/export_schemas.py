#!/usr/bin/env python3
"""Export the CloudFormation resource provider schemas cfn-codegen generates from.

Reads crates/cfn-codegen/resource-types.txt (one type name per line, `#` comments) and
writes each type's schema, as carried by the pinned cfn-lint (tools/requirements.txt), to
crates/cfn-codegen/schemas/<service>_<resource>.json (lowercase, e.g.
aws_kinesis_stream.json) as pretty JSON with sorted keys. Schema files of types no longer
listed are removed. The copies are committed, so the Rust generator needs no Python.

One key is added to each schema: `x-cfn-lint-getatts`, the sorted attribute names
cfn-lint accepts in `Fn::GetAtt` for the type. For most types these are just the
read-only properties; for a few (AWS::SQS::Queue, AWS::SNS::Topic, ...) CloudFormation
also returns ordinary properties (`QueueName`), which only cfn-lint's list knows.

Run through `make codegen`, or directly: .venv/bin/python tools/export_schemas.py
With --check it writes nothing and exits 1 when the committed copies differ from what the
pinned cfn-lint carries (CI runs this, so a cfn-lint bump cannot leave stale schemas).
"""

import json
import pathlib
import re
import sys

from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

REGION = "us-east-1"
ROOT = pathlib.Path(__file__).resolve().parent.parent
CODEGEN = ROOT / "crates" / "cfn-codegen"
TYPES_FILE = CODEGEN / "resource-types.txt"
SCHEMA_DIR = CODEGEN / "schemas"


def read_types(path):
    types = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            types.append(line)
    return types


def file_name(type_name):
    return type_name.replace("::", "_").lower() + ".json"


def get_atts(resource):
    """The literal attribute names cfn-lint accepts (its regex patterns are left out)."""
    names = [name for name in resource.get_atts.keys() if re.fullmatch(r"[A-Za-z0-9_.]+", name)]
    return sorted(names)


def main(argv):
    check = "--check" in argv
    stale_files = []
    types = read_types(TYPES_FILE)
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for type_name in types:
        resource = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, type_name)
        schema = dict(resource.schema)
        schema["x-cfn-lint-getatts"] = get_atts(resource)
        target = SCHEMA_DIR / file_name(type_name)
        text = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        if not target.exists() or target.read_text() != text:
            stale_files.append(str(target.relative_to(ROOT)))
            if not check:
                target.write_text(text)
                print(f"wrote {target.relative_to(ROOT)}")
        wanted.add(target.name)
    for stale in sorted(SCHEMA_DIR.glob("*.json")):
        if stale.name not in wanted:
            stale_files.append(str(stale.relative_to(ROOT)))
            if check:
                continue
            stale.unlink()
            print(f"removed {stale.relative_to(ROOT)} (no longer in {TYPES_FILE.name})")
    if check and stale_files:
        print("schema copies differ from the pinned cfn-lint's; run `make codegen`:", file=sys.stderr)
        for name in stale_files:
            print(f"  {name}", file=sys.stderr)
        return 1
    if check:
        print(f"schema copies of {len(types)} resource types match the pinned cfn-lint")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
