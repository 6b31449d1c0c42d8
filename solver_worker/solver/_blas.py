"""In-place BLAS and LAPACK calls on strided sub-blocks of a Fortran-ordered array.

The f2py wrappers in ``scipy.linalg.blas`` and ``scipy.linalg.lapack`` take
whole arrays: a sub-block such as ``a[k:, k:]`` of a Fortran-ordered matrix is
not contiguous, so they copy it in and out. For a blocked factorization that
copy is the size of the trailing matrix at every step, which breaks both the
memory bound and the speed. SciPy also exports the same BLAS and LAPACK
routines as C function pointers in ``scipy.linalg.cython_blas`` and
``scipy.linalg.cython_lapack`` (``__pyx_capi__`` capsules). Calling them through
ctypes passes a leading dimension, so every call works on views in place.
ctypes releases the GIL during each call, so a cancelling thread keeps running.
"""

from __future__ import annotations

import ctypes

import numpy as np
import scipy.linalg.cython_blas as _cython_blas
import scipy.linalg.cython_lapack as _cython_lapack

_c_int_p = ctypes.POINTER(ctypes.c_int)
_c_double_p = ctypes.POINTER(ctypes.c_double)
_c_char_p = ctypes.c_char_p

_PyCapsule_GetName = ctypes.pythonapi.PyCapsule_GetName
_PyCapsule_GetName.restype = ctypes.c_char_p
_PyCapsule_GetName.argtypes = [ctypes.py_object]
_PyCapsule_GetPointer = ctypes.pythonapi.PyCapsule_GetPointer
_PyCapsule_GetPointer.restype = ctypes.c_void_p
_PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def _load(module, name: str, argtypes: list) -> ctypes._CFuncPtr:
    capsule = module.__pyx_capi__[name]
    address = _PyCapsule_GetPointer(capsule, _PyCapsule_GetName(capsule))
    prototype = ctypes.CFUNCTYPE(None, *argtypes)
    return prototype(address)


_dgemm = _load(
    _cython_blas,
    "dgemm",
    [_c_char_p, _c_char_p, _c_int_p, _c_int_p, _c_int_p, _c_double_p, _c_double_p, _c_int_p,
     _c_double_p, _c_int_p, _c_double_p, _c_double_p, _c_int_p],
)
_dtrsm = _load(
    _cython_blas,
    "dtrsm",
    [_c_char_p, _c_char_p, _c_char_p, _c_char_p, _c_int_p, _c_int_p, _c_double_p, _c_double_p,
     _c_int_p, _c_double_p, _c_int_p],
)
_dsyrk = _load(
    _cython_blas,
    "dsyrk",
    [_c_char_p, _c_char_p, _c_int_p, _c_int_p, _c_double_p, _c_double_p, _c_int_p, _c_double_p,
     _c_double_p, _c_int_p],
)
_dgetrf = _load(
    _cython_lapack, "dgetrf", [_c_int_p, _c_int_p, _c_double_p, _c_int_p, _c_int_p, _c_int_p]
)
_dlaswp = _load(
    _cython_lapack,
    "dlaswp",
    [_c_int_p, _c_double_p, _c_int_p, _c_int_p, _c_int_p, _c_int_p, _c_int_p],
)
_dpotrf = _load(_cython_lapack, "dpotrf", [_c_char_p, _c_int_p, _c_double_p, _c_int_p, _c_int_p])


def _int(value: int) -> ctypes.c_int:
    return ctypes.c_int(int(value))


def _double(value: float) -> ctypes.c_double:
    return ctypes.c_double(float(value))


def _pointer(block: np.ndarray) -> _c_double_p:
    return block.ctypes.data_as(_c_double_p)


def _leading_dimension(block: np.ndarray) -> int:
    """Return the column stride in elements of a Fortran-strided float64 block."""
    if block.dtype != np.float64 or block.ndim != 2 or block.strides[0] != 8:
        raise ValueError("expected a 2-D float64 block with unit row stride (Fortran order)")
    if block.shape[1] <= 1:
        return max(1, block.shape[0], block.strides[1] // 8)
    return block.strides[1] // 8


def gemm_update(c: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: float = -1.0) -> None:
    """Compute ``c = alpha * a @ b + c`` in place (dgemm, beta = 1)."""
    m, n = c.shape
    k = a.shape[1]
    if m == 0 or n == 0 or k == 0:
        return
    one = _double(1.0)
    _dgemm(b"N", b"N", _int(m), _int(n), _int(k), _double(alpha), _pointer(a),
           _int(_leading_dimension(a)), _pointer(b), _int(_leading_dimension(b)),
           one, _pointer(c), _int(_leading_dimension(c)))


def trsm_left_lower_unit(a: np.ndarray, b: np.ndarray) -> None:
    """Overwrite ``b`` with ``inv(L) @ b`` where ``L`` is the unit lower triangle of ``a``."""
    m, n = b.shape
    if m == 0 or n == 0:
        return
    _dtrsm(b"L", b"L", b"N", b"U", _int(m), _int(n), _double(1.0), _pointer(a),
           _int(_leading_dimension(a)), _pointer(b), _int(_leading_dimension(b)))


def trsm_right_lower_transpose(a: np.ndarray, b: np.ndarray) -> None:
    """Overwrite ``b`` with ``b @ inv(L.T)`` where ``L`` is the lower triangle of ``a``."""
    m, n = b.shape
    if m == 0 or n == 0:
        return
    _dtrsm(b"R", b"L", b"T", b"N", _int(m), _int(n), _double(1.0), _pointer(a),
           _int(_leading_dimension(a)), _pointer(b), _int(_leading_dimension(b)))


def syrk_lower_update(c: np.ndarray, a: np.ndarray) -> None:
    """Compute the lower triangle of ``c = c - a @ a.T`` in place (dsyrk)."""
    n = c.shape[0]
    k = a.shape[1]
    if n == 0 or k == 0:
        return
    _dsyrk(b"L", b"N", _int(n), _int(k), _double(-1.0), _pointer(a), _int(_leading_dimension(a)),
           _double(1.0), _pointer(c), _int(_leading_dimension(c)))


def getrf(a: np.ndarray, pivots: np.ndarray) -> int:
    """Factor ``a`` in place with partial pivoting (dgetrf); return LAPACK's ``info``.

    ``pivots`` is an int32 array of length ``min(a.shape)`` and receives LAPACK's
    1-based row interchanges relative to the first row of ``a``.
    """
    m, n = a.shape
    info = ctypes.c_int(0)
    _dgetrf(_int(m), _int(n), _pointer(a), _int(_leading_dimension(a)),
            pivots.ctypes.data_as(_c_int_p), ctypes.byref(info))
    return info.value


def laswp(a: np.ndarray, pivots: np.ndarray) -> None:
    """Apply the 1-based row interchanges ``pivots`` to the rows of ``a`` in order (dlaswp)."""
    m, n = a.shape
    if n == 0 or pivots.size == 0:
        return
    _dlaswp(_int(n), _pointer(a), _int(_leading_dimension(a)), _int(1), _int(pivots.size),
            pivots.ctypes.data_as(_c_int_p), _int(1))


def potrf_lower(a: np.ndarray) -> int:
    """Overwrite the lower triangle of ``a`` with its Cholesky factor (dpotrf); return ``info``."""
    n = a.shape[0]
    info = ctypes.c_int(0)
    _dpotrf(b"L", _int(n), _pointer(a), _int(_leading_dimension(a)), ctypes.byref(info))
    return info.value
