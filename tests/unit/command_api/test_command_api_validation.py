"""Command API checks that need no server: passwords, problem validation, inline or blob placement."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import scipy.sparse
from pydantic import ValidationError

from command_api.errors import InvalidTaskError, WeakPasswordError
from command_api.models import UserCreate
from command_api.problems import (
    ParsedPart, ProblemStore, check_generator, check_method, check_system, coo_to_csr, parse_upload,
)
from command_api.users import check_password_strength
from common.blobs import BlobCorruptError, BlobNotFoundError, BlobStore
from schemas.events import BlobRef, InlineMatrix, SolveOptions
from schemas.problem import GeneratorSpec
from solver_worker.solver import InputError, Limits, ProblemTooLargeError, parse_matrix


@pytest.mark.parametrize("password, fragment", [
    ("short1!", "use at least 10"),
    ("password123", "too common"),
    ("aaaaaaaaaaaa", "too common or repetitive"),
    ("adalovelace-2024", "contains the e-mail"),
    ("onlyletterswords", "one letter and one digit"),
])
def test_password_strength_rejects(password, fragment):
    with pytest.raises(WeakPasswordError, match=fragment):
        check_password_strength(password, "adalovelace@example.org", 10)


def test_password_strength_accepts_passphrase():
    check_password_strength("correct horse 42", "ada@example.org", 10)


@pytest.mark.parametrize("email", ["ada.example.org", "ada@example", "ada lovelace@example.org", "@example.org"])
def test_user_create_rejects_malformed_email(email):
    with pytest.raises(ValidationError, match=f"{email!r} is not an e-mail address; use the form name@example.org"):
        UserCreate(email=email, password="correct horse 42")


def test_user_create_accepts_address():
    assert UserCreate(email="ada@example.org", password="correct horse 42").email == "ada@example.org"


def test_check_method_rejects_preconditioner_on_direct():
    with pytest.raises(InvalidTaskError, match="applies only to cg, gmres and bicgstab"):
        check_method("lu", SolveOptions(preconditioner="jacobi"))


def test_check_system_rejects_mismatch_and_rectangular_lu():
    a = np.ones((3, 2))
    with pytest.raises(InvalidTaskError, match="A has 3 rows but b has 2 entries"):
        check_system(a, np.ones(2), "auto")
    with pytest.raises(InvalidTaskError, match="needs a square matrix"):
        check_system(a, np.ones(3), "lu")
    check_system(a, np.ones(3), "lstsq")


def test_check_generator_limits():
    limits = Limits(max_dense_bytes=8 * 100 * 100)
    check_generator(GeneratorSpec(kind="random_dense", n=100), limits)
    with pytest.raises(ProblemTooLargeError, match="101 x 101"):
        check_generator(GeneratorSpec(kind="random_dense", n=101), limits)
    with pytest.raises(ProblemTooLargeError, match="stored entries"):
        check_generator(GeneratorSpec(kind="poisson2d", n=100), Limits(max_nnz=1000))


def test_coo_to_csr_builds_matrix():
    matrix = coo_to_csr({"format": "coo", "shape": [2, 3], "rows": [0, 1], "cols": [2, 0], "values": [5, -1]},
                        Limits())

    assert matrix.shape == (2, 3)
    assert matrix.toarray().tolist() == [[0, 0, 5], [-1, 0, 0]]


@pytest.mark.parametrize("data, fragment", [
    ({"format": "coo", "shape": [2], "rows": [], "cols": [], "values": []}, "as two positive integers"),
    ({"format": "coo", "shape": [2, 2], "rows": [0], "cols": [0, 1], "values": [1]}, "different lengths"),
    ({"format": "coo", "shape": [2, 2], "rows": [0, 2], "cols": [0, 1], "values": [1, 1]}, "outside 0..1"),
    ({"format": "coo", "shape": [2, 2], "rows": [0, 0], "cols": [1, 1], "values": [1, 1]}, "more than once"),
    ({"format": "coo", "shape": [2, 2], "rows": [0.5], "cols": [1], "values": [1]}, "must be integers"),
    ({"format": "coo", "shape": [2, 2], "rows": [0], "cols": [1], "values": ["x"]}, "not a number"),
])
def test_coo_to_csr_rejects(data, fragment):
    with pytest.raises(InputError, match=fragment):
        coo_to_csr(data, Limits())


def test_parse_upload_needs_a_format():
    with pytest.raises(InputError, match="cannot tell the format"):
        parse_upload(b"1,2\n", "matrix", None, name="A", vector=False, limits=Limits())
    part = parse_upload(b"1\n2\n", "b.txt", None, name="b", vector=True, limits=Limits())
    assert part.value.tolist() == [1.0, 2.0]
    assert part.original_format == "csv"


def test_problem_store_keeps_small_inputs_inline(tmp_path):
    store = ProblemStore(BlobStore(tmp_path), inline_max_bytes=10_000)

    prepared = store.prepare(ParsedPart(np.eye(3)), ParsedPart(np.ones(3)))

    assert prepared.input.kind == "inline"
    assert isinstance(prepared.input.a, InlineMatrix)
    assert prepared.input.a.values == np.eye(3).tolist()
    assert list(tmp_path.iterdir()) == []


def test_problem_store_writes_large_inputs_as_blobs(tmp_path):
    blobs = BlobStore(tmp_path)
    store = ProblemStore(blobs, inline_max_bytes=100)
    matrix = np.arange(100.0).reshape(10, 10)
    sparse = scipy.sparse.csr_array(np.diag(np.arange(1.0, 11.0)))

    dense_problem = store.prepare(ParsedPart(matrix), ParsedPart(np.ones(10), b"1\n" * 10, "csv"))
    sparse_problem = store.prepare(ParsedPart(sparse), ParsedPart(np.ones(10)))

    assert isinstance(dense_problem.input.a, BlobRef) and dense_problem.input.a.format == "npy"
    assert np.array_equal(parse_matrix(blobs.get(dense_problem.input.a.sha256), "npy"), matrix)
    assert dense_problem.input.b.format == "csv"
    assert blobs.get(dense_problem.input.b.sha256) == b"1\n" * 10
    assert sparse_problem.input.a.format == "mtx"
    assert sparse_problem.is_sparse and sparse_problem.nnz == 10
    assert (parse_matrix(blobs.get(sparse_problem.input.a.sha256), "mtx") != sparse).nnz == 0


def test_problem_store_discard_removes_only_created(tmp_path):
    blobs = BlobStore(tmp_path)
    blobs.put(np.ones(50).tobytes())
    existing = blobs.put(np.ones(50).tobytes())  # found, not created, by this request
    store = ProblemStore(blobs, inline_max_bytes=0)
    prepared = store.prepare(ParsedPart(np.eye(5)), ParsedPart(np.ones(5)))

    store.discard(prepared.created_blobs + [existing])

    assert all(not blobs.exists(blob.sha256) for blob in prepared.created_blobs)
    assert blobs.exists(existing.sha256)


def test_blob_store_roundtrip_and_errors(tmp_path):
    blobs = BlobStore(tmp_path)
    data = b"hello blob"

    first = blobs.put(data)
    second = blobs.put(data)

    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert first.created and not second.created
    assert blobs.get(first.sha256) == data
    blobs.path_of(first.sha256).write_bytes(b"tampered")
    with pytest.raises(BlobCorruptError):
        blobs.get(first.sha256)
    with pytest.raises(BlobNotFoundError):
        blobs.get("0" * 64)
    with pytest.raises(ValueError):
        blobs.path_of("../../etc/passwd")
    assert not any(path.name.startswith(".tmp-") for path in tmp_path.rglob("*"))
