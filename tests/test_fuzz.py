"""Property-based fuzzing of every reader of someone else's input: the checkpoint decoder,
the tmux-resurrect and tmuxp importers, the config loader and the layout parser. Thousands
of inputs each, from random bytes to near-valid files: the only outcome is a value or the
reader's own error, never another exception, never a hang (each example has a deadline).
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import ConfigError, Settings, load_settings
from config.loading import settings_from_mapping
from guardian.operations.tmuxp_workspace import tmuxp_checkpoint
from recovery.checkpoint import CheckpointError, decode_checkpoint, encode_checkpoint
from recovery.importers import ImportError_, parse_resurrect
from recovery.layout import MAX_DEPTH, LayoutError, check_layout, layout_checksum, safe_layout
from recovery.models import ServerInfo
from recovery.signing import SigningKey
from tests.factories import checkpoint, session

FUZZ = settings(
    max_examples=2000,
    deadline=timedelta(seconds=2),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_SLOW = settings(FUZZ, max_examples=1000)
"""For readers that cost a millisecond or more per input (YAML, pydantic)."""
SERVER = ServerInfo(socket_path="/tmp/tg-fuzz/s")
WHEN = datetime(2026, 11, 30, tzinfo=UTC)
KEY = SigningKey(b"k" * 32)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=30,
)

# -- checkpoints ---------------------------------------------------------------------------

GOOD = encode_checkpoint(checkpoint(session("fuzz", panes=3, program=("vim", "x"))), KEY)


def _decodes_or_refuses(data: bytes) -> None:
    try:
        decoded = decode_checkpoint(data, KEY)
    except CheckpointError:
        return
    assert decoded.checkpoint.session.windows


@FUZZ
@given(st.binary(max_size=2000))
def test_checkpoint_decoder_random_bytes(data: bytes) -> None:
    _decodes_or_refuses(data)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), max_size=8))
def test_checkpoint_decoder_damaged_real_files(changes: list[tuple[int, int]]) -> None:
    data = bytearray(GOOD)
    for position, value in changes:
        data[position] = value
    _decodes_or_refuses(bytes(data))


@FUZZ
@given(st.integers(0, len(GOOD)), st.binary(max_size=50))
def test_checkpoint_decoder_spliced_files(position: int, inserted: bytes) -> None:
    _decodes_or_refuses(GOOD[:position] + inserted + GOOD[position:])


@FUZZ_SLOW
@given(json_values, st.sampled_from([1, 2, 3, 4, 0, -1, True, "2"]))
def test_checkpoint_decoder_hostile_envelopes(payload: object, version: object) -> None:
    from recovery.canonical import sha256_hex

    envelope: dict[str, object] = {"format": "tmux-guardian/checkpoint", "payload": payload}
    envelope["schema_version"] = version
    try:
        envelope["sha256"] = sha256_hex(payload)
    except (ValueError, TypeError):
        envelope["sha256"] = "0" * 64
    _decodes_or_refuses(json.dumps(envelope).encode())


@FUZZ
@given(st.integers(1, 5000), st.sampled_from(["[", "{", '{"a":']))
def test_checkpoint_decoder_deep_nesting(depth: int, opener: str) -> None:
    closer = {"[": "]", "{": "}", '{"a":': "}"}[opener]
    _decodes_or_refuses((opener * depth + "1" + closer * depth).encode())


# -- importers -----------------------------------------------------------------------------

field_text = st.text(alphabet=st.characters(blacklist_characters="\t\n"), max_size=12)
resurrect_lines = st.lists(
    st.one_of(
        st.lists(field_text, min_size=1, max_size=14).map(lambda f: "\t".join(["pane", *f])),
        st.lists(field_text, min_size=1, max_size=9).map(lambda f: "\t".join(["window", *f])),
        st.lists(field_text, max_size=4).map(lambda f: "\t".join(["state", *f])),
        field_text,
    ),
    max_size=12,
)


@FUZZ_SLOW
@given(resurrect_lines)
def test_resurrect_importer_structured_garbage(lines: list[str]) -> None:
    try:
        imported = parse_resurrect("\n".join(lines), SERVER, WHEN)
    except ImportError_:
        return
    assert all(c.origin == "import" for c in imported)


@FUZZ
@given(st.text(max_size=3000))
def test_resurrect_importer_random_text(text: str) -> None:
    with contextlib.suppress(ImportError_):
        parse_resurrect(text, SERVER, WHEN)


workspace = st.fixed_dictionaries(
    {"session_name": st.text(max_size=10) | json_values},
    optional={
        "start_directory": st.text(max_size=20) | json_values,
        "windows": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "window_name": json_values,
                    "layout": st.text(max_size=40) | json_values,
                    "focus": json_values,
                    "window_index": json_values,
                    "start_directory": json_values,
                    "panes": st.lists(st.none() | st.text(max_size=20) | json_values, max_size=4)
                    | json_values,
                },
            )
            | json_values,
            max_size=4,
        )
        | json_values,
    },
)


@FUZZ_SLOW
@given(workspace)
def test_tmuxp_importer_structured_workspaces(data: dict[str, object]) -> None:
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return
    try:
        imported = tmuxp_checkpoint(text, None, SERVER, WHEN, vouched=False)
    except ImportError_:
        return
    assert imported.origin == "import" and not imported.vouched


@FUZZ
@given(st.text(max_size=2000))
def test_tmuxp_importer_random_text(text: str) -> None:
    with contextlib.suppress(ImportError_):
        tmuxp_checkpoint(text, None, SERVER, WHEN, vouched=False)


# -- config --------------------------------------------------------------------------------

config_values = st.fixed_dictionaries(
    {},
    optional={
        key: json_values | st.floats() | st.integers() | st.lists(st.text(max_size=10), max_size=3)
        for key in Settings.model_fields
    },
)


@FUZZ_SLOW
@given(config_values)
def test_config_validation_structured(data: dict[str, object]) -> None:
    with contextlib.suppress(ConfigError):
        settings_from_mapping(data, source="fuzz")


def test_config_loader_random_files_on_disk(tmp_path: Path) -> None:
    """(On disk, a few hundred: hypothesis and pytest's tmp_path do not share a scope.)"""
    path = tmp_path / "config.toml"

    @settings(max_examples=400, deadline=timedelta(seconds=2), derandomize=True, database=None)
    @given(st.binary(max_size=1000) | st.text(max_size=500).map(str.encode))
    def load(data: bytes) -> None:
        path.write_bytes(data)
        with contextlib.suppress(ConfigError):
            load_settings(path)

    load()


# -- layouts -------------------------------------------------------------------------------


def _layout_tree(draw: st.DrawFn, width: int, height: int, left: int, top: int, depth: int) -> str:
    cell = f"{width}x{height},{left},{top}"
    if depth == 0 or width < 3 or height < 3 or not draw(st.booleans()):
        return f"{cell},{draw(st.integers(0, 99))}"
    horizontal = draw(st.booleans())
    parts = draw(st.integers(2, 3))
    children = []
    size = width if horizontal else height
    step = max(1, (size - (parts - 1)) // parts)
    offset = left if horizontal else top
    for _ in range(parts):
        if horizontal:
            children.append(_layout_tree(draw, step, height, offset, top, depth - 1))
        else:
            children.append(_layout_tree(draw, width, step, left, offset, depth - 1))
        offset += step + 1
    brackets = "{}" if horizontal else "[]"
    return f"{cell}{brackets[0]}{','.join(children)}{brackets[1]}"


@st.composite
def layouts(draw: st.DrawFn) -> str:
    body = _layout_tree(draw, draw(st.integers(1, 300)), draw(st.integers(1, 100)), 0, 0, 3)
    return f"{layout_checksum(body)},{body}"


@FUZZ
@given(st.text(max_size=300))
def test_layout_parser_random_text(text: str) -> None:
    chosen, warning = safe_layout(text)
    assert chosen == text or (chosen == "tiled" and warning)
    with contextlib.suppress(LayoutError):
        check_layout(text)


@FUZZ
@given(layouts(), st.lists(st.tuples(st.integers(0, 400), st.characters()), max_size=3))
def test_layout_parser_mutated_layouts(layout: str, changes: list[tuple[int, str]]) -> None:
    mutated = list(layout)
    for position, char in changes:
        if mutated:
            mutated[position % len(mutated)] = char
    text = "".join(mutated)
    chosen, _warning = safe_layout(text)
    assert chosen in ("tiled", text)


@settings(FUZZ, max_examples=300)
@given(st.integers(1, 3000))
def test_layout_parser_deep_nesting(depth: int) -> None:
    """Nesting deeper than any real layout never reaches tmux (its parser recurses)."""
    body = "10x10,0,0{" * depth + "10x10,0,0,1" + "}" * depth
    chosen, warning = safe_layout(f"{layout_checksum(body)},{body}")
    assert (chosen == "tiled" and warning) if depth > MAX_DEPTH else chosen != "tiled"
