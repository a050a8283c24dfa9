"""Speed-up of multiprocessing.Pool on a CPU-bound kernel.

The peer of bench/speedup.ts, with the same algorithm (count primes in a range
by trial division by 2 and the odd numbers up to sqrt(n)) and the same
decomposition: [--lo, --hi) cut into --tasks equal ranges, one task per range
(Pool.map with chunksize=1). Times the serial loop in this process, then
Pool(w).map for each w of --workers, each on a warm pool. Prints one JSON line:
{"peer", "lo", "hi", "tasks", "primes", "start_method", "serial_ms": [...], "pool_ms": {w: [...]}}
"""

import argparse
import json
import multiprocessing
import resource
import time


def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True


def count_primes(bounds):
    lo, hi = bounds
    count = 0
    for n in range(lo, hi):
        if is_prime(n):
            count += 1
    return count


def split(lo, hi, parts):
    """[lo, hi) cut into `parts` ranges, as bench/speedup.ts cuts it."""
    size = hi - lo
    return [(lo + size * i // parts, lo + size * (i + 1) // parts) for i in range(parts)]


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return (time.perf_counter() - start) * 1000.0, value


def cpu_seconds():
    """CPU time of this process and its reaped children (the pool's workers, once joined)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lo", type=int, required=True)
    parser.add_argument("--hi", type=int, required=True)
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--workers", default=str(multiprocessing.cpu_count()))
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    ranges = split(args.lo, args.hi, args.tasks)
    serial = lambda: sum(count_primes(r) for r in ranges)  # noqa: E731
    primes = serial()
    serial_ms = [timed(serial)[0] for _ in range(args.runs)]
    pool_ms = {}
    for w in [int(x) for x in args.workers.split(",")]:
        with multiprocessing.Pool(w) as pool:
            run = lambda: sum(pool.map(count_primes, ranges, 1))  # noqa: E731
            for _ in range(args.warmup):
                run()
            times = []
            for _ in range(args.runs):
                ms, value = timed(run)
                if value != primes:
                    raise RuntimeError(f"Pool({w}) counted {value} primes, serial {primes}")
                times.append(ms)
            pool_ms[str(w)] = times
            pool.close()
            pool.join()
    print(json.dumps({
        "cpu_s": cpu_seconds(),
        "peer": "python multiprocessing.Pool.map",
        "lo": args.lo,
        "hi": args.hi,
        "tasks": args.tasks,
        "primes": primes,
        "start_method": multiprocessing.get_start_method(),
        "serial_ms": serial_ms,
        "pool_ms": pool_ms,
    }))


if __name__ == "__main__":
    main()
