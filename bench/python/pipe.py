"""Round trip and one-way throughput of multiprocessing.Pipe: the peer of bench/pipe.ts.

- rtt: a child process echoes on one end of a duplex Pipe; the main process
  sends an int and receives it back, --rtt times per round (µs per round trip);
- oneway: a child process sends --oneway small ints on a Pipe(duplex=False)
  when told to; the main process receives them all (items/s).

Stdlib only. Prints one JSON line:
{"peer", "start_method", "cpu_s", "rtt": {"n", "times_ms", "us"}, "oneway": {"n", "times_ms", "rates"}}
"""

import argparse
import json
import multiprocessing
import resource
import time


def echo(conn):
    for m in iter(conn.recv, None):
        conn.send(m)


def sender(w, commands):
    for n in iter(commands.recv, None):
        for i in range(n):
            w.send(i)


def cpu_seconds():
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rtt", type=int, default=10000)
    parser.add_argument("--oneway", type=int, default=200000)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    start_cpu = cpu_seconds()

    a, b = multiprocessing.Pipe()
    p = multiprocessing.Process(target=echo, args=(b,))
    p.start()
    b.close()
    rtt_times = []
    for r in range(args.warmup + args.runs):
        start = time.perf_counter()
        for i in range(args.rtt):
            a.send(i)
            a.recv()
        ms = (time.perf_counter() - start) * 1000.0
        if r >= args.warmup:
            rtt_times.append(ms)
    a.send(None)
    a.close()
    p.join()

    r_end, w_end = multiprocessing.Pipe(duplex=False)
    c_recv, c_send = multiprocessing.Pipe(duplex=False)
    q = multiprocessing.Process(target=sender, args=(w_end, c_recv))
    q.start()
    w_end.close()
    one_times = []
    for r in range(args.warmup + args.runs):
        start = time.perf_counter()
        c_send.send(args.oneway)
        recv = r_end.recv
        last = None
        for _ in range(args.oneway):
            last = recv()
        ms = (time.perf_counter() - start) * 1000.0
        assert last == args.oneway - 1
        if r >= args.warmup:
            one_times.append(ms)
    c_send.send(None)
    q.join()

    print(json.dumps({
        "peer": "python multiprocessing.Pipe",
        "start_method": multiprocessing.get_start_method(),
        "cpu_s": cpu_seconds() - start_cpu,
        "rtt": {"n": args.rtt, "times_ms": rtt_times, "us": [t * 1000.0 / args.rtt for t in rtt_times]},
        "oneway": {"n": args.oneway, "times_ms": one_times, "rates": [args.oneway / (t / 1000.0) for t in one_times]},
    }))


if __name__ == "__main__":
    main()
