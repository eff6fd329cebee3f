"""The pywinrm baseline: a 32-thread pool, one winrm.Session per host, the same fleet.

Run by fleet_bench.py; prints one JSON object with the wall time of the pool (after the interpreter
started and winrm was imported), the CLOCK_MONOTONIC time the last result was in (the harness takes
the time from process start, as it does for winfleet), and the failures.
"""
import concurrent.futures
import json
import sys
import time

import winrm


def run_one(host):
    session = winrm.Session(
        f"http://{host['address']}:{host['port']}/wsman",
        auth=(host["username"], host["password"]),
        transport="ntlm",
        message_encryption="always",
    )
    result = session.run_cmd("hostname")
    return result.status_code == 0 and result.std_out.strip().decode() == host["name"]


def main():
    hosts = json.load(sys.stdin)
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(lambda h: _safe(run_one, h), hosts))
    wall = time.perf_counter() - started
    print(json.dumps({"wall_s": wall, "done_monotonic": time.clock_gettime(time.CLOCK_MONOTONIC),
                      "ok": sum(1 for o in outcomes if o is True),
                      "errors": [o for o in outcomes if o is not True][:3]}))


def _safe(fn, host):
    try:
        return fn(host)
    except Exception as error:  # a failure is a figure too
        return f"{host['name']}: {error!r}"


if __name__ == "__main__":
    main()
