#!/usr/bin/env python3
"""One set of dependency features for the whole workspace.

Cargo compiles a dependency once per feature set it is asked for. When `cargo build -p verify`
and `cargo build -p local-runner` unify the features of a shared dependency differently, the
second build recompiles it and everything above it (the AWS SDK: minutes). The workspace-hack
crate (crates/workspace-hack, kept by `cargo hakari generate`) pins one feature set; this check
proves it still does: for every member that depends on it, `cargo tree` must resolve each
shared dependency with the same features. It reads Cargo.lock and the manifests (no build; on a new machine cargo first downloads the locked crates).

Usage: tools/check_features.py [--cargo CARGO]
Exit 0 when every shared dependency resolves alike, 1 naming the ones that differ.
"""

import argparse
import json
import os
import subprocess
import re
import sys
from collections import defaultdict

HACK = "workspace-hack"


def traversal_excludes(path):
    """The workspace members hakari's config leaves out (`[traversal-excludes]`)."""
    with open(path, "rb") as config:
        text = config.read().decode()
    try:
        import tomllib  # Python 3.11+

        return tomllib.loads(text).get("traversal-excludes", {}).get("workspace-members", [])
    except ImportError:  # an older Python: the one list this script reads, by pattern
        found = re.search(
            r"^\[traversal-excludes\][^\[]*?workspace-members\s*=\s*\[(.*?)\]", text, re.S | re.M
        )
        return re.findall(r'"([^"]+)"', found.group(1)) if found else []


def members(cargo, root):
    """The workspace members that must share one feature set: all but hakari's excludes.

    Returns (members, members missing their dependency on the workspace-hack crate).
    """
    excluded = set(traversal_excludes(os.path.join(root, ".config", "hakari.toml")))
    meta = json.loads(
        subprocess.run(
            [cargo, "metadata", "--no-deps", "--format-version", "1"],
            check=True,
            capture_output=True,
            text=True,
            cwd=root,
        ).stdout
    )
    packages = [p for p in meta["packages"] if p["name"] not in excluded | {HACK}]
    missing = [
        p["name"] for p in packages if not any(d["name"] == HACK for d in p["dependencies"])
    ]
    return sorted(p["name"] for p in packages), sorted(missing)


def resolved_features(cargo, root, package):
    """{dependency "name version": "features"} as `cargo build -p package` resolves them."""
    out = subprocess.run(
        [cargo, "tree", "-q", "-p", package, "-e", "normal,build",
         "--prefix", "none", "--format", "{p}|{f}"],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    ).stdout
    features = {}
    for line in out.splitlines():
        line = line.replace(" (*)", "")  # cargo's mark for a subtree printed before
        if "|" not in line:
            continue
        name, feats = line.split("|", 1)
        # Workspace members (path dependencies) are what is built, not shared dependencies.
        if " (" in name:
            continue
        features[name.strip()] = feats.strip()
    return features


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cargo", default="cargo", help="the cargo binary (default: cargo)")
    args = parser.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    packages, missing = members(args.cargo, root)
    if missing:
        print(
            f"check-features: FAIL: {', '.join(missing)} do not depend on {HACK}; "
            "run `cargo hakari manage-deps` (or list them in .config/hakari.toml's "
            "traversal-excludes)"
        )
        return 1
    seen = defaultdict(dict)  # dependency -> {features -> first package that asked for them}
    for package in packages:
        for dep, feats in resolved_features(args.cargo, root, package).items():
            seen[dep].setdefault(feats, package)
    differing = {dep: sets for dep, sets in seen.items() if len(sets) > 1}
    for dep, sets in sorted(differing.items()):
        print(f"check-features: {dep} resolves with different features:")
        for feats, package in sets.items():
            print(f"    cargo build -p {package}: [{feats}]")
    if differing:
        print(
            f"check-features: FAIL: {len(differing)} dependencies would be compiled more than "
            "once; run `cargo hakari generate` (cargo install cargo-hakari) and commit "
            "crates/workspace-hack"
        )
        return 1
    print(
        f"check-features: {len(packages)} members, {len(seen)} dependencies, "
        "one feature set each"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as err:
        print(f"check-features: {' '.join(err.cmd)} failed (exit {err.returncode}):")
        print(err.stderr.strip())
        sys.exit(1)
