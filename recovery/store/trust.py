"""Whose checkpoint a file is, from how it verified: signed with the person's key, or an
unsigned checkpoint of theirs from before signing (until the one-time re-signing), or
foreign."""

from __future__ import annotations

from recovery.checkpoint import Checkpoint, Decoded, Signature
from recovery.may_run import Trust
from recovery.reading import FileFacts


def trust_of(decoded: Decoded, facts: FileFacts, legacy_allowed: bool) -> Trust:
    """`legacy_allowed`: the store has not been re-signed yet, so an unsigned schema-1
    checkpoint the person owns (and nobody else could have written) is still theirs."""
    if decoded.signature is Signature.VALID:
        return _signed(decoded.checkpoint)
    legacy = decoded.signature is Signature.ABSENT and decoded.schema_version == 1
    if legacy and legacy_allowed and facts.private:
        return Trust.OWN
    return Trust.FOREIGN


def _signed(checkpoint: Checkpoint) -> Trust:
    if checkpoint.origin == "import":
        return Trust.VOUCHED if checkpoint.vouched else Trust.IMPORTED
    return Trust.OWN
