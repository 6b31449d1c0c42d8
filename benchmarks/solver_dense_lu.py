"""Benchmark dense LU: numpy.linalg.solve against solver_worker.solver.solve(method="lu").

Run from the repository root: .venv/bin/python benchmarks/solver_dense_lu.py
Prints seconds and GFLOP/s (2/3 n^3 + 2 n^2 flops) at n = 1000, 2000, 4000,
the peak RSS above the baseline as a multiple of the matrix bytes (VmHWM in
a fresh process after resetting it through /proc/self/clear_refs), and the delay from cancel() to the raised
SolveCancelledError at n = 4000. Each timing is the best of --repeats runs.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
from threadpoolctl import threadpool_info

from solver_worker.solver import CancelToken, SolveCancelledError, solve

MEMORY_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from solver_worker.solver import solve

    def status_bytes(key):
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(key + " missing from /proc/self/status")

    n = {n}
    solve(np.random.default_rng(1).standard_normal((300, 300)), np.ones(300), method="lu")
    matrix = np.random.default_rng(0).standard_normal((n, n))
    rhs = np.ones(n)
    # Writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS, so
    # neither earlier temporaries nor the parent's peak inherited at fork count.
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    baseline = status_bytes("VmRSS")
    result = solve(matrix, rhs, method="lu")
    peak = status_bytes("VmHWM")
    print((peak - baseline) / matrix.nbytes, result.peak_memory_bytes / matrix.nbytes)
    """
)


def describe_machine() -> str:
    cpu = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    blas = "; ".join(
        f"{info['internal_api']} {info['version']} ({info['num_threads']} threads, {info['filepath'].split('/')[-1]})"
        for info in threadpool_info()
        if info["user_api"] == "blas"
    )
    return f"nproc={subprocess.check_output(['nproc'], text=True).strip()}, CPU: {cpu}, Python {platform.python_version()}, BLAS: {blas}"


def best_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def measure_cancel_delay(matrix: np.ndarray, rhs: np.ndarray, after_s: float) -> float:
    token = CancelToken()
    stopped: dict[str, float] = {}

    def run() -> None:
        try:
            solve(matrix, rhs, method="lu", cancel=token)
        except SolveCancelledError:
            stopped["at"] = time.perf_counter()

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(after_s)
    cancelled_at = time.perf_counter()
    token.cancel()
    worker.join()
    if "at" not in stopped:
        raise RuntimeError("the solve finished before cancel(); use a shorter --cancel-after")
    return stopped["at"] - cancelled_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000], help="matrix orders")
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing; the best is reported")
    parser.add_argument("--cancel-after", type=float, default=0.3, help="seconds from start to cancel()")
    arguments = parser.parse_args()

    print(describe_machine())
    print("| n | numpy.linalg.solve s | GFLOP/s | library LU s | GFLOP/s | ratio (library / numpy throughput) |")
    print("|---|---|---|---|---|---|")
    for n in arguments.sizes:
        rng = np.random.default_rng(n)
        matrix = rng.standard_normal((n, n))
        rhs = rng.standard_normal(n)
        flops = 2 * n**3 / 3 + 2 * n**2
        reports = []
        numpy_s = best_time(lambda: np.linalg.solve(matrix, rhs), arguments.repeats)
        library_s = best_time(lambda: solve(matrix, rhs, method="lu", progress=reports.append), arguments.repeats)
        print(f"| {n} | {numpy_s:.3f} | {flops / numpy_s / 1e9:.1f} | {library_s:.3f} | "
              f"{flops / library_s / 1e9:.1f} | {numpy_s / library_s:.2f} |")

    n = max(arguments.sizes)
    completed = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT.format(n=n)], capture_output=True, text=True,
                               check=True)
    measured_ratio, sampled_ratio = (float(value) for value in completed.stdout.split())
    print(f"peak RSS above baseline at n={n}: {measured_ratio:.3f} x matrix bytes (VmHWM after clear_refs), "
          f"{sampled_ratio:.3f} x (SolveResult.peak_memory_bytes)")

    matrix = np.random.default_rng(1).standard_normal((n, n))
    delays = [measure_cancel_delay(matrix, np.ones(n), arguments.cancel_after) for _ in range(3)]
    print(f"cancel to stop at n={n}: " + ", ".join(f"{delay:.3f} s" for delay in delays))


if __name__ == "__main__":
    main()
