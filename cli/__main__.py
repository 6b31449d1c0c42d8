"""Command-line client: sign in, submit, watch live progress, cancel, list, download.

    python -m cli register ada@example.org
    python -m cli login ada@example.org
    python -m cli submit A.mtx --b b.mtx --watch
    python -m cli submit --generate random_dense:3000:7 --watch
    python -m cli list --status completed
    python -m cli download TASK_ID --format npy -o x.npy

The server address comes from --url or SCT_URL; a self-signed certificate is
trusted with --cacert or SCT_CACERT. Tokens are kept in SCT_CONFIG_DIR
(default ~/.config/sct) with mode 0600.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import ssl
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx

from cli.client import ApiError, CommandClient, Credentials, QueryClient
from cli.progress import ProgressBar

GENERATOR_KINDS = ("random_dense", "random_spd", "diagonally_dominant", "poisson2d", "hilbert")
METHODS = ("auto", "lu", "cholesky", "lstsq", "splu", "cg", "gmres", "bicgstab")
# Seconds between reconnects of a dropped progress stream.
RECONNECT_DELAY_S = 1.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("SCT_URL", "https://localhost:8443"),
                        help="base URL of the service, nginx in front of both APIs (default: %(default)s)")
    parser.add_argument("--cacert", default=os.environ.get("SCT_CACERT"),
                        help="PEM file of the CA or self-signed certificate to trust")
    parser.add_argument("--config-dir", type=Path,
                        default=Path(os.environ.get("SCT_CONFIG_DIR", Path.home() / ".config" / "sct")),
                        help="folder of the stored tokens (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)

    for name, text in (("register", "create an account and sign in"), ("login", "sign in")):
        command = commands.add_parser(name, help=text)
        command.add_argument("email", type=email_argument)
        command.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    commands.add_parser("me", help="show the signed-in user")

    submit = commands.add_parser("submit", help="submit A x = b from files or a generator")
    submit.add_argument("a", nargs="?", type=Path, help="matrix A: .mtx, .csv or .npy")
    submit.add_argument("--b", type=Path, help="right-hand side b: .mtx, .csv or .npy")
    submit.add_argument("--generate", metavar="KIND:N[:SEED]",
                        help=f"generated problem instead of files; KIND is one of {', '.join(GENERATOR_KINDS)}")
    submit.add_argument("--method", choices=METHODS, default="auto", help="solver (default: auto)")
    submit.add_argument("--tol", type=float, help="relative tolerance of iterative methods")
    submit.add_argument("--max-iter", type=int, help="iteration limit of iterative methods")
    submit.add_argument("--watch", action="store_true", help="follow the progress until the task finishes")

    for name, text in (("watch", "follow a task's live progress"), ("cancel", "cancel a queued or running task"),
                       ("show", "show everything about one task")):
        commands.add_parser(name, help=text).add_argument("task_id", type=task_id_argument)

    listing = commands.add_parser("list", help="list your tasks, newest first")
    listing.add_argument("--status", choices=("queued", "running", "completed", "failed", "cancelled"))
    listing.add_argument("--method", help="requested or resolved method")
    listing.add_argument("--since", type=since_argument,
                         help="only tasks submitted at or after this ISO 8601 date or time")
    listing.add_argument("--limit", type=int, default=20, help="maximum number of tasks to show (default: %(default)s)")

    download = commands.add_parser("download", help="download a completed task's solution x")
    download.add_argument("task_id", type=task_id_argument)
    download.add_argument("--format", choices=("json", "csv", "npy", "mtx"), default="npy")
    download.add_argument("-o", "--output", type=Path, help="file to write (default: x-TASK_ID.FORMAT)")
    return parser


class UsageError(Exception):
    """Raised for command-line arguments that are wrong before any request is sent."""


def task_id_argument(value: str) -> str:
    """Return `value` when it is a task id (a UUID), so a typo fails before any request."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a task id; task ids are UUIDs such as 0b7e6f3a-5f7c-4f1e-9d2a-3c4b5a6d7e8f, "
            "and `list` shows yours") from None


def since_argument(value: str) -> str:
    """Return `value` when it is an ISO 8601 date or date and time."""
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 date or time; use for example 2026-12-01 or 2026-12-01T08:00:00Z"
        ) from None
    return value


