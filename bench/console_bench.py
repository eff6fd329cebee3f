"""Console benchmark.

1. The real binary in a pseudo-terminal (200x50) on a 10,000-host inventory: time from exec to the
   first frame that shows the fleet (process start, inventory load, plans, first draw).
2. `winfleet bench-console`: filter keystroke to redrawn frame, and redraws while 1,000 results
   stream in, on the same renderer with a generated fleet.
"""
import argparse
import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import tempfile
import termios
import time


def make_inventory(path, hosts):
    entries = [{"name": f"WIN{i:05d}", "address": f"127.9.{i // 250}.{i % 250 + 1}",
                "groups": ["bench", f"g{i % 20}"], "route": ["direct", "dmz"][i % 2]} for i in range(hosts)]
    inventory = {"credentials": {"bench": {"username": "WINFLEET\\operator", "password_env": "WINFLEET_BENCH_PASSWORD"}},
                 "defaults": {"credential": "bench", "auth": "ntlm"},
                 "routes": {"direct": {}, "dmz": {}}, "hosts": entries}
    with open(path, "w") as f:
        json.dump(inventory, f)


def first_frame_ms(winfleet, inventory, db):
    pid, fd = pty.fork()
    if pid == 0:
        env = dict(os.environ, TERM="xterm-256color", WINFLEET_BENCH_PASSWORD="unused")
        os.execve(winfleet, [winfleet, "console", "--inventory", inventory, "--db", db], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    started = time.perf_counter()
    seen = b""
    elapsed = None
    while time.perf_counter() - started < 10:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if b"WIN00000" in seen and b"help" in seen:
                elapsed = (time.perf_counter() - started) * 1000
                break
    os.write(fd, b"q")
    time.sleep(0.5)
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--winfleet", required=True)
    parser.add_argument("--hosts", type=int, default=10000)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="winfleet-console-bench-")
    inventory = os.path.join(workdir, "big.json")
    make_inventory(inventory, args.hosts)
    frames = [first_frame_ms(args.winfleet, inventory, os.path.join(workdir, "h.sqlite")) for _ in range(3)]
    figures = json.loads(subprocess.run([args.winfleet, "bench-console", "--hosts", str(args.hosts)],
                                        capture_output=True, text=True, check=True).stdout)
    figures["realFirstFrameMs"] = sorted(f for f in frames if f is not None)[len(frames) // 2] if any(frames) else None
    print(json.dumps(figures, indent=2, sort_keys=True))
    print(f"first frame, real binary, {args.hosts} hosts: {figures['realFirstFrameMs']:.0f} ms (budget 300 ms)")
    print(f"filter keystroke to frame: p50 {figures['filterKeystrokeP50Ms']:.1f} ms, max {figures['filterKeystrokeMaxMs']:.1f} ms (budget 16 ms)")
    print(f"redraw while 1,000 results stream (run view): p99 {figures['streamRunViewP99Ms']:.1f} ms, "
          f"max {figures['streamRunViewMaxMs']:.1f} ms (budget 16 ms)")


if __name__ == "__main__":
    main()
