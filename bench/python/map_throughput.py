"""Throughput of multiprocessing.Pool.map over many tiny items.

The peer of bench/map-throughput.ts: square over list(range(--items)), once
with chunksize=1000 and once with Python's default chunksize (about four
chunks per worker), in alternating rounds. Each round's time covers the
whole map call. Prints one JSON line:
{"peer", "processes", "items", "start_method", "modes": {name: {"chunksize", "times_ms", "rates"}}}
"""

import argparse
import json
import multiprocessing
import resource
import time


def square(x):
    return x * x


def one_round(pool, data, chunksize):
    start = time.perf_counter()
    out = pool.map(square, data, chunksize)
    elapsed = (time.perf_counter() - start) * 1000.0
    if len(out) != len(data) or out[-1] != data[-1] * data[-1]:
        raise RuntimeError("wrong map result")
    return elapsed


def cpu_seconds():
    """CPU time of this process and its reaped children (the pool's workers, once joined)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000000)
    parser.add_argument("--processes", type=int, default=multiprocessing.cpu_count())
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    data = list(range(args.items))
    modes = [("chunksize=1000", 1000), ("default chunksize", None)]
    times = {name: [] for name, _ in modes}
    with multiprocessing.Pool(args.processes) as pool:
        for _ in range(args.warmup):
            for _, chunksize in modes:
                one_round(pool, data, chunksize)
        for r in range(args.runs):
            for name, chunksize in modes if r % 2 == 0 else modes[::-1]:
                times[name].append(one_round(pool, data, chunksize))
        pool.close()
        pool.join()
    # What Pool.map picks when chunksize is None (multiprocessing/pool.py).
    default, extra = divmod(len(data), args.processes * 4)
    default += 1 if extra else 0
    print(json.dumps({
        "cpu_s": cpu_seconds(),
        "peer": "python multiprocessing.Pool.map",
        "processes": args.processes,
        "items": args.items,
        "start_method": multiprocessing.get_start_method(),
        "modes": {
            name: {
                "chunksize": chunksize if chunksize is not None else default,
                "times_ms": times[name],
                "rates": [args.items / t * 1000.0 for t in times[name]],
            }
            for name, chunksize in modes
        },
    }))


if __name__ == "__main__":
    main()
