#!/usr/bin/env python3
"""Where a process's threads spend their time: runs a command (or watches a PID) and prints, per
thread group, the CPU time, the time spent runnable but waiting for a core (the run queue), the
time asleep or blocked, and the context switches, from Linux's per-thread counters
(`/proc/PID/task/TID/{stat,schedstat,status}`), read every `--interval` seconds until the
process ends.

    python3 bench/thread_times.py -- target/release/trainer --epochs 1
    python3 bench/thread_times.py --pid 1234 --seconds 60
    python3 bench/thread_times.py --json times.json -- python3 bench/pytorch_recipe.py ...

Columns, summed over the threads of a group (threads with the same name, digits stripped):
threads; cpu s (user + system); runq s (runnable, waiting for a core: what a neighbour costs);
idle s (the rest of each thread's life: asleep, blocked, waiting for work); vol and invol (context
switches: voluntary ones are waits, involuntary ones are preemptions). A busy-waiting thread shows
cpu time and few voluntary switches; a sleeping one shows idle time and many. With `--children`
the command's child processes (e.g. PyTorch's DataLoader workers) are counted too.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def thread_sample(pid, tid):
    """One thread's counters, or None when it is gone."""
    base = f"/proc/{pid}/task/{tid}"
    stat, sched, status = read(f"{base}/stat"), read(f"{base}/schedstat"), read(f"{base}/status")
    if stat is None or sched is None or status is None:
        return None
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    utime, stime, start = int(fields[11]), int(fields[12]), int(fields[19])
    run_ns, wait_ns, _slices = (int(v) for v in sched.split())
    switches = dict(re.findall(r"^(voluntary_ctxt_switches|nonvoluntary_ctxt_switches):\s+(\d+)",
                               status, re.M))
    return dict(comm=comm, cpu=(utime + stime) / TICKS, run=run_ns / 1e9, runq=wait_ns / 1e9,
                start=start / TICKS, vol=int(switches.get("voluntary_ctxt_switches", 0)),
                invol=int(switches.get("nonvoluntary_ctxt_switches", 0)))


def children(pid):
    text = read(f"/proc/{pid}/task/{pid}/children") or ""
    found = []
    for child in text.split():
        found.append(int(child))
        found.extend(children(int(child)))
    return found


def sample(pid, with_children, seen):
    """Updates `seen` (key (pid, tid) -> last counters) with every live thread of `pid`."""
    pids = [pid] + (children(pid) if with_children else [])
    for p in pids:
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            s = thread_sample(p, tid)
            if s is not None:
                s["pid"] = p
                seen[(p, tid)] = s


def uptime():
    return float(read("/proc/uptime").split()[0])


def group_name(comm):
    return re.sub(r"[-_ ]?\d+$", "", comm) or comm


def summarise(seen, end, per_thread=False):
    groups = {}
    for (pid, tid), s in seen.items():
        name = f"{pid}/{tid} {s['comm']}" if per_thread else group_name(s["comm"])
        g = groups.setdefault(name, dict(threads=0, cpu=0.0, runq=0.0, idle=0.0,
                                                          vol=0, invol=0))
        life = max(end - s["start"], 0.0)
        g["threads"] += 1
        g["cpu"] += s["cpu"]
        g["runq"] += s["runq"]
        g["idle"] += max(life - s["run"] - s["runq"], 0.0)
        g["vol"] += s["vol"]
        g["invol"] += s["invol"]
    return groups


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pid", type=int, help="watch this process instead of running a command")
    ap.add_argument("--seconds", type=float, help="with --pid: stop watching after this long")
    ap.add_argument("--interval", type=float, default=0.25, help="seconds between samples (0.25)")
    ap.add_argument("--children", action="store_true", help="count child processes too")
    ap.add_argument("--per-thread", action="store_true",
                    help="one row per thread (PID/TID name) instead of per name")
    ap.add_argument("--json", help="also write the groups to this file")
    ap.add_argument("command", nargs="*", help="the command to run (after --)")
    args = ap.parse_args()
    if (args.pid is None) == (not args.command):
        ap.error("give a command after -- or --pid")
    proc = None
    if args.pid is None:
        proc = subprocess.Popen(args.command)
        pid = proc.pid
    else:
        pid = args.pid
    seen, begin = {}, time.monotonic()
    while True:
        sample(pid, args.children, seen)
        end = uptime()
        if proc is not None and proc.poll() is not None:
            break
        if proc is None and (not os.path.exists(f"/proc/{pid}") or
                             (args.seconds and time.monotonic() - begin > args.seconds)):
            break
        time.sleep(args.interval)
    wall = time.monotonic() - begin
    groups = summarise(seen, end, args.per_thread)
    print(f"wall {wall:.1f} s; counters as last sampled (every {args.interval:g} s)",
          file=sys.stderr)
    print(f"{'thread (group)':<24} {'threads':>7} {'cpu s':>8} {'runq s':>8} {'idle s':>8} "
          f"{'vol':>8} {'invol':>7}", file=sys.stderr)
    for name, g in sorted(groups.items(), key=lambda kv: -kv[1]["cpu"]):
        print(f"{name:<24} {g['threads']:>7} {g['cpu']:>8.1f} {g['runq']:>8.1f} "
              f"{g['idle']:>8.1f} {g['vol']:>8} {g['invol']:>7}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(wall_seconds=wall, groups=groups), f, indent=1)
    if proc is not None:
        sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
