"""Synchronisation primitives of multiprocessing: the peer of bench/sync.ts.

Three measurements, each as bench/sync.ts makes them:

1. uncontended: --pairs acquire()+release() pairs in one loop, in this
   process, for Lock, RLock and Semaphore(1); ns per pair.
2. contended: two processes each do --increments increments of a Value's
   raw int, each under `with lock:` (multiprocessing.Lock); both start through
   a shared-memory gate, each times its own loop, and the round's time is the
   longer of the two. The final count must be exact.
3. ping-pong: two processes and two Events; A sets e1 and waits for e2,
   B waits for e1, clears it and sets e2, A clears e2, and so on, --trips
   times; the round trip is A's loop time over --trips.

Prints one JSON line: {"start_method", "cpu_s", "uncontended": {kind: {...}},
"contended": {...}, "pingpong": {...}}.
"""

import argparse
import json
import multiprocessing
import resource
import time


def cpu_seconds():
    """CPU time of this process and its reaped children (the contending processes, once joined)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def uncontended_round(lock, pairs):
    acquire = lock.acquire
    release = lock.release
    start = time.perf_counter()
    for _ in range(pairs):
        acquire()
        release()
    return (time.perf_counter() - start) * 1000.0


def pass_gate(gate, parties):
    """Counts this process in, then spins until every party has arrived: all start together."""
    with gate.get_lock():
        gate.value += 1
    raw = gate.get_obj()
    while raw.value < parties:
        pass


def contender(lock, counter, gate, n, out, slot):
    raw = counter.get_obj()
    pass_gate(gate, 2)
    start = time.perf_counter()
    for _ in range(n):
        with lock:
            raw.value += 1
    out[slot] = (time.perf_counter() - start) * 1000.0


def contended_round(n):
    lock = multiprocessing.Lock()
    counter = multiprocessing.Value("i", 0, lock=lock)
    gate = multiprocessing.Value("i", 0)
    out = multiprocessing.Array("d", 2, lock=False)
    procs = [
        multiprocessing.Process(target=contender, args=(lock, counter, gate, n, out, i))
        for i in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"contending process exited with {p.exitcode}")
    total = counter.get_obj().value
    if total != 2 * n:
        raise RuntimeError(f"lost increments: counted {total}, expected {2 * n}")
    return max(out[0], out[1]), [out[0], out[1]]


def pinger(e1, e2, gate, trips, out):
    pass_gate(gate, 2)
    start = time.perf_counter()
    for _ in range(trips):
        e1.set()
        e2.wait()
        e2.clear()
    out[0] = (time.perf_counter() - start) * 1000.0


def ponger(e1, e2, gate, trips):
    pass_gate(gate, 2)
    for _ in range(trips):
        e1.wait()
        e1.clear()
        e2.set()


def pingpong_round(trips):
    e1 = multiprocessing.Event()
    e2 = multiprocessing.Event()
    gate = multiprocessing.Value("i", 0)
    out = multiprocessing.Array("d", 1, lock=False)
    procs = [
        multiprocessing.Process(target=pinger, args=(e1, e2, gate, trips, out)),
        multiprocessing.Process(target=ponger, args=(e1, e2, gate, trips)),
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"ping-pong process exited with {p.exitcode}")
    return out[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=2_000_000)
    parser.add_argument("--increments", type=int, default=500_000, help="per process")
    parser.add_argument("--trips", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    uncontended = {}
    kinds = {
        "Lock": multiprocessing.Lock,
        "RLock": multiprocessing.RLock,
        "Semaphore(1)": lambda: multiprocessing.Semaphore(1),
    }
    for name, make in kinds.items():
        lock = make()
        for _ in range(args.warmup):
            uncontended_round(lock, args.pairs)
        times = [uncontended_round(lock, args.pairs) for _ in range(args.runs)]
        uncontended[name] = {
            "pairs": args.pairs,
            "times_ms": times,
            "ns_per_pair": [t * 1e6 / args.pairs for t in times],
        }

    for _ in range(args.warmup):
        contended_round(args.increments)
    rounds = [contended_round(args.increments) for _ in range(args.runs)]
    contended = {
        "increments_per_process": args.increments,
        "times_ms": [r[0] for r in rounds],
        "per_process_ms": [r[1] for r in rounds],
        "rates": [2 * args.increments / r[0] * 1000.0 for r in rounds],
    }

    for _ in range(args.warmup):
        pingpong_round(args.trips)
    times = [pingpong_round(args.trips) for _ in range(args.runs)]
    pingpong = {
        "trips": args.trips,
        "times_ms": times,
        "us_per_round_trip": [t * 1000.0 / args.trips for t in times],
    }

    print(json.dumps({
        "start_method": multiprocessing.get_start_method(),
        "cpu_s": cpu_seconds(),
        "uncontended": uncontended,
        "contended": contended,
        "pingpong": pingpong,
    }))


if __name__ == "__main__":
    main()
