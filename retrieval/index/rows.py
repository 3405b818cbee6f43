"""Packing unit vectors as int8 rows with a float32 scale each, for the sentence vectors."""

from __future__ import annotations

import numpy as np


def pack_rows(vectors: np.ndarray) -> bytes:
    """Unit vectors as bytes: a float32 scale per row, then the rows as int8 (a quarter of
    float32: sentence vectors are most of a store's size; cosines move by under 0.01)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scales = np.maximum(np.abs(vectors).max(axis=1, initial=0.0), 1e-12) / 127
    quantised = np.round(vectors / scales[:, None]).astype(np.int8)
    return scales.astype(np.float32).tobytes() + quantised.tobytes()


def unpack_rows(data: bytes, count: int) -> np.ndarray:
    """The float32 rows that ``pack_rows`` packed."""
    scales = np.frombuffer(data, dtype=np.float32, count=count)
    quantised = np.frombuffer(data, dtype=np.int8, offset=4 * count).reshape(count, -1)
    return quantised.astype(np.float32) * scales[:, None]
