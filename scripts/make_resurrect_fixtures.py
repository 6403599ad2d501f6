#!/usr/bin/env python3
"""Make REAL tmux-resurrect save files (test fixtures) by running tmux-resurrect's own save script.

    python3 scripts/make_resurrect_fixtures.py --resurrect /tmp/resurrect-v4 --version v4.0.0 \
        --out tests/fixtures/resurrect [--commit SHA]

This script fetches nothing itself: PATH_TO_CHECKOUT must already hold a tmux-resurrect tree
(e.g. `git --git-dir=<mirror> worktree add /tmp/resurrect-v4 v4.0.0` or `git archive | tar -x`).
Python 3.11, stdlib only.

What it does, always against a PRIVATE tmux server (never the user's):
  * a fresh temp root (mkdtemp) holds the socket (`tmux -S <root>/sock/s`), a temporary HOME,
    the panes' working directories and the resurrect output dir;
  * every tmux command of this script passes `-S <socket>` explicitly; the save script (which
    calls plain `tmux`) runs with TMUX="<socket>,<server pid>,0" AND a `tmux` wrapper first on
    PATH that execs /usr/bin/tmux with `-S <socket>` prepended, HOME=<root>/home;
  * builds the sessions described below, waits for vim/tail/less to run, records the real
    server state (tmux formats + /proc of each pane's foreground process group) and then runs
    `bash scripts/save.sh quiet` from the checkout;
  * writes <out>/resurrect-<version>.txt (the save file byte for byte) and
    <out>/resurrect-<version>.expected.json; kills ONLY its own server (kill-server on its
    socket) and removes the temp root.

Server built (tmux started with -f /dev/null, windows 160x48):
  work      0 editor  3 panes (main-vertical + one resize): bash in "<root>/proj a",
                      vim -n 'file with spaces.txt' in "<root>/proj a/b c" (active pane),
                      tail -f app.log in <root>/logs
            1 logs    automatic-rename explicitly on, 2 panes tiled (active window)
            3 1234    pane 0 titled "42", pane 1 titled "my title" (zoomed; last window)
  other     0 pager   automatic-rename off, empty pane title, less -S README
  work-view           grouped with work (new-session -t work), showing window 0
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REAL_TMUX = "/usr/bin/tmux"
SEP = "\x1f"  # field separator for our own list-* queries
WIDTH, HEIGHT = 160, 48


class Private:
    """A private tmux server on its own socket; every command carries -S."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.sock = root / "sock" / "s"
        self.env = env

    def run(self, *args: str, check: bool = True) -> str:
        cmd = [REAL_TMUX, "-S", str(self.sock), *args]
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise RuntimeError(f"{cmd!r} failed ({p.returncode}): {p.stderr.strip()}")
        return p.stdout

    def rows(self, what: str, fields: list[str], *extra: str) -> list[dict[str, str]]:
        fmt = SEP.join("#{" + f + "}" for f in fields)
        out = self.run(what, *extra, "-F", fmt)
        rows = []
        for line in out.splitlines():
            vals = line.split(SEP)
            if len(vals) != len(fields):
                raise RuntimeError(f"unexpected {what} row: {line!r}")
            rows.append(dict(zip(fields, vals, strict=True)))
        return rows

    def kill(self) -> None:
        if self.sock.exists():
            self.run("kill-server", check=False)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def build(t: Private, root: Path) -> None:
    proj = root / "proj a"
    vimdir = proj / "b c"
    logs = root / "logs"
    other = root / "other"
    write(vimdir / "file with spaces.txt", "hello from a file with spaces\n")
    write(logs / "app.log", "".join(f"log line {i}\n" for i in range(1, 6)))
    write(other / "README", "".join(f"README line {i}\n" for i in range(1, 80)))

    size = ["-x", str(WIDTH), "-y", str(HEIGHT)]
    # session work, window 0 "editor"
    t.run("new-session", "-d", "-s", "work", "-n", "editor", *size, "-c", str(proj))
    t.run("set-option", "-g", "default-size", f"{WIDTH}x{HEIGHT}")
    t.run("split-window", "-h", "-t", "work:0", "-c", str(vimdir))
    t.run("split-window", "-v", "-t", "work:0.1", "-c", str(logs))
    t.run("select-layout", "-t", "work:0", "main-vertical")
    t.run("resize-pane", "-t", "work:0.1", "-U", "5")
    t.run("send-keys", "-t", "work:0.1", "vim -n 'file with spaces.txt'", "Enter")
    t.run("send-keys", "-t", "work:0.2", "tail -f app.log", "Enter")
    # window 1 "logs", automatic-rename explicitly on, 2 panes tiled
    t.run("new-window", "-d", "-t", "work:1", "-n", "logs", "-c", str(logs))
    t.run("set-window-option", "-t", "work:1", "automatic-rename", "on")
    t.run("split-window", "-d", "-t", "work:1", "-c", str(logs))
    t.run("select-layout", "-t", "work:1", "tiled")
    # window 3 (index gap) "1234"
    t.run("new-window", "-d", "-t", "work:3", "-n", "1234", "-c", str(root))
    t.run("split-window", "-d", "-h", "-t", "work:3", "-c", str(root))
    # session other
    t.run("new-session", "-d", "-s", "other", "-n", "pager", *size, "-c", str(other))
    t.run("set-window-option", "-t", "other:0", "automatic-rename", "off")
    t.run("send-keys", "-t", "other:0.0", "less -S README", "Enter")

    wanted = {"vim", "tail", "less"}
    deadline = time.monotonic() + 30
    while True:
        cmds = set(t.run("list-panes", "-a", "-F", "#{pane_current_command}").split())
        if wanted <= cmds:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"programs did not start: have {sorted(cmds)}")
        time.sleep(0.2)
    time.sleep(1.0)  # let shells settle (prompts drawn) before titles are set

    t.run("select-pane", "-t", "work:3.0", "-T", "42")
    t.run("select-pane", "-t", "work:3.1", "-T", "my title")
    t.run("select-pane", "-t", "other:0.0", "-T", "")
    t.run("select-pane", "-t", "work:0.1")  # non-first active pane in window 0
    t.run("resize-pane", "-Z", "-t", "work:3.1")  # zoom (also makes 3.1 active)
    t.run("select-window", "-t", "work:3")
    t.run("select-window", "-t", "work:1")  # active window 1, last window 3
    # grouped session
    t.run("new-session", "-d", "-t", "work", "-s", "work-view", *size)
    t.run("select-window", "-t", "work-view:0")
    time.sleep(0.5)


