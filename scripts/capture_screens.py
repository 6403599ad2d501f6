"""PNG pictures of a REAL terminal for issue 13's closing note (a notes tool: not CI, not
the test suite, not scripts/setup.sh).

A private tmux server (socket in a fresh temp dir, HOME temporary, never the user's
server) with four sessions running real programs, guarded by `tmux-guardian watch` with a
temp state dir; two snapshots around a layout change, so two checkpoints differ; then a
night of ~10 real faults in ~2-3 minutes (kill -9 of the server, SIGSTOP of the server
which the watcher thaws, kill -9 / SIGSEGV of a pane's program). The strip shows the last
12 hours, 10 minutes a cell at 80 columns: the journal's timestamps of that night are then
spread over the last ~10 hours (order kept, nothing else changed) so its marks fall apart.

The UI runs in a pane of a SECOND private tmux server (status line off: the pane is the
whole 80x24), attached in an xterm of exactly 80x24 on a virtual X display; keys are sent
with `send-keys`, pictures are taken of the xterm window (`import -window`), and the text
of the same screen with `capture-pane -p`.

Needs (Debian/Ubuntu): apt-get install -y --no-install-recommends xvfb xterm x11-apps
imagemagick fonts-dejavu-core xdotool

Run from the repository: `PYTHONPATH=. .venv/bin/python scripts/capture_screens.py [OUT]`
(OUT defaults to /work/notes/ui/png). Everything started is killed by its pid or socket.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fieldlib
from fieldlib import Field, wait_for

NEEDED = {"Xvfb": "xvfb", "xterm": "xterm", "import": "imagemagick", "xdotool": "xdotool"}
APT = (
    "apt-get install -y --no-install-recommends "
    "xvfb xterm x11-apps imagemagick fonts-dejavu-core xdotool"
)
# Each session: windows of panes ("" a shell, "!" the pane's own command, else typed).
SESSIONS: dict[str, list[list[str]]] = {
    "work": [["vim -n notes.txt", "!tail -f app.log"]],  # + a shell after the 1st snapshot
    "logs": [["top -d 30"]],
    "notes": [["less notes.txt"]],
    "build": [["", ""], ["tail -f app.log | grep --line-buffered ERROR"]],
}
WINDOW_NAMES = {"work:0": "edit", "logs:0": "top", "notes:0": "read", "build:0": "make",
                "build:1": "errors"}  # fmt: skip
NIGHT_HOURS = 10.0


def missing_tools() -> list[str]:
    return sorted({pkg for tool, pkg in NEEDED.items() if shutil.which(tool) is None})


def say(text: str) -> None:
    print(f"capture: {text}", file=sys.stderr, flush=True)


# -- the guarded server and its night -------------------------------------------------


def build(fld: Field) -> None:
    fieldlib.LAYOUT.clear()
    fieldlib.LAYOUT.update(SESSIONS)
    for name in SESSIONS:
        fld.build_session(name)
    for where, title in WINDOW_NAMES.items():
        fld.tmux("rename-window", "-t", f"={where}", title)


def pane_pid(fld: Field, target: str) -> int:
    return int(fld.tmux("display-message", "-p", "-t", target, "#{pane_pid}").strip())


def all_there(fld: Field) -> bool:
    names = set(fld.tmux("list-sessions", "-F", "#{session_name}").split())
    return set(SESSIONS) <= names


def checkpoints_differ(fld: Field) -> None:
    """A checkpoint of `work` with 2 panes side by side, then one with 3 (a shell added
    under tail, vim on the left)."""
    fld.tmux("select-layout", "-t", "=work:0", "even-horizontal")
    wait_for(lambda: (fld.state / "checkpoints").exists(), 20)
    time.sleep(2)
    say(fld.guardian("snapshot").stdout.strip())
    fld.tmux("split-window", "-v", "-t", "=work:0.1", "-c", str(fld.work))
    fld.tmux("select-layout", "-t", "=work:0", "main-vertical")
    time.sleep(2)
    say(fld.guardian("snapshot").stdout.strip())


def fault_plan(fld: Field) -> list[tuple[str, Callable[[], Callable[[], bool]]]]:
    """(what, inject) pairs; inject returns the condition that says it was recovered."""

    def pane(target: str, sig: signal.Signals) -> Callable[[], Callable[[], bool]]:
        def inject() -> Callable[[], bool]:
            old = pane_pid(fld, target)
            os.kill(old, sig)
            return lambda: pane_pid(fld, target) != old

        return inject

    def stop() -> Callable[[], bool]:
        pid = fld.server_pid()
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        return lambda: _state(pid) not in ("T", None) and fld.server_pid() == pid

    def crash() -> Callable[[], bool]:
        pid = fld.server_pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        return lambda: fld.server_pid() not in (None, pid) and all_there(fld)

    return [
        ("kill -9 of work's tail -f", pane("=work:0.1", signal.SIGKILL)),
        ("SIGSTOP of the server", stop),
        ("kill -9 of the server", crash),
        ("kill -9 of build's shell", pane("=build:0.0", signal.SIGKILL)),
        ("SIGSTOP of the server", stop),
        ("SIGSEGV of work's tail -f", pane("=work:0.1", signal.SIGSEGV)),
        ("kill -9 of the server", crash),
        ("kill -9 of build's second shell", pane("=build:0.1", signal.SIGKILL)),
        ("SIGSTOP of the server", stop),
        ("kill -9 of work's tail -f", pane("=work:0.1", signal.SIGKILL)),
        ("kill -9 of the server", crash),
    ]


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def night(fld: Field) -> None:
    for number, (what, inject) in enumerate(fault_plan(fld), 1):
        wait_for(lambda: all_there(fld), 30)
        time.sleep(10)  # healthy for a while (no crash loop); ~2.5 minutes in all
        recovered = inject()
        ok = wait_for(recovered, 40, 0.2)
        say(f"fault {number}: {what}: {'recovered' if ok else 'NOT recovered in 40 s'}")
    wait_for(lambda: all_there(fld), 30)
    time.sleep(5)


def spread_the_night(fld: Field) -> None:
    """The journal's records (written by the real watcher, now stopped) spread over the
    last NIGHT_HOURS hours, order kept: 3 minutes of faults read as a night."""
    path = fld.state / "journal.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    times = [datetime.fromisoformat(r["at"]).timestamp() for r in records]
    first, last = min(times), max(times)
    now = time.time()
    start, end = now - NIGHT_HOURS * 3600, now - 600
    scale = (end - start) / max(last - first, 1.0)
    for record, at in zip(records, times, strict=True):
        moved = start + (at - first) * scale
        record["at"] = datetime.fromtimestamp(moved, UTC).isoformat()
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    say(f"journal: {len(records)} records spread over the last {NIGHT_HOURS:g} h")


# -- the terminal ---------------------------------------------------------------------


class Terminal:
    """Xvfb + an xterm of 80x24 attached to a second private tmux server running the UI."""

    def __init__(self, fld: Field) -> None:
        self.fld = fld
        self.socket = fld.dir / "ui"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.display = ""
        self.window = ""
        self.env = dict(fld.env, LANG="C.UTF-8", LC_ALL="C.UTF-8", COLORTERM="truecolor")

    def tmux(self, *args: str) -> str:
        argv = ["tmux", "-S", str(self.socket), "-f", "/dev/null", *args]
        done = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=10)
        return done.stdout

    def start(self) -> None:
        ui = [*fieldlib.PROGRAM, "-S", str(self.fld.socket), "--state-dir", str(self.fld.state)]
        command = " ".join(_quote(a) for a in [*ui, "tui"])
        self.tmux("new-session", "-d", "-s", "ui", "-x", "80", "-y", "24", "sh", "-c",
                  f"cd {_quote(str(self.fld.work))} && exec {command}")  # fmt: skip
        for option in (
            ("status", "off"),
            ("default-terminal", "tmux-256color"),
            ("terminal-overrides", "xterm*:Tc"),
            ("escape-time", "0"),
        ):
            self.tmux("set-option", "-g", *option)
        number = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
        self.display = f":{number}"
        self._spawn(["Xvfb", self.display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        wait_for(lambda: Path(f"/tmp/.X11-unix/X{number}").exists(), 10)
        xterm = ["xterm", "-display", self.display, "-geometry", "80x24+0+0", "-u8",
                 "-fa", "DejaVu Sans Mono", "-fs", "13", "-bg", "#1c1c1c", "-fg", "#d8d8d8",
                 "-b", "0", "-bw", "0", "+sb", "-title", "tg-shots",
                 "-xrm", "XTerm*allowTitleOps: false",
                 "-e", "tmux", "-S", str(self.socket), "attach", "-t", "ui"]  # fmt: skip
        self._spawn(xterm)
        found = wait_for(lambda: self._find_window(), 15, 0.2)
        assert found, "no xterm window"

    def _spawn(self, argv: list[str]) -> None:
        quiet = subprocess.DEVNULL
        self.procs.append(subprocess.Popen(argv, env=self.env, stdout=quiet, stderr=quiet))

    def _find_window(self) -> bool:
        done = subprocess.run(
            ["xdotool", "search", "--name", "^tg-shots$"],
            capture_output=True, text=True, env=dict(self.env, DISPLAY=self.display),
        )  # fmt: skip
        ids = done.stdout.split()
        self.window = ids[0] if ids else ""
        return bool(ids)

    def size(self) -> str:
        return self.tmux("display-message", "-p", "-t", "ui", "#{window_width}x#{window_height}")

    def text(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "ui")

    def keys(self, *keys: str, pause: float = 0.6) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "ui", key)
            time.sleep(0.15)
        time.sleep(pause)

    def until(self, condition: Callable[[str], bool], timeout: float = 20) -> bool:
        return wait_for(lambda: condition(self.text()), timeout, 0.3)

    def shoot(self, out: Path, name: str) -> None:
        time.sleep(1.0)  # the UI done drawing
        text = self.text()
        png = out / f"{name}.png"
        subprocess.run(
            ["import", "-display", self.display, "-window", self.window, str(png)],
            check=True, env=self.env, timeout=30,
        )  # fmt: skip
        (out / f"{name}.txt").write_text(text)
        say(f"saved {png}")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.tmux("kill-server")
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5)
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# -- the screens ----------------------------------------------------------------------


def select_session(term: Terminal, name: str) -> None:
    """Up, then down, the sessions table until the history below is the session's."""
    for key in ["Up"] * 5 + ["Down"] * 5:
        if f"recovery history: {name}" in term.text():
            return
        term.keys(key, pause=1.0)
    raise RuntimeError(f"could not select {name}:\n{term.text()}")


