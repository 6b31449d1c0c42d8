"""Benchmark the 2-D Poisson problem with one million unknowns (grid side m = 1000).

Run from the repository root: .venv/bin/python benchmarks/solver_sparse_poisson.py
The default method is what solve() picks on its own (SuperLU with minimum
degree ordering on A'+A); pass --method cg --preconditioner jacobi and so on
to compare. Progress reports are printed as they arrive.
"""

from __future__ import annotations

import argparse
import time

from solver_dense_lu import describe_machine

from solver_worker.solver import GeneratorSpec, Progress, generate, solve


def print_progress(report: Progress) -> None:
    residual = "" if report.residual is None else f" residual={report.residual:.2e} iteration={report.iteration}"
    eta = "?" if report.eta_s is None else f"{report.eta_s:.1f}"
    print(f"  {report.fraction:6.1%} stage={report.stage} elapsed={report.elapsed_s:.1f}s eta={eta}s{residual}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=1000, help="grid side m; the system has m * m unknowns")
    parser.add_argument("--method", default="auto", help="solve() method")
    parser.add_argument("--preconditioner", default=None, help="jacobi or ilu for iterative methods")
    parser.add_argument("--tol", type=float, default=1e-10, help="relative residual target of iterative methods")
    arguments = parser.parse_args()

    print(describe_machine())
    start = time.perf_counter()
    matrix, rhs = generate(GeneratorSpec(kind="poisson2d", n=arguments.side, seed=0))
    print(f"generated n={matrix.shape[0]} nnz={matrix.nnz} in {time.perf_counter() - start:.1f} s")
    result = solve(matrix, rhs, method=arguments.method, preconditioner=arguments.preconditioner,
                   tol=arguments.tol, progress=print_progress)
    print(f"method={result.method} ({result.method_reason})")
    print(f"elapsed={result.elapsed_s:.1f} s, relative_residual={result.relative_residual:.2e}, "
          f"iterations={result.iterations}, condition_estimate={result.condition_estimate}, "
          f"peak_memory={result.peak_memory_bytes / 1e9:.2f} GB (sampled), flops={result.flops:.3g}")


if __name__ == "__main__":
    main()
