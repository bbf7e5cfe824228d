"""The testbench's input events file (docs/hls.md, "The testbench and its files").

Little-endian int32: a header ``{0x454E4E53, 1, samples, steps}``, then per sample and step the
step's events as records ``{last, payload, address}``, each step closed by an end-of-step token
``{1, 0, 0}``. Every record must fit the fields of ``snn_in_event_t`` (``manifest["event"]["in"]``):
a value that does not would wrap when the testbench assigns it (an ``ap_int`` keeps only its low
bits), so :func:`check_records` refuses it with the record, sample and step named, and the
testbench refuses it too. An address past the inputs but within the address field is valid on the
stream: ``snn_top`` drops and counts it.

``input_payloads`` encodes a batch as the golden model does; ``event_records`` turns payloads into
records; ``write_events`` / ``write_event_records`` check and write the file.
"""
from __future__ import annotations

import numpy as np

from snnc.backends.golden.common import input_events
from snnc.quantize import QuantizedModel

EVENTS_MAGIC = 0x454E4E53
INT32 = (-(1 << 31), (1 << 31) - 1)


def input_payloads(qmodel: QuantizedModel, x, seed: int = 0, sample_ids=None) -> np.ndarray:
    """The input events of a batch as payloads ``[B, T, inputs]`` (0: no event): the golden
    encoders' spikes (1), or direct values quantised to the ``inputs`` format (saturating), for
    a held input their changes (``snnc.backends.golden.common.input_events``, sample-major)."""
    return input_events(qmodel, x, seed, sample_ids).transpose(1, 0, 2)


def event_records(payloads: np.ndarray) -> np.ndarray:
    """``[B, T, inputs]`` payloads -> int64 records ``[R, 3]`` ({last, payload, address}): each
    step's events in ascending address order, then a token."""
    batch, steps, _ = payloads.shape
    groups = batch * steps
    flat = np.asarray(payloads, dtype=np.int64).reshape(groups, -1)
    g_idx, addr = np.nonzero(flat)
    counts = np.bincount(g_idx, minlength=groups)
    ends = np.cumsum(counts) + np.arange(1, groups + 1) - 1      # token position of each group
    starts = ends - counts
    rank = np.arange(len(g_idx)) - np.repeat(np.cumsum(counts) - counts, counts)
    pos = starts[g_idx] + rank
    rec = np.zeros((len(g_idx) + groups, 3), dtype=np.int64)
    rec[pos, 1] = flat[g_idx, addr]
    rec[pos, 2] = addr
    rec[ends, 0] = 1
    return rec


def field_range(bits: int, signed: bool) -> tuple[int, int]:
    """The values a ``bits``-wide field holds (``ap_int`` or ``ap_uint``), within what a 32-bit
    record holds: int32, or for an unsigned field 0 .. 2^32 - 1 (stored as its bit pattern: a
    ``ufixed<32,F>`` input's payload 2621440000 was refused)."""
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    return max(lo, INT32[0]), min(hi, INT32[1] if signed else (1 << 32) - 1)


def _field_name(bits: int, signed: bool) -> str:
    return f"ap_int<{bits}>" if signed else f"ap_uint<{bits}>"


def check_records(records, manifest: dict, batch: int, steps: int) -> np.ndarray:
    """``records`` as an int64 ``[R, 3]`` array, after checking that every record fits the input
    event's fields (``manifest["event"]["in"]``), ``last`` is 0 or 1 and there is exactly one
    end-of-step token per sample and step, the last record being one. Raises ValueError naming the
    first bad record, its sample and step."""
    rec = np.asarray(records)
    if rec.ndim != 2 or rec.shape[1] != 3 or not np.issubdtype(rec.dtype, np.integer):
        raise ValueError(f"event records must be an integer array [R, 3] of {{last, payload, "
                         f"address}}, not {rec.dtype} of shape {list(rec.shape)}")
    rec = rec.astype(np.int64)
    ev = manifest["event"]["in"]
    tokens = int(np.count_nonzero(rec[:, 0] == 1))
    if tokens != batch * steps:
        raise ValueError(f"the events have {tokens} end-of-step tokens (records with last = 1), "
                         f"expected one per sample and step ({batch} x {steps} = "
                         f"{batch * steps})")
    if len(rec) and rec[-1, 0] != 1:
        raise ValueError("the last event record is not an end-of-step token (last = 1): the "
                         "last step would never end")
    group = np.cumsum(rec[:, 0] == 1) - (rec[:, 0] == 1)        # tokens before each record

    def where(k: int) -> str:
        g = int(group[k])
        return f"event record {k} (sample {g // steps}, step {g % steps})"

    bad = np.flatnonzero((rec[:, 0] != 0) & (rec[:, 0] != 1))
    if len(bad):
        k = int(bad[0])
        raise ValueError(f"{where(k)}: last = {rec[k, 0]}; it must be 0 (an event) or 1 (the "
                         "end-of-step token)")
    for col, key, what in ((1, "payload", "payload"), (2, "address", "address")):
        bits = ev[f"{key}_bits"]
        signed = bool(ev.get(f"{key}_signed", False))
        lo, hi = field_range(bits, signed)
        bad = np.flatnonzero((rec[:, col] < lo) | (rec[:, col] > hi))
        if len(bad):
            k = int(bad[0])
            graded = any(i.get("graded") for i in manifest["inputs"])
            hint = (" (quantise the value to the `inputs` format, saturating, as "
                    "input_payloads does)" if key == "payload" and graded else
                    " (the model's inputs send spikes, whose events carry payload 1)"
                    if key == "payload" else
                    f" (addresses {sum(i['size'] for i in manifest['inputs'])} .. {hi} are "
                    "representable and dropped by snn_top; wider ones cannot be sent)")
            raise ValueError(f"{where(k)}: {what} {rec[k, col]} does not fit the input event's "
                             f"{what} field {_field_name(bits, signed)} ({lo} .. {hi}): it would "
                             f"wrap{hint}")
    return rec


def write_event_records(path, records, batch: int, steps: int, manifest: dict) -> None:
    """Check ``records`` ({last, payload, address}, :func:`check_records`) and write them as the
    testbench's events file for ``batch`` samples of ``steps`` steps."""
    rec = check_records(records, manifest, batch, steps)
    header = np.array([EVENTS_MAGIC, 1, batch, steps], dtype="<i4")
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(rec.astype("<i4").tobytes())


def write_events(path, payloads: np.ndarray, manifest: dict) -> None:
    """Write the testbench's events file for ``[B, T, inputs]`` payloads (0: no event) of the
    project described by ``manifest`` (``generate_hls``'s return value or ``manifest.json``).
    Raises ValueError for payloads of the wrong shape or a value the payload field cannot hold."""
    payloads = np.asarray(payloads)
    n_in = sum(i["size"] for i in manifest["inputs"])
    if payloads.ndim != 3 or payloads.shape[2] != n_in:
        raise ValueError(f"payloads must be [samples, steps, {n_in}] (the project's input "
                         f"addresses), not of shape {list(payloads.shape)}")
    batch, steps, _ = payloads.shape
    write_event_records(path, event_records(payloads), batch, steps, manifest)
