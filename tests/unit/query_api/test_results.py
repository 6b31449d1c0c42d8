"""Result formats: every format reads back to the same float64 vector."""

import io
import json
import uuid

import numpy as np
import pytest

from query_api.results import load_vector, render

TASK_ID = uuid.UUID("3f0c5a9e-8d1b-4c57-9a51-0d4f3a1e2b77")
X = np.array([0.1, -1e-300, 12345.678901234567, 2.0 / 3.0])


@pytest.mark.parametrize("result_format", ["json", "csv", "npy", "mtx"])
def test_render_round_trips_exactly(result_format):
    body = render(X, result_format, TASK_ID)
    stored_format = "json" if result_format == "json" else result_format

    x = load_vector(body, stored_format)

    assert x.tolist() == X.tolist()


def test_mtx_has_array_header():
    lines = render(X, "mtx", TASK_ID).decode().splitlines()

    assert lines[0] == "%%MatrixMarket matrix array real general"
    assert lines[2] == "4 1"


def test_json_names_task_and_length():
    document = json.loads(render(X, "json", TASK_ID))

    assert document["task_id"] == str(TASK_ID)
    assert document["length"] == 4


def test_npy_is_float64_vector():
    array = np.load(io.BytesIO(render(X, "npy", TASK_ID)))

    assert array.dtype == np.float64
    assert array.shape == (4,)
