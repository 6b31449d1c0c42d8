"""HTTP clients of the two APIs and the stored credentials.

`CommandClient` only writes (sign-up, sign-in, submit, cancel) and
`QueryClient` only reads (history, details, results, live progress), the
same split as the services behind nginx's `/command/` and `/query/`.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx


class ApiError(Exception):
    """Raised for an error response; the message is the API's `detail`."""

    def __init__(self, status: int, detail: str, code: str | None = None) -> None:
        super().__init__(f"{detail} (HTTP {status}{', ' + code if code else ''})")
        self.status, self.detail, self.code = status, detail, code


@dataclass
class Credentials:
    """Tokens of the signed-in user, stored with mode 0600 in the configuration folder."""

    url: str
    email: str
    access_token: str
    refresh_token: str

    @staticmethod
    def path(config_dir: Path) -> Path:
        return config_dir / "credentials.json"

    def save(self, config_dir: Path) -> None:
        config_dir.mkdir(parents=True, exist_ok=True)
        path = self.path(config_dir)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(asdict(self), handle)

    @classmethod
    def load(cls, config_dir: Path) -> "Credentials":
        try:
            return cls(**json.loads(cls.path(config_dir).read_text()))
        except FileNotFoundError as error:
            raise ApiError(401, "not signed in: run `python -m cli login EMAIL` first") from error


def raise_for_error(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        body = response.json()
        detail, code = str(body.get("detail")), body.get("code")
    except (ValueError, AttributeError):
        detail, code = response.text[:200] or response.reason_phrase, None
    raise ApiError(response.status_code, detail, code)


class _Client:
    prefix = ""

    def __init__(self, url: str, verify: Any, credentials: Credentials | None = None,
                 config_dir: Path | None = None, timeout: float = 60.0) -> None:
        self.credentials, self.config_dir, self.verify = credentials, config_dir, verify
        self.http = httpx.Client(base_url=url.rstrip("/") + self.prefix, verify=verify, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials.access_token}"} if self.credentials else {}

    def request(self, method: str, path: str, **options) -> httpx.Response:
        """Send a request with the access token; refresh it once on 401."""
        response = self.http.request(method, path, headers={**self._headers(), **options.pop("headers", {})},
                                     **options)
        if response.status_code == 401 and self.credentials is not None and self.refresh():
            response = self.http.request(method, path, headers=self._headers(), **options)
        return raise_for_error(response)

    def refresh(self) -> bool:
        """Exchange the refresh token for new tokens; return False when that fails."""
        base = str(self.http.base_url).rstrip("/").removesuffix(self.prefix)
        response = httpx.post(f"{base}/command/v1/auth/refresh", verify=self.verify,
                              json={"refresh_token": self.credentials.refresh_token})
        if not response.is_success:
            return False
        tokens = response.json()
        self.credentials.access_token = tokens["access_token"]
        self.credentials.refresh_token = tokens.get("refresh_token", self.credentials.refresh_token)
        if self.config_dir is not None:
            self.credentials.save(self.config_dir)
        return True


class CommandClient(_Client):
    """Writes: register, sign in, submit, cancel."""

    prefix = "/command"

    def register(self, email: str, password: str) -> dict:
        return self.request("POST", "/v1/auth/register", json={"email": email, "password": password}).json()

    def login(self, email: str, password: str) -> dict:
        return self.request("POST", "/v1/auth/token", data={"username": email, "password": password}).json()

    def submit_json(self, body: dict, idempotency_key: str) -> dict:
        return self.request("POST", "/v1/tasks", json=body, headers={"Idempotency-Key": idempotency_key}).json()

    def submit_files(self, a_path: Path, b_path: Path, fields: dict, idempotency_key: str) -> dict:
        with a_path.open("rb") as a_file, b_path.open("rb") as b_file:
            files = {"a": (a_path.name, a_file), "b": (b_path.name, b_file)}
            data = {name: str(value) for name, value in fields.items() if value is not None}
            return self.request("POST", "/v1/tasks/upload", files=files, data=data,
                                headers={"Idempotency-Key": idempotency_key}).json()

    def cancel(self, task_id: str) -> dict:
        return self.request("POST", f"/v1/tasks/{task_id}/cancel").json()


class QueryClient(_Client):
    """Reads: the user, the history, one task, its result and its live progress."""

    prefix = "/query"

    def me(self) -> dict:
        return self.request("GET", "/v1/me").json()

    def task(self, task_id: str, consistency_token: str | None = None) -> dict:
        headers = {"X-Consistency-Token": consistency_token} if consistency_token else {}
        return self.request("GET", f"/v1/tasks/{task_id}", headers=headers).json()

    def tasks(self, **filters) -> Iterator[dict]:
        """Yield the user's tasks, newest first, following the cursor from page to page."""
        params = {name: value for name, value in filters.items() if value is not None}
        while True:
            page = self.request("GET", "/v1/tasks", params=params).json()
            yield from page["items"]
            if not page["next_cursor"]:
                return
            params["cursor"] = page["next_cursor"]

    def result(self, task_id: str, result_format: str) -> bytes:
        return self.request("GET", f"/v1/tasks/{task_id}/result", params={"format": result_format}).content

    def stream_token(self, task_id: str) -> str:
        return self.request("POST", f"/v1/tasks/{task_id}/stream-token").json()["stream_token"]

    def events(self, task_id: str, last_event_id: str | None = None) -> Iterator[tuple[str, str | None, dict]]:
        """Yield (event, id, data) from the task's SSE stream until the server ends it."""
        token = self.stream_token(task_id)
        headers = {"Accept": "text/event-stream", **({"Last-Event-ID": last_event_id} if last_event_id else {})}
        with self.http.stream("GET", f"/v1/tasks/{task_id}/events", params={"stream_token": token},
                              headers=headers, timeout=httpx.Timeout(60.0, read=120.0)) as response:
            if not response.is_success:
                response.read()
                raise_for_error(response)
            yield from parse_sse(response.iter_lines())


def parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, str | None, dict]]:
    """Yield (event, id, data as JSON) for each Server-Sent Event in `lines`."""
    event, event_id, data = "message", None, []
    for line in lines:
        if line == "":
            if data:
                yield event, event_id, json.loads("\n".join(data))
            event, event_id, data = "message", None, []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "id":
                event_id = value
            elif name == "data":
                data.append(value)

