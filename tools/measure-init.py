#!/usr/bin/env python3
"""Measures the processor's cold init: process start to its first request for work.

Starts a fake Lambda runtime API on a loopback port, launches the bootstrap binary with the
environment Lambda gives a function (AWS_LAMBDA_RUNTIME_API pointing at the fake, region,
credentials, the stack's variables), and records the time from spawn to the first
`GET /2018-06-01/runtime/invocation/next`, which the runtime sends once init is done.
Repeats RUNS times and prints the median and the 90th percentile.

Usage: tools/measure-init.py BINARY [RUNS]
"""

import http.server
import os
import statistics
import subprocess
import sys
import threading
import time


class FakeRuntime(http.server.BaseHTTPRequestHandler):
    first_request = None
    arrived = threading.Event()

    def do_GET(self):  # noqa: N802 (the stdlib's name)
        if FakeRuntime.first_request is None:
            FakeRuntime.first_request = time.perf_counter()
            FakeRuntime.arrived.set()
        # Never hand out work: the process is stopped once the request arrived.
        time.sleep(5)

    def log_message(self, *args):
        pass


def measure_once(binary, port):
    FakeRuntime.first_request = None
    FakeRuntime.arrived.clear()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": "retail-events-dev-processor",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_SESSION_TOKEN": "test",
        "TABLE_NAME": "retail-events-dev-events",
        "DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/retail-events-dev-dlq",
        "METRICS_NAMESPACE": "RetailEventProcessing",
    }
    start = time.perf_counter()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not FakeRuntime.arrived.wait(10):
            raise SystemExit("error: the binary made no request to the runtime API within 10 s")
        return (FakeRuntime.first_request - start) * 1000
    finally:
        process.kill()
        process.wait()


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    binary, runs = argv[1], int(argv[2]) if len(argv) > 2 else 50
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeRuntime)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    samples = sorted(measure_once(binary, port) for _ in range(runs))
    p90 = samples[min(len(samples) - 1, int(len(samples) * 0.9))]
    print(f"init (spawn to first runtime API request) over {runs} runs: "
          f"median {statistics.median(samples):.1f} ms, p90 {p90:.1f} ms, max {samples[-1]:.1f} ms")
    server.shutdown()


if __name__ == "__main__":
    main(sys.argv)
