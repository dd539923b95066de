"""stories/minhash.py writes out datasketch's affine32 MinHash: its signatures must be datasketch's, bit for bit."""

from __future__ import annotations

import random
import zlib

import numpy as np
import pytest

from newsmon.stories.minhash import signature

datasketch = pytest.importorskip("datasketch")


@pytest.mark.parametrize("num_perm", [16, 64, 128])
def test_signatures_are_datasketchs(num_perm: int) -> None:
    rng = random.Random(7)
    for size in (1, 2, 5, 50, 500):
        shingles = sorted({" ".join(rng.choice("abcdefghij") * rng.randint(1, 4) for _ in range(3)).encode()
                           for _ in range(size)})
        theirs = datasketch.MinHash(num_perm=num_perm, hashfunc=zlib.crc32, seed=1, scheme="affine32")
        theirs.update_batch(shingles)
        ours = signature(shingles, num_perm)
        assert ours.dtype == np.uint32
        assert np.array_equal(ours, theirs.hashvalues), size