def screens(term: Terminal, out: Path) -> None:
    assert term.until(lambda t: all(n in t for n in SESSIONS) and "guards" in t, 40), term.text()
    say(f"UI pane is {term.size().strip()}")
    select_session(term, "work")
    time.sleep(2)
    term.shoot(out, "1-main-view-four-sessions")
    term.keys("Tab", "End", pause=1.5)  # the picker: its oldest checkpoint (2 panes)
    term.shoot(out, "2-checkpoint-layout-beside-live")
    term.keys("r")
    assert term.until(lambda t: "Restore (y)" in t), term.text()
    term.shoot(out, "3-restore-dialog-per-pane-choices")
    term.keys("Escape", pause=1.0)
    term.keys("BTab", pause=1.0)  # back to the sessions table
    select_session(term, "build")  # its shells were killed too: the most marks
    term.shoot(out, "4-health-strip-after-the-night")
    term.keys("?")
    term.keys("End", pause=1.0)  # the help scrolled to the strip's legend
    term.shoot(out, "5-help-strip-legend")
    term.keys("Escape")


def main() -> int:
    gone = missing_tools()
    if gone:
        print(f"capture_screens: missing {', '.join(gone)}; install with:\n  {APT}")
        return 2
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/notes/ui/png")
    out.mkdir(parents=True, exist_ok=True)
    fieldlib.stop_on_sigterm()
    fld = Field.create(interval=0.5)
    term = Terminal(fld)
    try:
        build(fld)
        fld.start_watcher()
        checkpoints_differ(fld)
        night(fld)
        fld.stop_watcher()
        spread_the_night(fld)
        fld.start_watcher()
        term.start()
        screens(term, out)
    finally:
        term.close()
        fld.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
