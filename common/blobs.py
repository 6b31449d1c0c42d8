"""Content-addressed blob store on a local directory (`BLOB_DIR`).

A blob's name is the sha256 of its bytes, so writing the same content twice
stores it once, and a reader can verify what it got. `put` writes to a
temporary file, fsyncs it, renames it into place and fsyncs the directory, so
once `put` returns the blob survives a crash and no reader ever sees a partial
file. Every service of one machine (or one compose volume) shares the folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


class BlobNotFoundError(LookupError):
    """Raised when no blob with the requested sha256 is stored."""


class BlobCorruptError(ValueError):
    """Raised when a stored blob's bytes do not hash to its name."""


@dataclass(frozen=True)
class StoredBlob:
    """Result of `BlobStore.put`: the address, the size in bytes and whether this call created the file."""

    sha256: str
    size: int
    created: bool


class BlobStore:
    """Stores blobs as `<root>/<first two hex digits>/<sha256>`."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"blob address {sha256!r} is not a lower-case hex sha256")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> StoredBlob:
        """Store `data` durably and return its address; a blob that exists already is left as it is."""
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.path_of(sha256)
        if path.exists():
            return StoredBlob(sha256, len(data), created=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)
        log.debug("stored blob %s (%d bytes)", sha256, len(data))
        return StoredBlob(sha256, len(data), created=True)

    def get(self, sha256: str, *, verify: bool = True) -> bytes:
        """Return the bytes of a blob; raise BlobNotFoundError or, with `verify`, BlobCorruptError."""
        try:
            data = self.path_of(sha256).read_bytes()
        except FileNotFoundError as error:
            raise BlobNotFoundError(f"blob {sha256} is not in the blob store at {self.root}") from error
        if verify and hashlib.sha256(data).hexdigest() != sha256:
            raise BlobCorruptError(f"blob {sha256} in {self.root} is corrupt: its content has another sha256")
        return data

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).exists()

    def delete(self, sha256: str) -> None:
        """Remove a blob; used only to undo a `put` whose referring event was never written."""
        self.path_of(sha256).unlink(missing_ok=True)
        log.info("deleted blob %s", sha256)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
