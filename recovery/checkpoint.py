"""The checkpoint file format: a versioned payload, its SHA-256, the person's HMAC, and
strict, bounded decoding.

A file is `{"format": ..., "schema_version": N, "sha256": HEX, "hmac": HEX, "payload": {...}}`.
Both digests cover the canonical form of the payload (which repeats the schema version):
the SHA-256 catches damage, the HMAC under the person's own key tells their checkpoints
from anyone else's. Both are checked before a single field of the payload is trusted.
Older schemas are migrated on read; newer ones are refused without being called damaged.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from recovery.canonical import canonical_json, sha256_hex
from recovery.models import ServerInfo, SessionState
from recovery.signing import SigningKey

FORMAT = "tmux-guardian/checkpoint"
SCHEMA_VERSION = 4
OLDEST_SCHEMA = 1
MAX_BYTES = 64 * 1024 * 1024
"""A checkpoint with pane contents of 200 panes stays far below this."""
MAX_DEPTH = 32
"""Nesting of a real checkpoint is below 12; deeper JSON is not ours."""


class CheckpointError(Exception):
    """A checkpoint that must not be used; the message says why in a few words."""


class NewerCheckpointError(CheckpointError):
    """Written by a newer tmux-guardian: skipped (not damaged, not quarantined)."""


class Signature(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    """Signed, but not with the person's key (written elsewhere, or edited)."""
    ABSENT = "absent"
    """Not signed: a checkpoint from before signing (schema 1)."""


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
    contents_digest: str | None = None
    """SHA-256 of the captured text: equal with an equal structure, nothing to save."""
    origin: Literal["own", "import"] = "own"
    """`import`: written from a peer's file (tmuxp, tmux-resurrect)."""
    vouched: bool = False
    """An import whose commands the person vouched for (`import --trust-commands`)."""
    health: str = "healthy"
    """The session's health when it was taken. One taken around a failure (before a
    repair) is kept for history but never preferred as the source of a rebuild."""

    @property
    def healthy(self) -> bool:
        return self.health == "healthy"

    def pane_contents(self, window_index: int, pane_index: int) -> str | None:
        if not self.contents:
            return None
        blob = self.contents.get(f"{window_index}.{pane_index}")
        return decompress_text(blob) if blob is not None else None


@dataclass(frozen=True)
class Decoded:
    checkpoint: Checkpoint
    signature: Signature
    schema_version: int
    """The schema of the file as read (1 for a checkpoint from before signing)."""


MAX_PANE_TEXT = 512 * 1024
"""Per pane: the newest text of a long scrollback is kept, the oldest dropped."""


def compress_text(text: str) -> str:
    data = text.encode("utf-8", "surrogateescape")[-MAX_PANE_TEXT:]
    return base64.b64encode(zlib.compress(data, 6)).decode("ascii")


def decompress_text(blob: str) -> str:
    try:
        return zlib.decompress(base64.b64decode(blob)).decode("utf-8", errors="replace")
    except (ValueError, zlib.error):
        return ""


def encode_checkpoint(checkpoint: Checkpoint, key: SigningKey | None = None) -> bytes:
    """The file's bytes: compact JSON (the C encoder; `jq .` shows it readably); the
    digests are over the canonical payload."""
    payload = checkpoint.model_dump(mode="json")
    canonical = canonical_json(payload)
    envelope: dict[str, Any] = {
        "format": FORMAT,
        "schema_version": checkpoint.schema_version,
        "sha256": sha256_hex(payload),
    }
    if key is not None:
        envelope["hmac"] = key.sign(canonical)
    envelope["payload"] = payload
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def decode_checkpoint(data: bytes, key: SigningKey | None = None) -> Decoded:
    """Parse and verify; any doubt raises CheckpointError and nothing of the file is used."""
    envelope = _parse_bounded(data)
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise CheckpointError("not a tmux-guardian checkpoint")
    version = envelope.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < OLDEST_SCHEMA:
        raise CheckpointError(f"schema version {version!r} is not one this tool knows")
    if version > SCHEMA_VERSION:
        raise NewerCheckpointError(
            f"written by a newer tmux-guardian (schema {version}; this one reads up to "
            f"{SCHEMA_VERSION}): skipped"
        )
    payload = envelope.get("payload")
    digest = envelope.get("sha256")
    if not isinstance(payload, dict) or not isinstance(digest, str):
        raise CheckpointError("payload or checksum missing")
    canonical = _canonical_or_none(payload)
    if canonical is None or sha256_hex(payload) != digest:
        raise CheckpointError("checksum mismatch (the file was altered or damaged)")
    if payload.get("schema_version") != version:
        raise CheckpointError("schema version of payload and envelope differ")
    signature = _signature(envelope.get("hmac"), canonical, key, version)
    checkpoint = _validate(_migrated(payload, version))
    return Decoded(checkpoint, signature, version)


def _parse_bounded(data: bytes) -> object:
    if not data.strip():
        raise CheckpointError("empty file")
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"too large ({len(data)} bytes; the limit is {MAX_BYTES})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError("not valid JSON (truncated or damaged)") from None
    depth = json_depth(text)
    if depth > MAX_DEPTH:
        raise CheckpointError(f"nested {depth} levels deep (a checkpoint is at most {MAX_DEPTH})")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise CheckpointError("not valid JSON (truncated or damaged)") from None


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deep brackets nest outside strings (a cheap check before parsing)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _canonical_or_none(payload: dict[str, Any]) -> bytes | None:
    try:
        return canonical_json(payload)
    except (ValueError, RecursionError):  # NaN or other values canonical JSON refuses
        return None


def _signature(mac: object, canonical: bytes, key: SigningKey | None, version: int) -> Signature:
    if version < 2 or mac is None:
        return Signature.ABSENT
    if isinstance(mac, str) and key is not None and key.verifies(canonical, mac):
        return Signature.VALID
    return Signature.INVALID


def _migrated(payload: dict[str, Any], version: int) -> dict[str, Any]:
    """An older payload in today's schema. Schema 1 lacks what 2 added (origin, vouched,
    the executable of each program, pane choices), 2 what 3 added (how each program comes
    back where it was), 3 what 4 added (session groups, environments and options): their
    defaults hold."""
    if version == SCHEMA_VERSION:
        return payload
    return {**payload, "schema_version": SCHEMA_VERSION}


def _validate(payload: dict[str, Any]) -> Checkpoint:
    try:
        return Checkpoint.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CheckpointError(f"payload does not match the schema at {where}") from None
    except RecursionError:
        raise CheckpointError("payload nested too deeply") from None


__all__ = [
    "MAX_BYTES",
    "SCHEMA_VERSION",
    "Checkpoint",
    "CheckpointError",
    "Decoded",
    "NewerCheckpointError",
    "Signature",
    "canonical_json",
    "compress_text",
    "decode_checkpoint",
    "encode_checkpoint",
]
