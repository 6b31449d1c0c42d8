"""NumPy ``.npy`` parser (no pickles)."""

from __future__ import annotations

import io

import numpy as np

from .errors import InputError
from .limits import Limits

_NPY_MAGIC = b"\x93NUMPY"
_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def parse_npy(data: bytes, *, name: str, limits: Limits) -> np.ndarray:
    """Load one ``.npy`` array of real numbers as float64; pickles and ``.npz`` archives are rejected."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(
            f"{name}: the npy format needs the raw bytes of a .npy file, got {type(data).__name__}",
            value=type(data).__name__,
            field=name,
        )
    raw = bytes(data)
    if len(raw) == 0:
        raise InputError(f"{name} is empty; send a .npy file written by numpy.save", field=name)
    if not raw.startswith(_NPY_MAGIC):
        hint = "a .npz archive is not supported, send one array saved with numpy.save" if raw.startswith(b"PK") else (
            "send a file written by numpy.save"
        )
        raise InputError(f"{name}: not a .npy file (the magic bytes \\x93NUMPY are missing); {hint}", field=name)

    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = _HEADER_READERS.get(version)
        if read_header is None:
            raise ValueError(f"unsupported .npy format version {version}")
        shape, _, dtype = read_header(stream)
    except ValueError as error:
        raise InputError(f"{name}: invalid .npy header ({error}); send a file written by numpy.save",
                         field=name) from error
    _check_dtype(dtype, name=name)
    if len(shape) not in (1, 2):
        raise InputError(
            f"{name}: the array has {len(shape)} dimensions (shape {shape}); send a 1-D vector or a 2-D matrix",
            value=str(shape),
            field=name,
        )
    rows, cols = (shape[0], 1) if len(shape) == 1 else shape
    limits.check_dense(rows, cols, name=name)

    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except ValueError as error:
        raise InputError(f"{name}: cannot read the .npy data ({error}); send a file written by numpy.save",
                         field=name) from error
    if array.size == 0:
        raise InputError(f"{name} is empty (shape {array.shape}); send at least one value", value=str(array.shape),
                         field=name)
    array = array.astype(np.float64, copy=False)
    finite = np.isfinite(array)
    if not finite.all():
        position = tuple(int(i) for i in np.argwhere(~finite)[0])
        value = float(array[position])
        raise InputError(
            f"{name}{list(position)}: non-finite value {value} is not allowed; replace it with a finite number",
            value=str(value),
            field=name,
        )
    return array


def _check_dtype(dtype: np.dtype, *, name: str) -> None:
    if dtype.kind == "c":
        raise InputError(
            f"{name}: complex-valued matrices are not supported (dtype {dtype}); convert to the real 2n x 2n "
            "system [[Re A, -Im A], [Im A, Re A]] [Re x; Im x] = [Re b; Im b], "
            "or send the real part only if the imaginary part is zero",
            value=str(dtype),
            field=name,
        )
    if dtype.kind not in "fiu":
        raise InputError(
            f"{name}: unsupported dtype {dtype}; send a float or integer array (object, string, boolean and "
            "structured arrays are rejected)",
            value=str(dtype),
            field=name,
        )