def email_argument(value: str) -> str:
    """Return `value` when it looks like an e-mail address, so that a typo fails before the password prompt."""
    local, at, domain = value.partition("@")
    if not (local and at and "." in domain.strip(".")):
        raise argparse.ArgumentTypeError(f"{value!r} is not an e-mail address; use the form name@example.org")
    return value


def certificate_context(path: str | None) -> ssl.SSLContext | bool:
    """Return the TLS context that trusts `path`, or True (the system's trust store) without one."""
    if path is None:
        return True
    if not Path(path).is_file():
        raise UsageError(f"--cacert {path}: no such file; pass the stack's certificate, .stack/tls/server.crt")
    return ssl.create_default_context(cafile=path)


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        verify = certificate_context(arguments.cacert)
        return HANDLERS[arguments.command](arguments, verify)
    except (ApiError, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {error.filename}: {error.strerror}; check the path", file=sys.stderr)
        return 1
    except httpx.HTTPError as error:
        hint = ""
        if "CERTIFICATE_VERIFY_FAILED" in str(error):
            hint = "; pass the stack's certificate with --cacert or SCT_CACERT (.stack/tls/server.crt)"
        print(f"error: cannot reach {arguments.url}: {error}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def clients(arguments, verify) -> tuple[CommandClient, QueryClient]:
    credentials = Credentials.load(arguments.config_dir)
    return (CommandClient(arguments.url, verify, credentials, arguments.config_dir),
            QueryClient(arguments.url, verify, credentials, arguments.config_dir))


def read_password(arguments) -> str:
    return sys.stdin.readline().rstrip("\n") if arguments.password_stdin else getpass.getpass("password: ")


def sign_in(arguments, verify, password: str) -> None:
    tokens = CommandClient(arguments.url, verify).login(arguments.email, password)
    Credentials(arguments.url, arguments.email, tokens["access_token"], tokens["refresh_token"]).save(
        arguments.config_dir)
    print(f"signed in as {arguments.email}")


def cmd_register(arguments, verify) -> int:
    password = read_password(arguments)
    user = CommandClient(arguments.url, verify).register(arguments.email, password)
    print(f"registered {user['email']} ({user['user_id']})")
    sign_in(arguments, verify, password)
    return 0


def cmd_login(arguments, verify) -> int:
    sign_in(arguments, verify, read_password(arguments))
    return 0


def cmd_me(arguments, verify) -> int:
    _, query = clients(arguments, verify)
    user = query.me()
    print(f"{user['email']} ({user['user_id']})")
    return 0


def parse_generator(value: str) -> dict:
    parts = value.split(":")
    if len(parts) not in (2, 3) or parts[0] not in GENERATOR_KINDS or not all(p.isdigit() for p in parts[1:]):
        raise UsageError(f"--generate {value!r} is invalid: use KIND:N or KIND:N:SEED, with KIND one of "
                            f"{', '.join(GENERATOR_KINDS)}, for example random_dense:3000:7")
    return {"kind": parts[0], "n": int(parts[1]), "seed": int(parts[2]) if len(parts) == 3 else 0}


def cmd_submit(arguments, verify) -> int:
    if arguments.generate and (arguments.a or arguments.b):
        raise UsageError("pass either the files A and --b B or --generate, not both")
    if not arguments.generate:
        if arguments.a and not arguments.b:
            raise UsageError(f"the right-hand side is missing: pass --b FILE (.mtx, .csv or .npy) with {arguments.a}")
        if arguments.b and not arguments.a:
            raise UsageError(f"the matrix A is missing: pass it as the first argument, before --b {arguments.b}")
        if not arguments.a:
            raise UsageError("nothing to submit: pass A and --b B as files, or --generate KIND:N[:SEED]")
    command, query = clients(arguments, verify)
    options = {"tol": arguments.tol, "max_iter": arguments.max_iter}
    key = str(uuid.uuid4())
    if arguments.generate:
        body = {"method": arguments.method, "generator": parse_generator(arguments.generate),
                "options": {name: value for name, value in options.items() if value is not None}}
        accepted = command.submit_json(body, key)
    else:
        accepted = command.submit_files(arguments.a, arguments.b, {"method": arguments.method, **options}, key)
    task = query.task(accepted["task_id"], accepted["consistency_token"])
    print(f"submitted task {task['task_id']} ({task['rows']} x {task['cols']}, method {task['method_requested']})")
    if arguments.watch:
        return watch(query, task["task_id"])
    return 0


def cmd_watch(arguments, verify) -> int:
    _, query = clients(arguments, verify)
    return watch(query, arguments.task_id)


def watch(query: QueryClient, task_id: str) -> int:
    """Draw the task's progress until it finishes; reconnect and resume when the stream drops."""
    bar = ProgressBar(sys.stderr)
    last_id, final, consistency_token = None, None, None
    while final is None:
        try:
            for event, event_id, data in query.events(task_id, last_id):
                last_id = event_id or last_id
                consistency_token = data.get("consistency_token", consistency_token)
                final = bar.show(event, data) or final
        except (httpx.TransportError, httpx.RemoteProtocolError) as error:
            bar.note(f"stream interrupted ({error}); reconnecting")
            time.sleep(RECONNECT_DELAY_S)
            continue
        if final is None:
            final = query.task(task_id)["status"]
            if final not in ("completed", "failed", "cancelled"):
                final = None
    bar.finish()
    task = final_state(query, task_id, consistency_token)
    print(describe(task))
    return 0 if task["status"] == "completed" else 3


def final_state(query: QueryClient, task_id: str, consistency_token: str | None, timeout_s: float = 10.0) -> dict:
    """Return the task once the read model shows its final status, which may trail the stream briefly."""
    deadline = time.monotonic() + timeout_s
    task = query.task(task_id, consistency_token)
    while task["status"] not in ("completed", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.1)
        task = query.task(task_id)
    return task


def describe(task: dict) -> str:
    line = f"task {task['task_id']}: {task['status']}"
    if task["status"] == "completed":
        line += (f" with {task['method']} in {task['elapsed_s'] or 0:.3f} s, relative residual "
                 f"{task['relative_residual']:.3e}")
        if task.get("condition_estimate"):
            line += f", condition estimate {task['condition_estimate']:.3e}"
    elif task.get("error"):
        line += f": {task['error'].get('message')}"
    return line


def cmd_cancel(arguments, verify) -> int:
    command, _ = clients(arguments, verify)
    answer = command.cancel(arguments.task_id)
    print(f"task {answer['task_id']}: {answer['status']}" + (f" ({answer['detail']})" if answer.get("detail") else ""))
    return 0


def cmd_show(arguments, verify) -> int:
    _, query = clients(arguments, verify)
    print(json.dumps(query.task(arguments.task_id), indent=2))
    return 0


def cmd_list(arguments, verify) -> int:
    _, query = clients(arguments, verify)
    tasks = query.tasks(status=arguments.status, method=arguments.method, submitted_after=arguments.since,
                        limit=min(arguments.limit, 200))
    header_printed = False
    for count, task in enumerate(tasks):
        if count >= arguments.limit:
            break
        if not header_printed:  # printed after the first page arrived, so a failed request prints no table
            print(f"{'task id':36}  {'status':9}  {'method':8}  {'size':>13}  {'progress':>8}  submitted")
            header_printed = True
        size = f"{task['rows']}x{task['cols']}"
        print(f"{task['task_id']}  {task['status']:9}  {task['method'] or task['method_requested']:8}  {size:>13}  "
              f"{100 * task['progress']:7.1f}%  {task['submitted_at']}")
    if not header_printed:
        print("no tasks match")
    return 0


def cmd_download(arguments, verify) -> int:
    _, query = clients(arguments, verify)
    output = arguments.output or Path(f"x-{arguments.task_id}.{arguments.format}")
    data = query.result(arguments.task_id, arguments.format)
    output.write_bytes(data)
    print(f"wrote {len(data)} bytes to {output}")
    return 0


HANDLERS = {"register": cmd_register, "login": cmd_login, "me": cmd_me, "submit": cmd_submit,
            "watch": cmd_watch, "cancel": cmd_cancel, "show": cmd_show, "list": cmd_list,
            "download": cmd_download}


if __name__ == "__main__":
    sys.exit(main())
