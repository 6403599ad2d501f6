"""The checkpoint file format: a versioned payload, its SHA-256, and strict decoding.

A file is `{"format": ..., "schema_version": N, "sha256": HEX, "payload": {...}}`; the digest
covers the canonical form of the payload (which repeats the schema version), and is checked
before a single field of the payload is trusted.
"""

from __future__ import annotations

import base64
import json
import zlib
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from recovery.canonical import canonical_json, sha256_hex
from recovery.models import ServerInfo, SessionState

FORMAT = "tmux-guardian/checkpoint"
SCHEMA_VERSION = 1


class CheckpointError(Exception):
    """A checkpoint that must not be used; the message says why in a few words."""


class Checkpoint(BaseModel):
    """One session at one moment, as it will be rebuilt."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    id: str
    created_at: datetime
    reason: str = "snapshot"
    host: str = ""
    boot_id: str = ""
    server: ServerInfo
    session: SessionState
    structure: str
    """`structure_key(session)`: equal keys mean nothing worth saving changed."""
    contents: dict[str, str] | None = None
    """Optional pane contents, `"WINDOW.PANE"` index -> base64 of zlib-compressed text."""

    def pane_contents(self, window_index: int, pane_index: int) -> str | None:
        if not self.contents:
            return None
        blob = self.contents.get(f"{window_index}.{pane_index}")
        return decompress_text(blob) if blob is not None else None


def compress_text(text: str) -> str:
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")


def decompress_text(blob: str) -> str:
    return zlib.decompress(base64.b64decode(blob)).decode("utf-8", errors="replace")


def encode_checkpoint(checkpoint: Checkpoint) -> bytes:
    """The file's bytes: compact JSON (the C encoder; `jq .` shows it readably); the digest
    is over the canonical payload."""
    payload = checkpoint.model_dump(mode="json")
    envelope = {
        "format": FORMAT,
        "schema_version": checkpoint.schema_version,
        "sha256": sha256_hex(payload),
        "payload": payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def decode_checkpoint(data: bytes) -> Checkpoint:
    """Parse and verify; any doubt raises CheckpointError and nothing of the file is used."""
    if not data.strip():
        raise CheckpointError("empty file")
    try:
        envelope = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CheckpointError("not valid JSON (truncated or damaged)") from None
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise CheckpointError("not a tmux-guardian checkpoint")
    version = envelope.get("schema_version")
    if version != SCHEMA_VERSION:
        raise CheckpointError(
            f"schema version {version!r} is not the supported version {SCHEMA_VERSION}"
        )
    payload = envelope.get("payload")
    digest = envelope.get("sha256")
    if not isinstance(payload, dict) or not isinstance(digest, str):
        raise CheckpointError("payload or checksum missing")
    if _safe_digest(payload) != digest:
        raise CheckpointError("checksum mismatch (the file was altered or damaged)")
    if payload.get("schema_version") != version:
        raise CheckpointError("schema version of payload and envelope differ")
    try:
        return Checkpoint.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CheckpointError(f"payload does not match the schema at {where}") from None


def _safe_digest(payload: dict[str, Any]) -> str | None:
    try:
        return sha256_hex(payload)
    except ValueError:  # NaN or other values canonical JSON refuses
        return None


__all__ = [
    "SCHEMA_VERSION",
    "Checkpoint",
    "CheckpointError",
    "canonical_json",
    "compress_text",
    "decode_checkpoint",
    "encode_checkpoint",
]
