"""The checkpoint format refuses every damaged or altered file, before using any of it."""

from __future__ import annotations

import json

import pytest

from recovery.canonical import sha256_hex
from recovery.checkpoint import (
    SCHEMA_VERSION,
    CheckpointError,
    decode_checkpoint,
    encode_checkpoint,
)
from tests.factories import checkpoint, session


def test_round_trip_is_exact() -> None:
    original = checkpoint(session("wörk 'x' $(id)", panes=3, program=("vim", "a b.txt")))
    assert decode_checkpoint(encode_checkpoint(original)).checkpoint == original


def test_every_flipped_byte_in_the_payload_is_refused() -> None:
    data = encode_checkpoint(checkpoint(session(panes=2)))
    start = data.index(b'"payload"')
    refused = 0
    for position in range(start, len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 0x01
        try:
            result = decode_checkpoint(bytes(damaged))
        except CheckpointError:
            refused += 1
            continue
        # A flip that still verifies must decode to the very same checkpoint (e.g. JSON
        # whitespace, or the case of an escape character): nothing altered gets through.
        assert result.checkpoint == decode_checkpoint(data).checkpoint
    assert refused > (len(data) - start) * 0.9


@pytest.mark.parametrize("cut", [0, 1, 10, 100, -200, -2])
def test_truncated_file_is_refused(cut: int) -> None:
    data = encode_checkpoint(checkpoint())
    with pytest.raises(CheckpointError):
        decode_checkpoint(data[:cut])


def test_every_prefix_is_refused() -> None:
    data = encode_checkpoint(checkpoint()).rstrip()
    for length in range(len(data)):
        with pytest.raises(CheckpointError):
            decode_checkpoint(data[:length])


def test_edited_command_is_refused() -> None:
    data = encode_checkpoint(checkpoint(session(program=("tail", "-f", "log"))))
    edited = data.replace(b'"tail"', b'"rm -rf ~"')
    assert edited != data
    with pytest.raises(CheckpointError, match="checksum"):
        decode_checkpoint(edited)


def test_resigned_file_with_other_schema_version_is_refused() -> None:
    envelope = json.loads(encode_checkpoint(checkpoint()))
    newer = SCHEMA_VERSION + 1
    envelope["schema_version"] = newer
    envelope["payload"]["schema_version"] = newer
    envelope["sha256"] = sha256_hex(envelope["payload"])
    with pytest.raises(CheckpointError, match=f"schema {newer}"):
        decode_checkpoint(json.dumps(envelope).encode())


def test_resigned_payload_with_unknown_field_is_refused() -> None:
    envelope = json.loads(encode_checkpoint(checkpoint()))
    envelope["payload"]["run_first"] = "touch /tmp/x"
    envelope["sha256"] = sha256_hex(envelope["payload"])
    with pytest.raises(CheckpointError, match="schema"):
        decode_checkpoint(json.dumps(envelope).encode())


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n", b"null", b"[]", b'{"format": "other"}', b"\xff\xfe", b"{" * 5000],
)
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(CheckpointError):
        decode_checkpoint(data)


@pytest.mark.parametrize(
    "typed", ["plain", "back\\slash", "tab\there", "nl\nx", "ctl\x01\x1f\x7f", "é 日本 ✓", "\\\\;"]
)
def test_session_name_vis_round_trip(typed: str) -> None:
    from guardian.tmux.names import unvis_session_name, vis_session_name

    stored = vis_session_name(typed)
    assert all(ord(c) >= 0x20 and ord(c) != 0x7F for c in stored)
    assert unvis_session_name(stored) == typed


def test_layout_checksum_matches_tmux() -> None:
    from recovery.layout import check_layout, layout_checksum

    real = "7815,160x50,0,0[160x24,0,0{79x24,0,0,0,80x24,80,0,1},160x25,0,25,2]"
    assert layout_checksum(real[5:]) == "7815"  # taken from tmux 3.3a
    check_layout(real)
    with pytest.raises(ValueError, match="checksum"):
        check_layout("7816" + real[4:])