def foreground(pane_pid: int) -> tuple[int | None, list[str] | None]:
    """(pid, argv) of the process leading the pane tty's foreground process group."""
    try:
        stat = Path(f"/proc/{pane_pid}/stat").read_text()
        tpgid = int(stat[stat.rindex(")") + 2 :].split()[5])
        raw = Path(f"/proc/{tpgid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None, None
    return tpgid, [a.decode("utf-8", "surrogateescape") for a in raw.split(b"\0")[:-1]]


def snapshot(t: Private) -> dict:
    sessions = []
    for r in t.rows(
        "list-sessions",
        [
            "session_name",
            "session_id",
            "session_grouped",
            "session_group",
            "session_group_size",
            "session_windows",
            "session_attached",
        ],
    ):
        sessions.append(
            {
                "name": r["session_name"],
                "id": r["session_id"],
                "grouped": r["session_grouped"] == "1",
                "group": r["session_group"] or None,
                "group_size": int(r["session_group_size"] or 0),
                "windows": int(r["session_windows"]),
                "attached": int(r["session_attached"]),
            }
        )
    windows = []
    for r in t.rows(
        "list-windows",
        [
            "session_name",
            "window_index",
            "window_id",
            "window_name",
            "window_active",
            "window_flags",
            "window_layout",
            "window_visible_layout",
            "window_zoomed_flag",
            "window_width",
            "window_height",
            "window_panes",
            "automatic-rename",
        ],
        "-a",
    ):
        target = f"{r['session_name']}:{r['window_index']}"
        local = t.run("show-window-options", "-v", "-t", target, "automatic-rename").strip()
        windows.append(
            {
                "session": r["session_name"],
                "index": int(r["window_index"]),
                "id": r["window_id"],
                "name": r["window_name"],
                "active": r["window_active"] == "1",
                "flags": r["window_flags"],
                "layout": r["window_layout"],
                "visible_layout": r["window_visible_layout"],
                "automatic_rename": local or None,  # window-local value, None if unset
                "automatic_rename_effective": r["automatic-rename"],
                "zoomed": r["window_zoomed_flag"] == "1",
                "width": int(r["window_width"]),
                "height": int(r["window_height"]),
                "panes": int(r["window_panes"]),
            }
        )
    panes = []
    for r in t.rows(
        "list-panes",
        [
            "session_name",
            "window_index",
            "pane_index",
            "pane_id",
            "pane_title",
            "pane_current_path",
            "pane_active",
            "pane_current_command",
            "pane_pid",
            "pane_width",
            "pane_height",
        ],
        "-a",
    ):
        fg_pid, argv = foreground(int(r["pane_pid"]))
        panes.append(
            {
                "session": r["session_name"],
                "window_index": int(r["window_index"]),
                "pane_index": int(r["pane_index"]),
                "id": r["pane_id"],
                "title": r["pane_title"],
                "current_path": r["pane_current_path"],
                "active": r["pane_active"] == "1",
                "current_command": r["pane_current_command"],
                "pane_pid": int(r["pane_pid"]),
                "foreground_pid": fg_pid,
                "foreground_argv": argv,
                "width": int(r["pane_width"]),
                "height": int(r["pane_height"]),
            }
        )
    return {"sessions": sessions, "windows": windows, "panes": panes}


def git_commit(checkout: Path) -> str | None:
    p = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    return p.stdout.strip() if p.returncode == 0 else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--resurrect", required=True, type=Path, help="tmux-resurrect checkout")
    ap.add_argument("--version", required=True, help="name used in output file names")
    ap.add_argument("--out", required=True, type=Path, help="output directory")
    ap.add_argument("--commit", help="commit of the checkout, recorded in the JSON")
    args = ap.parse_args()
    checkout = args.resurrect.resolve()
    save_sh = checkout / "scripts" / "save.sh"
    if not save_sh.is_file():
        ap.error(f"{save_sh} not found")

    root = Path(tempfile.mkdtemp(prefix="tg-resurrect-"))
    home = root / "home"
    bindir = root / "bin"
    outdir = root / "out"
    for d in (home, bindir, outdir, root / "sock"):
        d.mkdir(parents=True)
    base_env = {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "SHELL": "/bin/bash",
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "TMUX_TMPDIR": str(root / "sock"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }
    t = Private(root, base_env)
    try:
        # start the server (config-less) with a first command that is harmless
        subprocess.run(
            [
                REAL_TMUX,
                "-S",
                str(t.sock),
                "-f",
                "/dev/null",
                "start-server",
                ";",
                "set-option",
                "-g",
                "exit-empty",
                "off",
            ],
            env=base_env,
            check=True,
        )
        server_pid = int(t.run("display-message", "-p", "#{pid}").strip())
        t.run("set-option", "-g", "@resurrect-dir", str(outdir))
        build(t, root)

        wrapper = bindir / "tmux"
        wrapper.write_text(f'#!/bin/sh\nexec {REAL_TMUX} -S {shlex.quote(str(t.sock))} "$@"\n')
        wrapper.chmod(0o755)
        save_env = dict(
            base_env, PATH=f"{bindir}:{base_env['PATH']}", TMUX=f"{t.sock},{server_pid},0"
        )

        state = snapshot(t)  # the server as it really is, right before saving
        p = subprocess.run(
            ["bash", "scripts/save.sh", "quiet"],
            cwd=checkout,
            env=save_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if p.returncode != 0:
            raise RuntimeError(f"save.sh failed ({p.returncode}): {p.stderr}")
        if p.stderr.strip():
            print(f"save.sh stderr:\n{p.stderr}", file=sys.stderr)
        saved = sorted(outdir.glob("tmux_resurrect_*.txt"))
        if len(saved) != 1:
            raise RuntimeError(f"expected one save file in {outdir}, got {saved}")
        after = snapshot(t)
        if [(w["session"], w["index"], w["name"]) for w in after["windows"]] != [
            (w["session"], w["index"], w["name"]) for w in state["windows"]
        ]:
            print("warning: window list changed during save", file=sys.stderr)

        args.out.mkdir(parents=True, exist_ok=True)
        txt = args.out / f"resurrect-{args.version}.txt"
        shutil.copyfile(saved[0], txt)
        expected = {
            "root": str(root),
            "resurrect_version": args.version,
            "resurrect_commit": args.commit or git_commit(checkout),
            "tmux_version": subprocess.run(
                [REAL_TMUX, "-V"], capture_output=True, text=True
            ).stdout.strip(),
            "hostname": os.uname().nodename,  # tmux's default pane title
            "save_file_name": saved[0].name,
            "server_pid": server_pid,
            **state,
        }
        js = args.out / f"resurrect-{args.version}.expected.json"
        js.write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
        print(txt)
        print(js)
    finally:
        t.kill()
        for _ in range(20):  # programs may still be writing (e.g. vim's viminfo) on SIGHUP
            shutil.rmtree(root, ignore_errors=True)
            if not root.exists():
                break
            time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
