"""Loading of .npy tensors for the golden-reference scripts: float32 only, finite only.

load_f32(path) returns a numpy array or raises InputError whose message starts with the path
and says what was expected, so that a wrong file never turns into a silently wrong number.
"""
import numpy as np


class InputError(Exception):
    pass


def load_f32(path, allow_nonfinite=False):
    try:
        a = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (ValueError, OSError, EOFError) as e:
        raise InputError(f"{path}: expected a .npy file ({e})") from None
    if not isinstance(a, np.ndarray) or a.dtype != np.float32:
        raise InputError(f"{path}: expected dtype float32, got {getattr(a, 'dtype', type(a))}")
    if a.size == 0:
        raise InputError(f"{path}: expected a non-empty tensor, got shape {a.shape}")
    if not allow_nonfinite and not np.all(np.isfinite(a)):
        bad = int(np.count_nonzero(~np.isfinite(a)))
        raise InputError(f"{path}: expected finite values, found {bad} NaN/Inf of {a.size}")
    return a


def per_sample(a):
    """(N, ...) -> (N, features): one row per batch element; a 1-D tensor is one sample."""
    return a.reshape(1, -1) if a.ndim <= 1 else a.reshape(a.shape[0], -1)
