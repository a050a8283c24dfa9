"""Throughput of multiprocessing.Queue: the Python peer of bench/queue.ts, three figures.

- payloads: one producer process to the main process, for small ints, small
  dicts {"id": i, "name": "item<i>"} and 1 MiB arrays of doubles
  (array.array('d'), 131072 elements), on an unbounded Queue; a round's time
  runs from the command to the last get.
- stall: one producer puts --stall-n arrays of 1 MiB on Queue(maxsize=4); in
  every other round the main process pauses --stall-ms (time.sleep) after the
  --stall-after-th get. Each round answers the time of every get (ms since the
  command), from which bench/queue.ts computes the same windows as for Node.
- multi: --producers producer processes each put n dicts (then n ints) with ids
  w*n+i on one unbounded Queue; the main process gets them all, checking the
  order per producer.

Producer processes are started once; every round is a command to them.
Prints one JSON line:
{"peer", "start_method", "cpu_s", "payloads": {"int": {"n", "times_ms", "rates"}, ...},
 "stall": {"maxsize", "stalled": [{"ms", "stamps_ms", "resumed_ms", "stalled_ms"}], "unstalled": [{"ms", "stamps_ms"}]},
 "multi": {"producers", "payloads": {"object": {"n", "times_ms", "rates"}, "int": {...}}}}
(each figure only when asked for with --figures).
"""

import os
import sys

# This file is named like the standard library's `queue`, which multiprocessing imports: keep its
# directory off the import path (before anything imports `queue`).
_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]

import argparse  # noqa: E402
import array  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

ARRAY_ELEMENTS = 131072
STALL_MAXSIZE = 4
# A get that waits longer than this fails the run instead of hanging it (seconds).
GET_TIMEOUT_S = 60.0


def producer(queues, commands):
    arr = array.array("d", range(ARRAY_ELEMENTS))
    for target, payload, n, base in iter(commands.get, None):
        q = queues[target]
        if payload == "int":
            for i in range(n):
                q.put(base + i)
        elif payload == "object":
            for i in range(n):
                q.put({"id": base + i, "name": "item%d" % i})
        else:
            for i in range(n):
                q.put(arr)


def one_round(q, commands, payload, n):
    start = time.perf_counter()
    commands[0].put(("plain", payload, n, 0))
    get = q.get
    for _ in range(n):
        get(True, GET_TIMEOUT_S)
    return (time.perf_counter() - start) * 1000.0


def stall_round(q, commands, n, after, stall_ms):
    """One round of the stall figure; stall_ms 0 for a round without the pause."""
    stamps = []
    resumed = 0.0
    stalled = 0.0
    start = time.perf_counter()
    commands[0].put(("small", "array", n, 0))
    get = q.get
    now = time.perf_counter
    for i in range(1, n + 1):
        get(True, GET_TIMEOUT_S)
        stamps.append((now() - start) * 1000.0)
        if i == after and stall_ms > 0:
            t = now()
            time.sleep(stall_ms / 1000.0)
            resumed = (now() - start) * 1000.0
            stalled = (now() - t) * 1000.0
    out = {"ms": stamps[-1], "stamps_ms": stamps}
    if stall_ms > 0:
        out["resumed_ms"] = resumed
        out["stalled_ms"] = stalled
    return out


def multi_round(q, commands, payload, n):
    producers = len(commands)
    start = time.perf_counter()
    for w, c in enumerate(commands):
        c.put(("plain", payload, n, w * n))
    nxt = [w * n for w in range(producers)]
    get = q.get
    for _ in range(producers * n):
        v = get(True, GET_TIMEOUT_S)
        i = v if payload == "int" else v["id"]
        w = i // n
        if nxt[w] != i:
            raise RuntimeError("item %d out of order (producer %d was due to send %d)" % (i, w, nxt[w]))
        nxt[w] = i + 1
    return (time.perf_counter() - start) * 1000.0


def cpu_seconds():
    """CPU time of this process and its reaped children (the producers, once joined)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def rates_of(n, times):
    return {"n": n, "times_ms": times, "rates": [n / t * 1000.0 for t in times]}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--figures", default="payloads,stall,multi")
    parser.add_argument("--int", type=int, default=200000)
    parser.add_argument("--object", type=int, default=100000)
    parser.add_argument("--array", type=int, default=200)
    parser.add_argument("--producers", type=int, default=8)
    parser.add_argument("--multi-object", type=int, default=10000)
    parser.add_argument("--multi-int", type=int, default=20000)
    parser.add_argument("--stall-n", type=int, default=400)
    parser.add_argument("--stall-after", type=int, default=50)
    parser.add_argument("--stall-ms", type=float, default=100.0)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    figures = set(args.figures.split(","))

    queues = {"plain": multiprocessing.Queue(), "small": multiprocessing.Queue(STALL_MAXSIZE)}
    nprocs = args.producers if "multi" in figures else 1
    commands = [multiprocessing.Queue() for _ in range(nprocs)]
    # Daemons: a run that fails (a get timed out) ends them instead of waiting for them at exit.
    procs = [multiprocessing.Process(target=producer, args=(queues, c), daemon=True) for c in commands]
    for p in procs:
        p.start()
    q = queues["plain"]
    out = {}
    if "payloads" in figures:
        payloads = {}
        for payload, n in (("int", args.int), ("object", args.object), ("array", args.array)):
            for _ in range(args.warmup):
                one_round(q, commands, payload, n)
            times = [one_round(q, commands, payload, n) for _ in range(args.runs)]
            payloads[payload] = rates_of(n, times)
        out["payloads"] = payloads
    if "stall" in figures:
        small = queues["small"]
        stalled, unstalled = [], []
        for r in range(args.warmup + args.runs):
            # Alternate which goes first, as bench/lib/rounds.ts does.
            order = (True, False) if r % 2 == 0 else (False, True)
            for pause in order:
                res = stall_round(small, commands, args.stall_n, args.stall_after, args.stall_ms if pause else 0)
                if r >= args.warmup:
                    (stalled if pause else unstalled).append(res)
        out["stall"] = {"maxsize": STALL_MAXSIZE, "stalled": stalled, "unstalled": unstalled}
    if "multi" in figures:
        multi = {}
        for payload, n in (("object", args.multi_object), ("int", args.multi_int)):
            for _ in range(args.warmup):
                multi_round(q, commands, payload, n)
            times = [multi_round(q, commands, payload, n) for _ in range(args.runs)]
            multi[payload] = rates_of(args.producers * n, times)
            multi[payload]["n"] = n
        out["multi"] = {"producers": args.producers, "payloads": multi}
    for c in commands:
        c.put(None)
    for p in procs:
        p.join()
    print(json.dumps({
        "cpu_s": cpu_seconds(),
        "peer": "python multiprocessing.Queue",
        "start_method": multiprocessing.get_start_method(),
        **out,
    }))


if __name__ == "__main__":
    main()
