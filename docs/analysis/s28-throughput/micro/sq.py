from __future__ import annotations
import math
import numpy as np


def sq_old(a: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.power(a.astype(object), 2.0).astype(np.float64)
    return out.reshape(a.shape)


def sq_new(a: np.ndarray) -> np.ndarray:
    flat: list[float] = a.ravel().tolist()
    out = np.asarray([math.pow(x, 2.0) for x in flat], dtype=np.float64)
    return out.reshape(a.shape)


def sq_new2(a: np.ndarray) -> np.ndarray:
    flat: list[float] = a.ravel().tolist()
    for i in range(len(flat)):
        flat[i] = math.pow(flat[i], 2.0)
    return np.asarray(flat, dtype=np.float64).reshape(a.shape)
