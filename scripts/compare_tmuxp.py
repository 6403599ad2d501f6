#!/usr/bin/env python3
"""Oracle check: `tmux-guardian import tmuxp` + `restore` against `tmuxp load` itself.

    .venv/bin/python scripts/compare_tmuxp.py [--examples DIR] [--json] [--jobs N] [FILE ...]

Each workspace of tmuxp's sdist (examples/, tests/fixtures/workspace/; fetched by `pip download`
into DIR when DIR is empty, never into the repo) is loaded into two fresh PRIVATE tmux servers
(-S <tmp>/a by `tmuxp load -d -y`, -S <tmp>/b by our `import tmuxp --trust-commands` + `restore`)
with HOME=<tmp>/home, SHELL=/bin/sh, ENV=~/.shrc (PS1='tgprompt$ ': typed lines read
`tgprompt$ <command>`), TMUX unset, cwd=<tmp>/cwd. Both are read with tmux and compared field by
field; only those two servers are killed (by socket). A report: exit 0 whatever differs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
TMUXP = ROOT / ".venv" / "bin" / "tmuxp"
DEFAULT_EXAMPLES = ROOT / ".venv" / "share" / "tmuxp-examples"
TMUX = shutil.which("tmux") or "/usr/bin/tmux"
TIMEOUT = 30.0  # every subprocess but the sdist download
PIP_TIMEOUT = 120.0
PROMPT, MORE = "tgprompt$ ", "tgmore> "  # PS1, PS2 of the panes' /bin/sh
SEP = "\x1f"
SUFFIXES = (".yaml", ".yml", ".json")
NO_ENV = {"TMUX", "TMUX_PANE"}  # per server/pane by nature


def fmt(names: str) -> str:
    """`a b` -> `#{a}<SEP>#{b}`: a tmux format whose fields cannot clash with their values."""
    return SEP.join(f"#{{{name}}}" for name in names.split())


PANE_FMT = fmt(
    "pane_index pane_active pane_id pane_pid pane_current_command pane_dead pane_start_command"
    " pane_left pane_top pane_width pane_height pane_current_path"
)
WFMT = fmt("window_index window_id window_name window_active window_width window_height")

Fields = dict[str, Any]


@dataclass
class Diff:
    field: str
    where: str
    tmuxp: str
    ours: str
    names: list[str] = field(default_factory=list)
    """The variables that differ, for an environment."""
    held_by: str = ""
    """Unvouched: the safety hold the restore named that explains it (else "")."""


@dataclass
class Result:
    file: str
    status: str  # match | N differences | skipped: why | error: why
    differences: list[Diff] = field(default_factory=list)


def run(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 0
) -> subprocess.CompletedProcess[str]:
    """Never raises for a failing or hanging command: rc 124 on timeout, 127 when missing."""
    try:
        opts: dict[str, Any] = {"capture_output": True, "text": True, "errors": "replace"}
        limit = timeout or TIMEOUT
        return subprocess.run(
            cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, timeout=limit, **opts
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 124, "", f"timed out after {timeout or TIMEOUT}s")
    except OSError as exc:
        return subprocess.CompletedProcess(cmd, 127, "", str(exc))


def last_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The error of a failed command: its last stderr line, a traceback's exception shortened."""
    text = proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}"
    line = re.sub(r"^(?:[\w.]+\.)?(\w+: )", r"\1", text.splitlines()[-1].strip())  # a.b.X: -> X:
    tmux_says = re.search(r"\(\['([^']*)'\]", line)  # LibTmuxException: (['no space ...'], {...
    return line.split(":")[0] + f": {tmux_says[1]}" if tmux_says else line


