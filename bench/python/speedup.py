"""Speed-up of multiprocessing.Pool on the CPU-bound kernels of bench/speedup.ts.

The Python peer of bench/speedup.ts. Given a kernel and the job's parameters
exactly as bench/lib/workloads.ts records them (--params, a JSON object that
includes "tasks"), it builds the same task inputs with the same arithmetic and
runs the same algorithm, so its checksum must equal Node's:

- primes:     {"lo", "hi", "tasks"}: count the primes in [lo, hi) by trial
              division by 2 and the odd numbers up to sqrt(n); [lo, hi) cut
              into `tasks` consecutive ranges (bench/lib/ranges.ts).
- mandelbrot: {"width", "height", "maxIter", "tasks"}: sum of escape counts
              (z = z*z + c, |z|^2 > 4, capped at maxIter) over a width x height
              image of re in [-2, 0.5], im in [-1.25, 1.25]; task t takes rows
              t, t + tasks, t + 2*tasks, ... The float operations are those of
              workers/bench-algorithms.ts in the same order, so the counts
              agree bit for bit.
- sha256:     {"bytes", "rounds", "tasks"}: task t hashes its own `bytes`-long
              buffer (byte i = (31*i + 17*t) & 255) `rounds` times over; its
              checksum is the first 4 bytes of the digest, big-endian.
- matmul:     {"rows", "n", "tasks"}: C = A x B for a rows x n matrix A and
              an n x n matrix B of small integers, A[i][j] = (i*n + j) % 17 - 8,
              B[i][j] = (3i + 5j) % 13 - 6; the checksum weighs C[i][j] by
              (i + 2j) % 7 + 1. Rows cut into `tasks` consecutive blocks; each
              entry a dot product of a row of A (made when needed) and a row
              of B^T (built once per process); nothing is shipped.

The job's checksum is the sum of the tasks' checksums. Opens Pool(w) for each w
of --workers, runs --warmup unrecorded rounds of every peer, then --runs rounds
alternating the serial loop in this process and Pool(w).map(compute, inputs, 1)
on each pool (forward, then backward), checking every result against the
serial checksum. Prints one JSON line:
{"kernel", "params", "tasks", "checksum", "start_method", "cpu_s",
 "serial_ms": [...], "pool_ms": {"<w>": [...], ...}}
where cpu_s is the CPU time of this process and its reaped children.

    python3 -I speedup.py --kernel primes --params '{"lo": 10000000, "hi": 10040000, "tasks": 128}' --workers 1,2
"""

import argparse
import hashlib
import json
import multiprocessing
import resource
import time

KERNELS = ("primes", "mandelbrot", "sha256", "matmul")
PARAMS = {
    "primes": ("lo", "hi", "tasks"),
    "mandelbrot": ("width", "height", "maxIter", "tasks"),
    "sha256": ("bytes", "rounds", "tasks"),
    "matmul": ("rows", "n", "tasks"),
}


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


def count_primes(lo, hi):
    count = 0
    for n in range(lo, hi):
        if is_prime(n):
            count += 1
    return count


def mandelbrot_rows(width, height, max_iter, row_start, row_step):
    total = 0
    for y in range(row_start, height, row_step):
        ci = -1.25 + (2.5 * y) / height
        for x in range(width):
            cr = -2.0 + (2.5 * x) / width
            zr = 0.0
            zi = 0.0
            n = 0
            while n < max_iter:
                zr2 = zr * zr
                zi2 = zi * zi
                if zr2 + zi2 > 4.0:
                    break
                zi = 2.0 * zr * zi + ci
                zr = zr2 - zi2 + cr
                n += 1
            total += n
    return total


def sha256_rounds(data, rounds):
    h = hashlib.sha256()
    for _ in range(rounds):
        h.update(data)
    return int.from_bytes(h.digest()[:4], "big")


_bt = {}


def transposed_b(n):
    """B transposed (bt[j][k] = B[k][j]) for n, built on first use in this process and kept."""
    if n not in _bt:
        _bt.clear()
        _bt[n] = [[float((k * 3 + j * 5) % 13 - 6) for k in range(n)] for j in range(n)]
    return _bt[n]


