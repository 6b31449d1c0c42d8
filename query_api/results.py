"""The solution vector in the formats clients download: JSON, CSV, NumPy `.npy`, Matrix Market."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Literal

import numpy as np

ResultFormat = Literal["json", "csv", "npy", "mtx"]

MEDIA_TYPES = {"json": "application/json", "csv": "text/csv", "npy": "application/octet-stream",
               "mtx": "text/plain"}


def load_vector(data: bytes, blob_format: str) -> np.ndarray:
    """Return the float64 vector stored in a blob of `blob_format` (npy, json, csv or mtx)."""
    if blob_format == "npy":
        return np.load(io.BytesIO(data), allow_pickle=False).astype(np.float64).ravel()
    if blob_format == "json":
        document = json.loads(data)
        values = document.get("values", document.get("x")) if isinstance(document, dict) else document
        return np.asarray(values, dtype=np.float64).ravel()
    text = data.decode()
    if blob_format == "mtx":
        lines = [line for line in text.splitlines() if line.strip() and not line.startswith("%")]
        return np.asarray([float(line) for line in lines[1:]], dtype=np.float64)
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    return np.asarray([float(value) for row in rows for value in row], dtype=np.float64)


def render(x: np.ndarray, result_format: ResultFormat, task_id: uuid.UUID) -> bytes:
    """Return `x` encoded as `result_format`; floats keep all 17 significant digits."""
    if result_format == "json":
        return json.dumps({"task_id": str(task_id), "length": int(x.size), "x": x.tolist()}).encode()
    if result_format == "csv":
        return "".join(f"{value:.17g}\n" for value in x.tolist()).encode()
    if result_format == "npy":
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(x, dtype=np.float64), allow_pickle=False)
        return buffer.getvalue()
    header = f"%%MatrixMarket matrix array real general\n% solution x of task {task_id}\n{x.size} 1\n"
    return (header + "".join(f"{value:.17g}\n" for value in x.tolist())).encode()
