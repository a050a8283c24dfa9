"""Per-task overhead of multiprocessing.Pool: apply_async of a no-op.

The peer of bench/overhead.ts. Each round submits --tasks no-op tasks with
apply_async (all in flight at once), then waits for every result; the round's
time covers both. Prints one JSON line:
{"peer", "processes", "tasks", "start_method", "times_ms": [...], "rates": [...]}
"""

import argparse
import json
import multiprocessing
import resource
import time


def noop():
    return None


def one_round(pool, tasks):
    start = time.perf_counter()
    results = [pool.apply_async(noop) for _ in range(tasks)]
    for r in results:
        r.get()
    return (time.perf_counter() - start) * 1000.0


def cpu_seconds():
    """CPU time of this process and its reaped children (the pool's workers, once joined)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--processes", type=int, default=multiprocessing.cpu_count())
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with multiprocessing.Pool(args.processes) as pool:
        for _ in range(args.warmup):
            one_round(pool, args.tasks)
        times = [one_round(pool, args.tasks) for _ in range(args.runs)]
        pool.close()
        pool.join()
    print(json.dumps({
        "cpu_s": cpu_seconds(),
        "peer": "python multiprocessing.Pool.apply_async",
        "processes": args.processes,
        "tasks": args.tasks,
        "start_method": multiprocessing.get_start_method(),
        "times_ms": times,
        "rates": [args.tasks / t * 1000.0 for t in times],
    }))


if __name__ == "__main__":
    main()
