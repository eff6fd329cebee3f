"""Fleet benchmark: winfleet against `winfleet sim --hosts N --auth ntlm --latency-ms 20`.

Measures, on this machine:
- cold runs of `hostname` (connect, authenticate, open shell, run) on every host, wall (the median
  of `--cold-runs` runs, each a new winfleet process against the same simulator);
- warm runs (`--repeat`, sessions kept), wall per iteration;
- the pywinrm baseline (32 threads, one Session per host) on the same fleet (the median of
  `--pywinrm-runs` runs), and the ratio of the medians;
every wall time from process start (winfleet's start and inventory loading count, and so do the
Python interpreter's start and `import winrm`).
- winfleet's peak RSS and CPU per host per command;
each beside the RTT lower bound (round trips x latency).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

# Round trips with the simulated latency before a host's result is printed. Cold: NEGOTIATE,
# AUTHENTICATE, Create, Command, Receive (the result is printed when Receive says Done; the terminate
# Signals go out once every host's result is in, the shells are deleted at exit). Warm: Command,
# Receive, and the previous iteration's Signal, which goes out before the next Command.
ROUND_TRIPS_COLD = 5
ROUND_TRIPS_WARM = 3


def start_sim(winfleet, hosts, latency, first_address, inventory):
    sim = subprocess.Popen(
        [winfleet, "sim", "--hosts", str(hosts), "--auth", "ntlm", "--latency-ms", str(latency),
         "--first-address", first_address, "--inventory-out", inventory],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = sim.stdout.readline()
    if not line.startswith("ready"):
        sim.kill()
        raise SystemExit(f"simulator did not start: {line!r} {sim.stderr.read()}")
    return sim


def run_winfleet(winfleet, inventory, db, repeat, hosts, extra_env):
    """Runs winfleet, returns (per-iteration completion times, rusage, ok count, time to exit)."""
    env = dict(os.environ, **extra_env)
    args = [winfleet, "run", "--inventory", inventory, "--format", "jsonl", "--throttle", str(hosts),
            "--db", db]
    if repeat > 1:
        args += ["--repeat", str(repeat)]
    started = time.clock_gettime(time.CLOCK_MONOTONIC)
    process = subprocess.Popen(args + ["--", "hostname"], stdout=subprocess.PIPE, env=env)
    # Lines are only counted while winfleet runs (parsing them here would take this machine's CPU
    # from the run being measured). Iterations run one after the other and every host reports once
    # in each, so each block of `hosts` lines is one iteration.
    lines = []
    completed = []
    for line in process.stdout:
        lines.append(line)
        if len(lines) % hosts == 0:
            completed.append(time.clock_gettime(time.CLOCK_MONOTONIC) - started)
    _, status, usage = os.wait4(process.pid, 0)
    exited = time.clock_gettime(time.CLOCK_MONOTONIC) - started
    ok = sum(json.loads(line)["status"] == "ok" for line in lines)
    return completed, usage, ok, exited


def pywinrm_hosts(inventory):
    """The simulated fleet as the pywinrm baseline wants it."""
    with open(inventory) as f:
        fleet = json.load(f)
    return [{"name": h["name"], "address": h["address"], "port": h.get("port", 5985),
             "username": "WINFLEET\\operator", "password": "winfleet-demo"} for h in fleet["hosts"]]


def run_pywinrm(hosts):
    """One pywinrm baseline run; its time counts from process start, like winfleet's: the interpreter's
    start and `import winrm` (about 0.17 s here) count, as winfleet's own start and inventory do."""
    here = os.path.dirname(os.path.abspath(__file__))
    spawned = time.clock_gettime(time.CLOCK_MONOTONIC)
    baseline = subprocess.run([sys.executable, os.path.join(here, "pywinrm_baseline.py")],
                              input=json.dumps(hosts), capture_output=True, text=True, check=True)
    run = json.loads(baseline.stdout)
    run["from_start_s"] = run["done_monotonic"] - spawned
    return run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--winfleet", required=True)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=6)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--pywinrm-runs", type=int, default=3)
    parser.add_argument("--skip-pywinrm", action="store_true")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="winfleet-bench-")
    inventory = os.path.join(workdir, "fleet.json")
    db = os.path.join(workdir, "history.sqlite")
    env = {"WINFLEET_DEMO_PASSWORD": "winfleet-demo"}
    latency = args.latency_ms / 1000
    sim = start_sim(args.winfleet, args.hosts, args.latency_ms, "127.2.0.1", inventory)
    figures = {}
    try:
        # Cold winfleet runs and pywinrm runs take turns, so that both see the machine in the same
        # state (its speed drifts by several per cent within a minute here).
        baseline_hosts = None if args.skip_pywinrm else pywinrm_hosts(inventory)
        colds, runs = [], []
        for index in range(max(args.cold_runs, 0 if args.skip_pywinrm else args.pywinrm_runs)):
            if index < args.cold_runs:
                colds.append(run_winfleet(args.winfleet, inventory, db, 1, args.hosts, env))
            if baseline_hosts is not None and index < args.pywinrm_runs:
                runs.append(run_pywinrm(baseline_hosts))
        cold_walls = sorted(times[-1] for times, _, _, _ in colds if times)
        cold_exits = sorted(exit_s for _, _, _, exit_s in colds)
        cold_wall = cold_walls[len(cold_walls) // 2] if len(cold_walls) == len(colds) else None
        cold_exit = cold_exits[len(cold_exits) // 2]
        cold_ok = min(ok for _, _, ok, _ in colds)
        cold_rss = max(usage.ru_maxrss for _, usage, _, _ in colds)
        warm_times, warm_usage, warm_ok, _ = run_winfleet(args.winfleet, inventory, db, args.repeat, args.hosts, env)
        per_iteration = [b - a for a, b in zip(warm_times, warm_times[1:])]
        cpu = warm_usage.ru_utime + warm_usage.ru_stime
        figures = {
            "hosts": args.hosts,
            "latency_ms": args.latency_ms,
            "cold_wall_s": cold_wall,
            "cold_walls": cold_walls,
            "cold_ok": cold_ok,
            # Until the process exited: the last terminate Signals, every shell deleted, connections closed.
            "cold_exit_s": cold_exit,
            "cold_exits": cold_exits,
            "cold_rtt_bound_s": ROUND_TRIPS_COLD * latency,
            "warm_wall_per_iteration_s": sorted(per_iteration)[len(per_iteration) // 2] if per_iteration else None,
            "warm_iterations": per_iteration,
            "warm_ok": warm_ok,
            "warm_rtt_bound_s": ROUND_TRIPS_WARM * latency,
            "peak_rss_mb": max(cold_rss, warm_usage.ru_maxrss) / 1024,
            "cpu_ms_per_host_command": 1000 * cpu / (args.hosts * args.repeat),
        }
        if runs:
            runs.sort(key=lambda run: run["from_start_s"])
            py = runs[len(runs) // 2]
            figures["pywinrm_wall_s"] = py["from_start_s"]
            figures["pywinrm_walls"] = [run["from_start_s"] for run in runs]
            figures["pywinrm_pool_only_s"] = py["wall_s"]
            figures["pywinrm_ok"] = min(run["ok"] for run in runs)
            figures["pywinrm_errors"] = [error for run in runs for error in run["errors"]][:3]
            if figures["cold_wall_s"]:
                # Both from process start to the last result (to exit: winfleet's exit).
                figures["speedup_vs_pywinrm"] = py["from_start_s"] / figures["cold_wall_s"]
                figures["speedup_vs_pywinrm_to_exit"] = py["from_start_s"] / cold_exit
                # pywinrm's thread pool alone (without its interpreter start and imports).
                figures["speedup_vs_pywinrm_pool_only"] = py["wall_s"] / figures["cold_wall_s"]
    finally:
        sim.terminate()
        sim.wait()

    print(json.dumps(figures, indent=2))
    print(f"cold run, {args.hosts} hosts:   {figures['cold_wall_s']:.3f} s wall to the last result "
          f"(median of {args.cold_runs}, {min(cold_walls):.3f}-{max(cold_walls):.3f}; "
          f"RTT bound {figures['cold_rtt_bound_s']:.3f} s; {figures['cold_ok']} ok), "
          f"{figures['cold_exit_s']:.3f} s to exit (every shell deleted)")
    if figures["warm_wall_per_iteration_s"] is not None:
        print(f"warm run per iteration: {figures['warm_wall_per_iteration_s']:.3f} s wall "
              f"(RTT bound {figures['warm_rtt_bound_s']:.3f} s)")
    print(f"peak RSS:               {figures['peak_rss_mb']:.1f} MB")
    print(f"CPU per host per command: {figures['cpu_ms_per_host_command']:.3f} ms")
    if "pywinrm_wall_s" in figures:
        print(f"pywinrm (32 threads):   {figures['pywinrm_wall_s']:.2f} s wall from process start (median of "
              f"{args.pywinrm_runs}, {min(figures['pywinrm_walls']):.2f}-{max(figures['pywinrm_walls']):.2f}; "
              f"{figures['pywinrm_pool_only_s']:.2f} s of it in the thread pool; {figures['pywinrm_ok']} ok)"
              f" -> winfleet is {figures.get('speedup_vs_pywinrm', 0):.1f}x faster to the last result, "
              f"{figures.get('speedup_vs_pywinrm_to_exit', 0):.1f}x to exit "
              f"({figures.get('speedup_vs_pywinrm_pool_only', 0):.1f}x against pywinrm's pool alone)")


if __name__ == "__main__":
    main()
