"""MinHash signatures of shingle sets: datasketch's "affine32" scheme (datasketch 2.0), written out.

Importing datasketch loads its LSH indexes and, through them, scipy.integrate: +60 MiB of RSS in the flow process
(measured with Prefect already imported) for the few lines used here. The signatures are datasketch's, bit for bit
(tests/test_minhash.py compares them).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from functools import lru_cache

import numpy as np

_EMPTY = np.uint32(0xFFFFFFFF)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Affine permutations h -> a * h + b (mod 2^32, `a` odd: a bijection), drawn as datasketch draws them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's finalizer: spreads the CRC-32 values before the affine permutations."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def signature(shingles: Iterable[bytes], num_perm: int) -> np.ndarray:
    """The `num_perm` minimum permuted CRC-32 hashes of the shingles (all 2^32 - 1 for none)."""
    hashes = np.fromiter((zlib.crc32(s) for s in shingles), dtype=np.uint32).reshape(-1, 1)
    if not len(hashes):
        return np.full(num_perm, _EMPTY, dtype=np.uint32)
    a, b = permutations(num_perm)
    with np.errstate(over="ignore"):  # multiplication wraps around: that is the modulo 2^32
        return (_fmix32(hashes) * a + b).min(axis=0)
