"""Shared fixtures for the solver core tests."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest


def matrices_dir() -> Path:
    """Return the test-matrix folder: $SCT_MATRICES_DIR or shared/data/matrices beside the repository."""
    override = os.environ.get("SCT_MATRICES_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "matrices"


def manifest_rows() -> list[dict[str, str]]:
    """Return the rows of MANIFEST.tsv, or an empty list when the folder is missing."""
    path = matrices_dir() / "MANIFEST.tsv"
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="session")
def matrix_folder() -> Path:
    folder = matrices_dir()
    if not (folder / "MANIFEST.tsv").exists():
        pytest.fail(f"test matrices not found in {folder}: place shared/data/matrices beside the checkout or set SCT_MATRICES_DIR")
    return folder
