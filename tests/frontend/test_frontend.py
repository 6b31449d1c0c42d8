"""The web UI's own suites, run from pytest so that one `bin/stack test` covers them.

Vitest runs the component tests in jsdom. Playwright drives Debian's Chromium
through nginx against the running stack: sign up, a task from a Matrix Market
file, a large generated task cancelled while it runs, the history.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT, StackEndpoints, tls_context

FRONTEND = REPO_ROOT / "frontend"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
OUTPUT_TAIL_CHARS = 20_000


def run_npm(arguments: list[str], *, timeout_s: int, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run npm in frontend/ and return the finished process with stdout and stderr merged."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not on PATH: install Node.js 20 or later")
    if not (FRONTEND / "node_modules").is_dir():
        pytest.fail("frontend/node_modules is missing: run `bin/stack install` or `cd frontend && npm ci`")
    return subprocess.run(
        [npm, *arguments], cwd=FRONTEND, env={**os.environ, "CI": "1", **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout_s, check=False,
    )


def assert_succeeded(process: subprocess.CompletedProcess, command: str) -> None:
    assert process.returncode == 0, (
        f"{command} failed with exit status {process.returncode}; last output:\n"
        f"{process.stdout[-OUTPUT_TAIL_CHARS:]}"
    )


@pytest.mark.timeout(600)
def test_vitest_suite_passes():
    process = run_npm(["test", "--", "--reporter=dot"], timeout_s=540)
    assert_succeeded(process, "npm test (Vitest)")


@pytest.mark.stack
@pytest.mark.timeout(900)
def test_playwright_journey_passes(stack: StackEndpoints):
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `apt-get install chromium` (or `bin/stack install`)")
    page = httpx.get(f"{stack.nginx_https}/", verify=tls_context(stack), timeout=10)
    assert '<div id="root">' in page.text, (
        "nginx does not serve the built frontend: run `bin/stack up` after `npm run build`, "
        "then reload nginx so that it picks up frontend/dist"
    )

    process = run_npm(
        ["run", "e2e"], timeout_s=840,
        env={"E2E_BASE_URL": stack.nginx_https, "CHROMIUM_PATH": str(CHROMIUM)},
    )
    assert_succeeded(process, "npm run e2e (Playwright)")
