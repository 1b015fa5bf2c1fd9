#!/usr/bin/env python3
"""Prints a CloudWatch log group's events, and follows it: `aws logs tail` for the aws CLI v1.

`aws logs tail` exists only in the CLI's version 2; the project pins version 1 (the one that
shares botocore with moto), so `make logs` polls FilterLogEvents with the CLI's own botocore.
Output is `aws logs tail`'s short form: time, log stream, message.

Usage: tools/logs-tail.py GROUP [--since 10m] [--follow] [--region R] [--endpoint-url URL]
(with .venv/bin first on PATH, as tools/stack.sh runs it, so that python3 is the venv's).
"""

import argparse
import re
import sys
import time
from datetime import datetime, timezone

import botocore.exceptions
import botocore.session

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def start_millis(since: str, now: float) -> int:
    """`10m`, `2h`, `1d`, `1w` ago, or an ISO 8601 time (UTC unless it names a zone)."""
    match = re.fullmatch(r"(\d+)([smhdw])", since)
    if match:
        return int((now - int(match[1]) * UNITS[match[2]]) * 1000)
    try:
        when = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        sys.exit(f"error: SINCE must be like 10m, 2h, 1d, 1w or an ISO 8601 time, got {since!r}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() * 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("group")
    parser.add_argument("--since", default="10m")
    parser.add_argument("--follow", action="store_true")
    parser.add_argument("--region")
    parser.add_argument("--endpoint-url")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    args = parser.parse_args()

    logs = botocore.session.get_session().create_client(
        "logs", region_name=args.region, endpoint_url=args.endpoint_url
    )
    start = start_millis(args.since, time.time())
    # Events of the newest millisecond seen, so the next poll (which starts at that
    # millisecond, as later events may still arrive for it) prints none of them twice.
    seen: set[str] = set()
    while True:
        newest = start
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=args.group, startTime=start, interleaved=True
        )
        for page in pages:
            for event in sorted(page.get("events", []), key=lambda e: e["timestamp"]):
                if event["eventId"] in seen:
                    continue
                stamp = datetime.fromtimestamp(event["timestamp"] / 1000, timezone.utc)
                message = event["message"].rstrip("\n")
                print(f"{stamp:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + f" {event['logStreamName']} {message}")
                if event["timestamp"] > newest:
                    newest, seen = event["timestamp"], set()
                if event["timestamp"] == newest:
                    seen.add(event["eventId"])
        sys.stdout.flush()
        if not args.follow:
            return 0
        start = newest
        time.sleep(args.interval)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
        sys.exit(f"error: {err}")