def ensure_examples(dest: Path) -> None:
    if dest.is_dir() and any(p.is_file() for p in dest.rglob("*")):
        return
    probe = "import importlib.metadata as m; print(m.version('tmuxp'))"
    version = run([str(VENV_PY), "-c", probe]).stdout.strip()
    if not version:
        sys.exit("cannot tell the installed tmuxp version")
    with tempfile.TemporaryDirectory(prefix="tgcmp-sdist-") as tmp:
        cmd = [str(VENV_PY), "-m", "pip", "download", "--no-binary", ":all:", "--no-deps"]
        proc = run([*cmd, f"tmuxp=={version}", "-d", tmp], timeout=PIP_TIMEOUT)
        archives = list(Path(tmp).glob("tmuxp-*.tar.gz"))
        if proc.returncode or not archives:
            sys.exit(f"pip download tmuxp=={version} failed: {last_line(proc)}")
        top = f"tmuxp-{version}/"
        keep = (f"{top}examples/", f"{top}tests/fixtures/workspace/")
        with tarfile.open(archives[0]) as tar:
            for member in tar.getmembers():
                name = member.name
                wanted = name.startswith(keep) and name.endswith(SUFFIXES) and ".." not in name
                data = tar.extractfile(member) if wanted and member.isfile() else None
                if data is not None:
                    target = dest / name[len(top) :].removeprefix("tests/")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data.read())


