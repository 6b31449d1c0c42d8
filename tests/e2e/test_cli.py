"""The command-line client against the real stack: sign up, submit a large dense problem, cancel it mid-solve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests.conftest import REPO_ROOT, tls_context

pytestmark = pytest.mark.stack


def cli_environment(stack, config_dir) -> dict[str, str]:
    return {**os.environ, "SCT_URL": stack.nginx_https, "SCT_CACERT": str(stack.tls_cert),
            "SCT_CONFIG_DIR": str(config_dir)}


def run_cli(environment, *arguments, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *arguments], cwd=REPO_ROOT, env=environment, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def wait_until_running(stack, config_dir, task_id: str, timeout_s: float = 60) -> dict:
    token = json.loads((config_dir / "credentials.json").read_text())["access_token"]
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=stack.nginx_https, verify=tls_context(stack)) as client:
        while time.monotonic() < deadline:
            task = client.get(f"/query/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {token}"}).json()
            if task["status"] == "running" and task["progress"] > 0:
                return task
            assert task["status"] in ("queued", "running"), task
            time.sleep(0.02)
    raise AssertionError(f"task {task_id} did not start within {timeout_s} s")


def test_cli_submit_watch_cancel(stack, tmp_path):
    environment = cli_environment(stack, tmp_path)
    email = f"cli-{uuid.uuid4().hex[:12]}@example.org"
    registered = run_cli(environment, "register", email, "--password-stdin", stdin="a long enough password\n")
    assert registered.returncode == 0, registered.stderr
    assert (tmp_path / "credentials.json").stat().st_mode & 0o777 == 0o600

    # n = 6000 rather than 3000: on an idle two-core machine an n = 3000 LU finishes in about a
    # second, before a freshly started CLI process can send the cancel.
    submitted = run_cli(environment, "submit", "--generate", "random_dense:6000:11")
    assert submitted.returncode == 0, submitted.stderr
    task_id = submitted.stdout.split()[2]
    watcher = subprocess.Popen([sys.executable, "-m", "cli", "watch", task_id], cwd=REPO_ROOT, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_running(stack, tmp_path, task_id)
        cancelled = run_cli(environment, "cancel", task_id)
        stdout, stderr = watcher.communicate(timeout=60)
    finally:
        watcher.kill()

    assert cancelled.returncode == 0, cancelled.stderr
    assert "cancellation_requested" in cancelled.stdout
    assert watcher.returncode == 3, stderr
    assert f"task {task_id}: cancelled" in stdout
    assert "%" in stderr
    listed = run_cli(environment, "list", "--status", "cancelled")
    assert task_id in listed.stdout
    task = json.loads(run_cli(environment, "show", task_id).stdout)
    assert task["error"]["while_running"] is True
    assert task["progress"] < 1.0


# hilbert:6 travels inline in TaskCompleted; poisson2d:80 (6400 unknowns) goes to the blob store.
@pytest.mark.parametrize(("generator", "length"), [("hilbert:6", 6), ("poisson2d:80", 6400)])
def test_cli_download_result(stack, tmp_path, generator, length):
    environment = cli_environment(stack, tmp_path)
    email = f"cli-{uuid.uuid4().hex[:12]}@example.org"
    run_cli(environment, "register", email, "--password-stdin", stdin="a long enough password\n")

    solved = run_cli(environment, "submit", "--generate", generator, "--watch")
    task_id = solved.stdout.split()[2]
    downloaded = run_cli(environment, "download", task_id, "--format", "csv", "-o", str(tmp_path / "x.csv"))

    assert solved.returncode == 0, solved.stderr
    assert "completed" in solved.stdout
    assert downloaded.returncode == 0, downloaded.stderr
    assert len((tmp_path / "x.csv").read_text().split()) == length


def test_cli_without_login_explains(stack, tmp_path):
    result = run_cli(cli_environment(stack, tmp_path), "list")

    assert result.returncode == 1
    assert "login" in result.stderr
