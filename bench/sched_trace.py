#!/usr/bin/env python3
"""Who takes the compute threads' cores: records the scheduler for a few seconds with `perf`
(system-wide: `sched_switch` and `sched_yield` entry and exit) while a process runs, and charges
every moment one of its busiest threads spent runnable but off its core to whoever ran instead:
another of those threads, another thread of the same process, or another process (by name and
priority; 139 is `nice 19`). Prints milliseconds per thread-second, split into preemptions and
`sched_yield` calls.

    target/release/trainer --dataset folder --data-dir /tmp/photos20k --epochs 1 &
    sleep 20; sudo python3 bench/sched_trace.py --pid $! --seconds 4

Needs `perf` and the kernel's tracepoints (root, or `perf_event_paranoid` at -1 with tracefs
readable). The busiest threads are found from `/proc/PID/task/*/stat` (user + system time), as
`bench/thread_times.py` reads them.
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

import thread_times  # bench/thread_times.py: the per-thread /proc counters

EVENTS = [
    "sched:sched_switch",
    "syscalls:sys_enter_sched_yield",
    "syscalls:sys_exit_sched_yield",
]
LINE = re.compile(r"\s*(.+?)\s+(\d+)\s+\[\d+\]\s+([\d.]+):\s+(\S+):\s*(.*)")
SWITCH = re.compile(
    r"prev_pid=(\d+) .*prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+) next_prio=(\d+)"
)


def busiest_threads(pid, count):
    """The `count` threads of `pid` with the most CPU time so far."""
    seen = {}
    thread_times.sample(pid, False, seen)
    ranked = sorted(seen.items(), key=lambda kv: -kv[1]["cpu"])
    return [tid for (_, tid), _ in ranked[:count]]


def record(seconds):
    """`perf script` text of `seconds` of system-wide scheduler events."""
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "perf.data")
        args = ["perf", "record", "-a", "-q", "-o", data]
        for event in EVENTS:
            args += ["-e", event]
        subprocess.run(args + ["--", "sleep", str(seconds)], check=True)
        script = subprocess.run(
            ["perf", "script", "-i", data], check=True, capture_output=True, text=True
        )
        return script.stdout.splitlines()


def charge(lines, watched, own):
    """(kind, taker) -> [count, ms] for the watched threads' runnable time off their core."""
    in_yield, off, charged = {}, {}, collections.defaultdict(lambda: [0, 0.0])
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        _, tid, t, event, rest = m.groups()
        if event.endswith("sys_enter_sched_yield"):
            in_yield[tid] = True
        elif event.endswith("sys_exit_sched_yield"):
            in_yield[tid] = False
        elif event == "sched:sched_switch":
            s = SWITCH.search(rest)
            if not s:
                continue
            prev, state, next_comm, nxt, prio = s.groups()
            if prev in watched and state.startswith("R"):
                kind = "yield" if in_yield.get(prev) else "preempted"
                if nxt in watched:
                    taker = "another of these threads"
                elif nxt in own:
                    taker = "another thread of the process"
                else:
                    taker = f"{next_comm} (prio {prio})"
                off[prev] = (float(t), kind, taker)
            elif prev in watched:
                off.pop(prev, None)
            if nxt in watched and nxt in off:
                t0, kind, taker = off.pop(nxt)
                entry = charged[(kind, taker)]
                entry[0] += 1
                entry[1] += (float(t) - t0) * 1e3
    return charged


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pid", type=int, required=True, help="the process to watch")
    parser.add_argument("--seconds", type=float, default=4.0, help="how long to record (4)")
    parser.add_argument(
        "--threads", type=int, default=2, help="how many of its busiest threads to watch (2)"
    )
    args = parser.parse_args()
    if not os.path.isdir(f"/proc/{args.pid}"):
        sys.exit(f"no process {args.pid}")
    watched = set(busiest_threads(args.pid, args.threads))
    own = set(os.listdir(f"/proc/{args.pid}/task"))
    charged = charge(record(args.seconds), watched, own)
    thread_seconds = args.seconds * len(watched)
    print(f"threads {', '.join(sorted(watched))} of {args.pid}, {args.seconds:g} s")
    print(f"{'off its core by':<22} {'taken by':<40} {'times':>6} {'ms':>8} {'ms per thread-s':>16}")
    for (kind, taker), (n, ms) in sorted(charged.items(), key=lambda kv: -kv[1][1]):
        print(f"{kind:<22} {taker:<40} {n:>6} {ms:>8.0f} {ms / thread_seconds:>16.1f}")


if __name__ == "__main__":
    main()