def skip_reason(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return f"unreadable ({type(exc).__name__})"
    if not isinstance(data, dict) or "windows" not in data:
        return "not a workspace (no windows)"
    return next((f"needs {key}" for key in ("plugins", "before_script") if data.get(key)), None)


@dataclass
class Server:
    sock: Path
    env: dict[str, str]

    def tmux(self, *args: str) -> str:
        proc = run([TMUX, "-S", str(self.sock), *args], env=self.env)
        return clean(proc.stdout, self.sock.parent) if proc.returncode == 0 else ""

    def rows(self, *args: str) -> list[list[str]]:
        return [line.split(SEP) for line in self.tmux(*args).splitlines() if line]

    def kill(self) -> None:
        if self.sock.exists():
            run([TMUX, "-S", str(self.sock), "kill-server"], env=self.env)

    def settle(self, first: float = 1.0, limit: float = 15.0) -> None:
        """Give the panes a moment, then wait until list-panes -a stays the same 3 polls."""
        time.sleep(first)
        fmt = "#{pane_id} #{pane_current_command} #{pane_current_path} #{cursor_x},#{cursor_y}"
        last, same, deadline = "", 0, time.monotonic() + limit
        while time.monotonic() < deadline and same < 3:
            now = self.tmux("list-panes", "-a", "-F", f"{fmt} #{{history_size}}")
            same, last = (same + 1 if now == last else 0), now
            time.sleep(0.3)

    def options(self, *args: str) -> dict[str, str]:
        lines = self.tmux("show-options", *args).splitlines()
        return {name: value for name, _, value in (line.partition(" ") for line in lines)}

    def read(self) -> Fields:
        """The server as a node {"fields", "children"}: its sessions, their windows, panes."""
        sessions: dict[str, Fields] = {}
        for sid, name in self.rows("list-sessions", "-F", fmt("session_id session_name")):
            env = self.tmux("show-environment", "-t", sid).splitlines()
            fields: Fields = {f"session.option:{k}": v for k, v in self.options("-t", sid).items()}
            pairs = (line.partition("=") for line in env if "=" in line and line[0] != "-")
            fields["session.environment"] = {k: v for k, _, v in pairs}
            windows: dict[str, Fields] = {}
            for index, wid, wname, active, w, h in self.rows("list-windows", "-t", sid, "-F", WFMT):
                windows[index] = self.read_window(wid, wname, active, f"{w}x{h}")
            fields["session.windows"] = list(windows)
            sessions[name] = {"fields": fields, "children": windows}
        fields = {"server.sessions": list(sessions)}
        for scope in ("-g", "-gw", "-s"):  # the whole server's (tmuxp's global_options)
            fields.update({f"server.option:{k}": v for k, v in self.options(scope).items()})
        return {"fields": fields, "children": sessions}

    def read_window(self, wid: str, name: str, active: str, size: str) -> Fields:
        options = self.options("-w", "-t", wid)
        layout = self.tmux("display-message", "-p", "-t", wid, "#{window_layout}").strip()
        fields: Fields = {"window.name": name, "window.active": active == "1", "window.size": size}
        fields["window.automatic-rename"] = options.pop("automatic-rename", "")  # "": inherited
        fields["window.layout-shape"] = layout_shape(layout)
        fields.update({f"window.option:{k}": v for k, v in options.items()})
        panes: dict[str, Fields] = {}
        cells: list[str] = []
        for row in self.rows("list-panes", "-t", wid, "-F", PANE_FMT):
            index, p_active, pid_, pid, program, dead, start, x, y, w, h, cwd = row
            cells.append(f"{w}x{h}+{x}+{y}")
            text = self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", pid_)
            commands, spaced = typed_lines(text, program == "sh")
            pane: Fields = {
                "pane.active": p_active == "1",
                "pane.cwd": cwd,
                "pane.dead": dead == "1",
            }
            pane.update({"pane.program": program, "pane.start-command": start})
            pane.update({"pane.commands": commands, "pane.commands-leading-space": spaced})
            pane.update({f"pane.option:{k}": v for k, v in self.options("-p", "-t", pid_).items()})
            if dead != "1":
                env = process_env(pid)
                pane["pane.environment"] = {k: clean(v, self.sock.parent) for k, v in env.items()}
            panes[index] = {"fields": pane}
        fields.update({"window.layout-cells": cells, "window.panes": list(panes)})
        return {"fields": fields, "children": panes}


def layout_shape(layout: str) -> str:
    """`c6e4,80x24,0,0[80x12,0,0,1,80x11,0,13,2]` -> `[,]`: the split tree, no sizes, no ids."""
    body = re.sub(r"^[0-9a-f]{4},", "", layout)
    shape = re.sub(r"\d+x\d+,\d+,\d+(,\d+)?", "", body)
    return shape or "single pane"


def typed_lines(text: str, at_shell: bool) -> tuple[list[str], list[str]]:
    """Lines typed at the prompt (`tgprompt$ <line>`, or `<line>tgprompt$ ` when typed ahead of
    it: the tty echoes it first); the last is `[not run]` while the shell waits on it."""
    lines = text.rstrip().split("\n")
    commands: list[str] = []
    spaced: list[str] = []
    for number, line in enumerate(lines):
        if line.startswith(MORE) and commands:  # the next line of a quoted string
            commands[-1] += "\n" + line.removeprefix(MORE).rstrip()
        ahead, prompt, after = line.partition(PROMPT)
        last = number == len(lines) - 1 and at_shell
        for raw, pending in ((ahead, False), (after.rstrip(), last)) if prompt else ():
            if raw.strip():
                commands.append(raw.strip() + "  [not run]" * pending)
                spaced += commands[-1:] if raw.startswith(" ") else []
    return commands, spaced


def process_env(pid: str) -> dict[str, str]:
    try:
        data = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except OSError:
        return {}
    pairs = (item.partition("=") for item in data.split("\0") if "=" in item)
    return {k: v for k, _, v in pairs if k not in NO_ENV}


def make_env(root: Path, size: tuple[int, int] | None = None) -> dict[str, str]:
    """Both sides' environment; no XDG_* but the runtime dir: they default under the temp HOME.
    `size`: the terminal size both build at (COLUMNS, LINES), else tmuxp's fallback 80x24."""
    drop = ("TMUX", "XDG_", "COLUMNS", "LINES", "ROWS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    if size is not None:
        env.update(COLUMNS=str(size[0]), LINES=str(size[1]))
    env.update(HOME=str(root / "home"), SHELL="/bin/sh", ENV=str(root / "home" / ".shrc"))
    env.update(TMUX_GUARDIAN_KEY_DIR=str(root / "key"), XDG_RUNTIME_DIR=str(root / "run"))
    return env


def compare_file(
    path: Path, examples: Path, vouched: bool = True, size: tuple[int, int] | None = None
) -> Result:
    name = str(path.relative_to(examples))
    if reason := skip_reason(path):
        return Result(name, f"skipped: {reason}")
    root = Path(tempfile.mkdtemp(prefix="tgcmp-"))
    env = make_env(root, size)
    for sub in ("home", "cwd", "state", "key", "run"):
        (root / sub).mkdir(mode=0o700)
    (root / "home" / ".shrc").write_text(f"PS1='{PROMPT}'\nPS2='{MORE}'\n")
    (root / "config.toml").write_text("")
    side_a, side_b = Server(root / "a", env), Server(root / "b", env)

    def why(proc: subprocess.CompletedProcess[str]) -> str:
        return short(clean(last_line(proc), root).replace(str(path), path.name), 160)

    try:
        load = [str(TMUXP), "load", "-d", "-y", "--no-progress", "-S", str(side_a.sock)]
        proc = run([*load, str(path)], env=env, cwd=root / "cwd")
        if proc.returncode or not side_a.tmux("list-sessions"):
            return Result(name, f"skipped: tmuxp load fails: {why(proc)}")
        side_a.settle()
        oracle = side_a.read()
        side_a.kill()
        guardian = [str(VENV_PY), "-m", "guardian.cli", "-S", str(side_b.sock)]
        guardian += ["--state-dir", str(root / "state"), "--config", str(root / "config.toml")]
        trust = ["--trust-commands"] if vouched else []
        proc = run([*guardian, "import", "tmuxp", str(path), *trust], env, root / "cwd")
        if proc.returncode:
            return Result(name, f"error: import fails: {why(proc)}")
        names = re.findall(r"^imported '(.*)' \(", proc.stdout, re.M)
        proc = run([*guardian, "restore", "--json", *names], env=env, cwd=root / "cwd")
        if proc.returncode:
            return Result(name, f"error: restore fails: {why(proc)}")
        holds = [
            line
            for item in json.loads(proc.stdout)["items"]
            for line in [*item["held"], *item["warnings"]]
        ]
        side_b.settle()
        diffs = diff_node(oracle, side_b.read())
        return Result(name, status_of(diffs, holds, vouched), diffs)
    except Exception as exc:  # one bad file never stops the run
        return Result(name, f"error: {type(exc).__name__}: {exc}")
    finally:
        side_a.kill()
        side_b.kill()
        for _ in range(5):  # a dying pane program may still write its history file
            shutil.rmtree(root, ignore_errors=True)
            if not root.exists():
                break
            time.sleep(0.3)


def clean(text: str, root: Path) -> str:
    return text.replace(str(root / "home"), "~").replace(str(root), "<tmp>")


def show(value: Any) -> str:
    if value is None or value == "":
        return "<absent>" if value is None else '""'
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in value.items()) + "}"
    return str(value)


def diff_fields(a: Fields, b: Fields, where: str) -> list[Diff]:
    diffs: list[Diff] = []
    for key in sorted(a.keys() | b.keys()):
        va, vb = a.get(key), b.get(key)
        if va == vb:
            continue
        if isinstance(va, dict) or isinstance(vb, dict):  # environments: the differing names
            if va is None or vb is None:  # a dead pane has none to read
                continue
            names = sorted(k for k in va.keys() | vb.keys() if va.get(k) != vb.get(k))
            va, vb = ({k: env.get(k, "<unset>") for k in names} for env in (va, vb))
            diffs.append(Diff(key, where, show(va), show(vb), names))
            continue
        diffs.append(Diff(key, where, show(va), show(vb)))
    return diffs


def diff_node(a: Fields, b: Fields, where: str = "", seps: str = ":.") -> list[Diff]:
    """A node is {"fields", "children"}: the server, a session, a window, a pane."""
    fa, fb = a["fields"], b["fields"]
    if fa.get("window.layout-shape") != fb.get("window.layout-shape"):  # cells of another tree
        fa, fb = ({k: v for k, v in f.items() if k != "window.layout-cells"} for f in (fa, fb))
    diffs = diff_fields(fa, fb, where or "server")
    kids_a, kids_b = a.get("children", {}), b.get("children", {})
    for key in sorted(kids_a.keys() & kids_b.keys(), key=lambda k: k.zfill(9)):
        inner, rest = (f"{where}{seps[:1]}{key}", seps[1:]) if where else (key, seps)
        diffs += diff_node(kids_a[key], kids_b[key], inner, rest)
    return diffs


def status_of(diffs: list[Diff], holds: list[str], vouched: bool) -> str:
    """`match`, `N differences`; unvouched, each difference is given the hold that names it."""
    if not diffs:
        return "match"
    count = f"{len(diffs)} difference{'s' * (len(diffs) > 1)}"
    if vouched:
        return count
    for diff in diffs:
        diff.held_by = named_hold(diff, holds) or ""
    unnamed = sum(not d.held_by for d in diffs)
    return f"{count}, {'each a named hold' if not unnamed else f'{unnamed} NOT NAMED'}"


def named_hold(diff: Diff, holds: list[str]) -> str | None:
    """The hold (a held command, an option or a variable not set) the restore named for
    this difference, or None. A pane's command, program and directory differ when its
    command was held; a variable, when it was not set (the session's or the pane's); a
    shell, when `default-shell` was not set."""
    _session, _, place = diff.where.rpartition(":")
    window, _, pane = place.partition(".")
    kind = diff.field.split(":")[0]

    def first(*needles: str) -> str | None:
        return next((h for h in holds if all(n in h for n in needles)), None)

    shell = first("option 'default-shell'") or first("option 'default-command'")
    if kind == "pane.environment":
        found = [
            first(f"window {window} pane {pane}: environment {n} ")
            or first(f"session: environment {n} ")
            or (shell if n == "SHELL" else None)
            for n in diff.names
        ]
        return "; ".join(dict.fromkeys(h for h in found if h)) if all(found) else None
    if kind == "session.environment":
        found = [first(f"session: environment {n} ") for n in diff.names]
        return "; ".join(dict.fromkeys(h for h in found if h)) if all(found) else None
    if kind.endswith(".option"):
        scope = {"session": "session", "window": "window", "server": "global"}[kind.split(".")[0]]
        return first(f"{scope} option '{diff.field.split(':', 1)[1]}'")
    if kind.startswith("pane."):
        return first(f"window {window} pane {pane}: ") or shell
    if kind == "window.name":  # automatic-rename names it after the program its pane runs
        return first(f"window {window} pane ")
    return None


def short(text: str, width: int = 60) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"


def report(results: list[Result]) -> str:
    width = max([len(r.file) for r in results] + [4]) + 2
    out = [f"{'FILE':<{width}}STATUS"]
    by_field: dict[str, dict[str, Result]] = {}
    for result in results:
        out.append(f"{result.file:<{width}}{result.status}")
        for diff in result.differences:
            out.append(f"    {diff.field} @{diff.where}")
            out.append(f"        tmuxp: {short(diff.tmuxp)}")
            out.append(f"        ours:  {short(diff.ours)}")
            if diff.held_by:
                out.append(f"        named: {short(diff.held_by, 150)}")
        for diff in result.differences:
            by_field.setdefault(re.sub(r":.*", ":*", diff.field), {})[result.file] = result
    out += ["", "DIFFERENCES BY FIELD (files affected, first example)"]
    for kind, files in sorted(by_field.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        one = next(iter(files.values()))
        first = next(d for d in one.differences if d.field.startswith(kind.rstrip("*")))
        out.append(f"  {kind:<30}{len(files):>3} files   e.g. {one.file} @{first.where}")
        out.append(f"      {first.field}: tmuxp {short(first.tmuxp)}  ours {short(first.ours)}")
    skipped = [r for r in results if r.status.startswith("skipped")]
    compared = [r for r in results if not r.status.startswith("skipped")]
    matched = sum(r.status == "match" for r in compared)
    out += ["", f"{len(results)} workspace files, {len(skipped)} skipped, {len(compared)} compared"]
    out.append(f"{matched} of {len(compared)} match `tmuxp load`")
    named = sum(r.status == "match" or r.status.endswith("each a named hold") for r in compared)
    if any("named hold" in r.status or "NOT NAMED" in r.status for r in compared):
        out.append(f"{named} of {len(compared)}: every difference is a named safety hold")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=Path, default=DEFAULT_EXAMPLES, metavar="DIR")
    parser.add_argument("--json", action="store_true", help="a JSON list instead of the table")
    parser.add_argument("--jobs", type=int, default=4, help="files compared at once")
    parser.add_argument(
        "--size", metavar="WxH", help="the terminal size both build at (default: 80x24)"
    )
    parser.add_argument(
        "--unvouched",
        action="store_true",
        help="import without --trust-commands: every difference must be a hold the restore names",
    )
    parser.add_argument("files", nargs="*", type=Path, help="only these (relative to DIR)")
    args = parser.parse_args()
    examples: Path = args.examples.resolve()
    size = tuple(int(n) for n in args.size.split("x")) if args.size else None
    ensure_examples(examples)
    files = [examples / f for f in args.files] or sorted(
        p for p in examples.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)
    )
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(
            pool.map(lambda p: compare_file(p, examples, not args.unvouched, size), files)
        )
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