def matmul_rows(n, row0, row1):
    """The weighted sum of rows [row0, row1) of C = A x B, each entry a dot product of a row of A and a row of B^T."""
    bt = transposed_b(n)
    total = 0.0
    for i in range(row0, row1):
        ai = [float((i * n + k) % 17 - 8) for k in range(n)]
        for j in range(n):
            bj = bt[j]
            s = 0.0
            for k in range(n):
                s += ai[k] * bj[k]
            total += s * ((i + 2 * j) % 7 + 1)
    return int(total)


def compute(task):
    """One task's checksum; `task` is a tuple (kind, *arguments)."""
    kind = task[0]
    if kind == "primes":
        return count_primes(task[1], task[2])
    if kind == "mandelbrot":
        return mandelbrot_rows(*task[1:])
    if kind == "sha256":
        return sha256_rounds(task[1], task[2])
    if kind == "matmul":
        return matmul_rows(*task[1:])
    raise TypeError(f"unknown kernel input kind: {kind!r}")


def split(lo, hi, parts):
    """[lo, hi) cut into `parts` ranges, as bench/lib/ranges.ts splitRange cuts it."""
    size = hi - lo
    return [(lo + size * i // parts, lo + size * (i + 1) // parts) for i in range(parts)]


def pattern(size, task):
    """Task `task`'s sha256 buffer: byte i is (31*i + 17*task) & 255 (period 256), as workloads.ts builds it."""
    block = bytes((31 * i + 17 * task) & 255 for i in range(256))
    return (block * (size // 256 + 1))[:size]


def build_inputs(kernel, params):
    """The job's task inputs, made from its params as bench/lib/workloads.ts makes them."""
    if not isinstance(params, dict):
        raise ValueError(f"--params must be a JSON object: received {json.dumps(params)}")
    missing = [k for k in PARAMS[kernel] if not isinstance(params.get(k), int)]
    if missing:
        raise ValueError(f"--params for {kernel} needs integer {', '.join(missing)}: received {json.dumps(params)}")
    tasks = params["tasks"]
    if tasks < 1:
        raise ValueError(f"params.tasks must be a positive integer: received {tasks}")
    if kernel == "primes":
        return [("primes", lo, hi) for lo, hi in split(params["lo"], params["hi"], tasks)]
    if kernel == "mandelbrot":
        w, h, it = params["width"], params["height"], params["maxIter"]
        return [("mandelbrot", w, h, it, t, tasks) for t in range(tasks)]
    if kernel == "sha256":
        return [("sha256", pattern(params["bytes"], t), params["rounds"]) for t in range(tasks)]
    n = params["n"]
    return [("matmul", n, row0, row1) for row0, row1 in split(0, params["rows"], tasks)]


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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kernel", choices=KERNELS, required=True)
    parser.add_argument("--params", type=json.loads, required=True, help="the job's parameters as a JSON object")
    parser.add_argument("--workers", default=str(multiprocessing.cpu_count()))
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    inputs = build_inputs(args.kernel, args.params)
    serial = lambda: sum(compute(task) for task in inputs)  # noqa: E731
    checksum = serial()
    widths = [int(x) for x in args.workers.split(",")]
    # Every pool is open (and warm) before the first recorded round, and the
    # rounds alternate serial, pool 1, pool 2, ... then the reverse, as the
    # Node peers do: a burst of other load then falls on every peer alike.
    pools = {w: multiprocessing.Pool(w) for w in widths}
    try:
        contenders = [("serial", serial)]
        for w, pool in pools.items():
            contenders.append((str(w), lambda pool=pool: sum(pool.map(compute, inputs, 1))))
        for _ in range(args.warmup):
            for _, run in contenders:
                run()
        times = {name: [] for name, _ in contenders}
        for r in range(args.runs):
            for name, run in contenders if r % 2 == 0 else reversed(contenders):
                ms, value = timed(run)
                if value != checksum:
                    who = "serial" if name == "serial" else f"Pool({name})"
                    raise RuntimeError(f"{who} {args.kernel} gave checksum {value}, first serial run {checksum}")
                times[name].append(ms)
    finally:
        for pool in pools.values():
            pool.close()
            pool.join()
    serial_ms = times.pop("serial")
    pool_ms = times
    print(json.dumps({
        "kernel": args.kernel,
        "params": args.params,
        "tasks": len(inputs),
        "checksum": checksum,
        "start_method": multiprocessing.get_start_method(),
        "cpu_s": cpu_seconds(),
        "serial_ms": serial_ms,
        "pool_ms": pool_ms,
    }))


if __name__ == "__main__":
    main()
