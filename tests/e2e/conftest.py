"""Fixtures of the end-to-end tests: real users registered through nginx and the command API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT

MATRICES_DIR = REPO_ROOT.parent / "shared" / "data" / "matrices"


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def register(client: httpx.AsyncClient) -> Account:
    """Register a fresh user through nginx and sign in."""
    email, password = f"e2e-{uuid.uuid4().hex[:12]}@example.org", f"pw-{uuid.uuid4().hex}"
    registered = await client.post("/command/v1/auth/register", json={"email": email, "password": password})
    assert registered.status_code == 201, registered.text
    tokens = await client.post("/command/v1/auth/token", data={"username": email, "password": password})
    assert tokens.status_code == 200, tokens.text
    return Account(email, password, tokens.json()["access_token"])


@pytest.fixture
def matrices_dir() -> Path:
    if not (MATRICES_DIR / "MANIFEST.tsv").exists():
        pytest.fail(f"test matrices not found in {MATRICES_DIR}")
    return MATRICES_DIR
