"""Throughput of multiprocessing.Queue, one producer process to the main process.

The peer of bench/queue.ts, with the same three payloads: small ints, small
dicts {"id": i, "name": "item<i>"}, and 1 MiB arrays of doubles
(array.array('d'), 131072 elements). For each payload a producer process,
started once, puts --n<payload> items per round in one loop when told to; the
main process gets them all; a round's time runs from the command to the last
get. Prints one JSON line:
{"peer", "start_method", "cpu_s", "payloads": {"int": {"n", "times_ms", "rates"}, ...}}
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


def producer(q, commands):
    arr = array.array("d", range(ARRAY_ELEMENTS))
    for payload, n in iter(commands.get, None):
        if payload == "int":
            for i in range(n):
                q.put(i)
        elif payload == "object":
            for i in range(n):
                q.put({"id": i, "name": "item%d" % i})
        else:
            for i in range(n):
                q.put(arr)


def one_round(q, commands, payload, n):
    start = time.perf_counter()
    commands.put((payload, n))
    get = q.get
    for _ in range(n):
        get()
    return (time.perf_counter() - start) * 1000.0


def cpu_seconds():
    """CPU time of this process and its reaped children (the producer, once joined)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--int", type=int, default=200000)
    parser.add_argument("--object", type=int, default=100000)
    parser.add_argument("--array", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    q = multiprocessing.Queue()
    commands = multiprocessing.Queue()
    proc = multiprocessing.Process(target=producer, args=(q, commands))
    proc.start()
    payloads = {}
    for payload, n in (("int", args.int), ("object", args.object), ("array", args.array)):
        for _ in range(args.warmup):
            one_round(q, commands, payload, n)
        times = [one_round(q, commands, payload, n) for _ in range(args.runs)]
        payloads[payload] = {"n": n, "times_ms": times, "rates": [n / t * 1000.0 for t in times]}
    commands.put(None)
    proc.join()
    print(json.dumps({
        "cpu_s": cpu_seconds(),
        "peer": "python multiprocessing.Queue",
        "start_method": multiprocessing.get_start_method(),
        "payloads": payloads,
    }))


if __name__ == "__main__":
    main()
