"""Input encoders of docs/semantics.md section 2, shared by every backend.

All encoders are deterministic functions of the data, each sample's index in its data set
(``sample_ids``) and the seed, so the same sample gets the same spikes whatever the batch it is in.
Outputs are time-major: ``[T, B, *shape]``.
"""
from __future__ import annotations

import numpy as np

from snnc import ir

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)


def mix(z):
    """SplitMix64's finaliser on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = np.asarray(z, dtype=np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _C1
        z = (z ^ (z >> np.uint64(27))) * _C2
        return z ^ (z >> np.uint64(31))


#: The largest seed (the rate encoder hashes 64-bit seeds).
MAX_SEED = 2**64 - 1


def seed_int(seed) -> int:
    """A seed as a Python int from 0 to ``MAX_SEED``: any integral type (``np.int64(3)`` crashed
    the hash with an overflow); anything else is a TypeError, and a seed out of range a
    ValueError (-1 was hashed as 2**64 - 1 and 2**64 as 0, where random_weights refused them)."""
    import operator

    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"seed must be an integer, not {seed!r}")
    try:
        seed = operator.index(seed)
    except TypeError:
        raise TypeError(f"seed must be an integer, not {seed!r}") from None
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer from 0 to 2**64 - 1, not {seed}")
    return seed


def rate_random16(seed: int, sample_ids, steps: int, size: int) -> np.ndarray:
    """16 random bits per (step, sample, element): ``hash(seed, sample_id, t, i) >> 48``, ``[T, B, size]``."""
    ids = np.asarray(sample_ids, dtype=np.uint64)
    h = mix(mix(np.uint64(seed_int(seed))) ^ ids)                      # [B]
    t = np.arange(steps, dtype=np.uint64)
    h = mix(h[None, :] ^ t[:, None])                                     # [T, B]
    i = np.arange(size, dtype=np.uint64)
    h = mix(h[:, :, None] ^ i[None, None, :])                            # [T, B, size]
    return (h >> np.uint64(48)).astype(np.int64)


def rate_probability16(x, gain: float) -> np.ndarray:
    p = np.clip(np.asarray(x, dtype=np.float64) * gain, 0.0, 1.0)
    return np.floor(p * 65536.0 + 0.5).astype(np.int64)


def encode_rate(x, enc: ir.Rate, steps: int, seed: int, sample_ids) -> np.ndarray:
    """Bernoulli spikes ``r < p16`` for static samples ``x`` of shape ``[B, *shape]``."""
    x = np.asarray(x, dtype=np.float64)
    batch, shape = x.shape[0], x.shape[1:]
    p16 = rate_probability16(x.reshape(batch, -1), enc.gain)
    r = rate_random16(seed, sample_ids, steps, p16.shape[1])
    return (r < p16[None]).astype(np.uint8).reshape(steps, batch, *shape)


def encode_latency(x, enc: ir.Latency, steps: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    t_fire = np.floor((1.0 - np.clip(x, 0.0, 1.0)) * (steps - 1) + 0.5).astype(np.int64)
    fires = x > enc.threshold
    t = np.arange(steps).reshape(steps, *([1] * x.ndim))
    return ((t == t_fire[None]) & fires[None]).astype(np.uint8)


def as_sequence(x, steps: int, shape: tuple[int, ...]) -> np.ndarray:
    """``[B, *shape]`` (static, repeated) or ``[B, T', *shape]`` (a sequence, T' >= steps) -> ``[T, B, *shape]``."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[1:] == tuple(shape):
        return np.broadcast_to(x[None], (steps, *x.shape))
    if x.ndim == len(shape) + 2 and x.shape[2:] == tuple(shape):
        if x.shape[1] < steps:
            raise ValueError(f"sequence has {x.shape[1]} steps, the model runs {steps}")
        return np.moveaxis(x[:, :steps], 1, 0)
    raise ValueError(f"input of shape {list(x.shape[1:])} does not fit {list(shape)}")


def encode_delta(x, enc: ir.Delta, steps: int, shape) -> np.ndarray:
    seq = as_sequence(x, steps, shape)
    ref = np.zeros(seq.shape[1:], dtype=np.float64)
    out = np.zeros(seq.shape, dtype=np.uint8)
    for t in range(steps):
        up = seq[t] - ref >= enc.threshold
        down = ref - seq[t] >= enc.threshold
        out[t] = up
        ref = np.where(up | down, seq[t], ref)
    return out


def encode(inp: ir.Input, x, steps: int, seed: int = 0, sample_ids=None) -> np.ndarray:
    """Encode a batch for input ``inp``: spikes (uint8) or, for ``direct``, real values (float64),
    time-major ``[T, B, *shape]``."""
    seed = seed_int(seed)           # checked whatever the encoding, which may not use it
    x = np.asarray(x)
    if sample_ids is None:
        sample_ids = np.arange(x.shape[0])
    enc = inp.encoding
    if isinstance(enc, ir.Rate):
        return encode_rate(x, enc, steps, seed, sample_ids)
    if isinstance(enc, ir.Latency):
        return encode_latency(x, enc, steps)
    if isinstance(enc, ir.Delta):
        return encode_delta(x, enc, steps, inp.shape)
    if isinstance(enc, ir.Direct):
        # a product beyond float64 is inf: the golden model counts it as a saturated input and
        # the float model warns of non-finite states (numpy's own RuntimeWarning leaked)
        with np.errstate(over="ignore"):
            return np.ascontiguousarray(as_sequence(x, steps, inp.shape) * enc.scale)
    raise TypeError(f"unknown encoding {type(enc).__name__}")
