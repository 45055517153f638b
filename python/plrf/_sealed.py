"""Inert, checksummed files: an uncompressed .npz payload (arrays + a JSON header, read with
allow_pickle=False, so loading never runs code) followed by a footer MAGIC + length + sha256.

Shared by the sweep result store and simulation checkpoints: a truncated, partially written,
bit-flipped or foreign file fails `unseal` and is never read as data.
"""
from __future__ import annotations

import hashlib
import io
import json
import struct

import numpy as np

_FOOTER = struct.Struct("<8sQ32s")


class Unsealed(ValueError):
    """The bytes are not a sealed file of the expected kind (or were damaged)."""


def seal(magic: bytes, header: dict, arrays: dict) -> bytes:
    """header (JSON, no NaN) and arrays (numeric, no objects) to sealed bytes."""
    buf = io.BytesIO()
    np.savez(buf, header=np.array(json.dumps(header, allow_nan=False)), **arrays)
    payload = buf.getvalue()
    return payload + _FOOTER.pack(magic, len(payload), hashlib.sha256(payload).digest())


def unseal(magic: bytes, data: bytes) -> tuple[dict, dict]:
    """Sealed bytes to (header, arrays); Unsealed saying what is wrong."""
    if len(data) < _FOOTER.size:
        raise Unsealed("shorter than the footer (truncated or not a plrf file)")
    found, length, digest = _FOOTER.unpack(data[-_FOOTER.size:])
    payload = data[: -_FOOTER.size]
    if found != magic:
        raise Unsealed(f"no {magic.decode()} footer (truncated, or another kind of file)")
    if length != len(payload) or hashlib.sha256(payload).digest() != digest:
        raise Unsealed("length or sha256 checksum mismatch (the file is damaged)")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as f:
            header = json.loads(str(f["header"]))
            arrays = {k: f[k] for k in f.files if k != "header"}
    except Exception as exc:  # a checksummed payload that does not parse is still unusable
        raise Unsealed(f"unreadable payload: {exc}") from None
    if not isinstance(header, dict):
        raise Unsealed("the header is not a JSON object")
    return header, arrays


_SEALED_HEAD = b"PK\x03\x04"  # a sealed payload is a zip whose first member is header.npy


def looks_sealed(path, magic: bytes) -> bool:
    """Whether the file at `path` is a sealed file of this kind: its footer carries `magic`, or,
    cut short (no footer), it begins as a sealed payload does. Reads 64 bytes at each end."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
            size = fh.seek(0, 2)
            fh.seek(max(0, size - _FOOTER.size))
            tail = fh.read()
    except OSError:
        return False
    if len(tail) == _FOOTER.size:
        found, length, _ = _FOOTER.unpack(tail)
        if length == size - _FOOTER.size:  # a whole sealed file: of this kind or another
            return found == magic
    name_len = int.from_bytes(head[26:28], "little") if len(head) >= 30 else 0
    return head.startswith(_SEALED_HEAD) and head[30:30 + name_len] == b"header.npy"
