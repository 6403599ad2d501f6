#!/usr/bin/env python3
"""A fault campaign against a running watcher, on a private tmux server (never the user's).

    .venv/bin/python scripts/chaos.py [--faults 200] [--seed 1] [--interval 0.5] [--json]

Sessions of real programs (vim, less, top, tail -f as a pane's own command, a pipeline)
are guarded by `tmux-guardian watch`. Faults are injected one at a time, at random: kill -9
of the server, SIGSTOP of the server, deletion of its socket, SIGSEGV of a pane's program
or kill -9 of a pane's shell, SIGSTOP of one stage of a pipeline, a crash whose newest
checkpoint is damaged, the watcher killed -9 in the middle of a rebuild; and a person's
doings, which must NOT be undone: a close, a Ctrl-Z. A ledger records each fault, what was
expected, and what happened; every check of a program reads the pane's foreground
processes in /proc. After a failure the field starts afresh (one failure counts once).

Reports, per kind: recovered %, time to repair (median/p95/max); false resurrections,
duplicates, programs not restarted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import signal
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fieldlib import LAYOUT, Field, stop_on_sigterm, wait_for, why_not

from recovery.checkpoint import CheckpointError, decode_checkpoint

REPAIR_TIMEOUT = 20.0
KINDS = ("crash", "stop", "socket", "pane_kill", "job_stop", "damaged_crash", "watcher_kill",
         "close", "ctrl_z")  # fmt: skip
PERSONS = ("close", "ctrl_z")  # a person's doings: the watcher must leave them be


@dataclass
class Outcome:
    number: int
    kind: str
    expected: str
    ok: bool
    seconds: float
    detail: str = ""
    not_restarted: list[str] = field(default_factory=list)
    duplicates: int = 0
    false_resurrection: bool = False
    differs: bool = False
    """Afterwards, what runs differs from the layout (the field is started afresh)."""
    at: float = field(default_factory=time.time)

    @property
    def needs_reset(self) -> bool:
        return not self.ok or bool(self.duplicates) or self.false_resurrection or self.differs


@dataclass
class Fault:
    """What a fault should end in, how to see it took effect, and how to see it repaired."""

    expected: str
    took_effect: Callable[[], bool]
    repaired: Callable[[], bool]


class Campaign:
    def __init__(self, fld: Field, rng: random.Random) -> None:
        self.field = fld
        self.rng = rng
        self.alive = list(LAYOUT)
        self.recorded: dict[str, dict[tuple[str, int, int], list[list[str]]]] = {}

    # -- checks ------------------------------------------------------------------------

    def _running(self) -> dict[tuple[str, int, int], list[list[str]]]:
        """What runs in the field's sessions (not in others a soak plays in)."""
        return {k: v for k, v in self.field.running().items() if k[0] in LAYOUT}

    def expected(self) -> dict[tuple[str, int, int], list[list[str]]]:
        """The layout's programs, or for a session rebuilt from an older checkpoint (its
        newest was damaged), the programs that checkpoint recorded."""
        wanted = self.field.expected(self.alive)
        for session, programs in self.recorded.items():
            if session in self.alive:  # (a closed one is made again from the layout)
                wanted = {k: v for k, v in wanted.items() if k[0] != session} | programs
        return wanted

    def all_back(self) -> bool:
        return self._running() == self.expected()

    def not_restarted(self) -> list[str]:
        wanted = self.expected()
        found = self._running()
        return [f"{k}: {found.get(k)} != {v}" for k, v in wanted.items() if found.get(k) != v]

    def duplicates(self) -> int:
        """Programs running more often than the layout asks (a job started twice)."""
        tails = 0
        for proc in psutil.process_iter(["cmdline", "cwd"]):
            if proc.info["cmdline"] == ["tail", "-f", "app.log"] and proc.info["cwd"] == str(
                self.field.work
            ):
                tails += 1
        extra = max(0, tails - sum(1 for w in LAYOUT["logs"] for p in w if "tail" in p))
        names = self.field.tmux("list-sessions", "-F", "#{session_name}", check=False).split()
        return extra + sum(1 for n in names if n.startswith("_tg-building"))

    # -- faults ------------------------------------------------------------------------

    def inject(self, kind: str) -> Fault:
        fld = self.field
        pid = fld.server_pid()
        assert pid is not None, "no server to fault"
        if kind in ("crash", "damaged_crash", "watcher_kill"):
            if kind == "damaged_crash":
                self._damage_newest(self.rng.choice(self.alive))
            os.kill(pid, signal.SIGKILL)
            if kind == "watcher_kill":
                time.sleep(self.rng.uniform(0.2, 1.2))  # somewhere in the rebuild
                fld.stop_watcher(signal.SIGKILL)
                fld.start_watcher()
            return Fault(
                "every session rebuilt with its programs",
                lambda: True,
                lambda: fld.server_pid() not in (None, pid) and self.all_back(),
            )
        if kind == "stop":
            os.kill(pid, signal.SIGSTOP)
            return Fault(
                "thawed: same server, same programs",
                lambda: psutil.Process(pid).status() == "stopped",
                lambda: psutil.Process(pid).status() != "stopped" and self.all_back(),
            )
        if kind == "socket":
            fld.socket.unlink()
            return Fault(
                "socket back: same server",
                lambda: True,
                lambda: fld.socket.exists() and fld.server_pid() == pid and self.all_back(),
            )
        if kind == "pane_kill":
            return self._pane_kill()
        if kind == "job_stop":
            # One stage of a pipeline at a shell, stopped (a debugger, a stray kill -STOP):
            # the job still counts as running, so the shell does not take the terminal
            # back, and the pane hangs. (A pane's own command stopped is continued by tmux
            # itself; a whole job stopped at a shell is the shell's: Ctrl-Z, below.)
            group = _pgid_of_terminal(self._pane_pid("logs", 0, 1))
            stage = next(
                p
                for p in psutil.process_iter(["cmdline"])
                if _pgid(p.pid) == group and (p.info["cmdline"] or [""])[0] == "grep"
            )
            stage.suspend()
            return Fault(
                "the stopped stage continued",
                lambda: stage.status() == "stopped",
                lambda: stage.status() != "stopped" and self.all_back(),
            )
        if kind == "ctrl_z":
            return self._ctrl_z()
        return self._close()

    def _pane_kill(self) -> Fault:
        """SIGSEGV of a program that is its pane's own command, or kill -9 of a pane's
        shell: the pane dies of damage and is respawned (a new pane pid)."""
        where = self.rng.choice([("logs", 0, 0, signal.SIGSEGV), ("mon", 1, 0, signal.SIGKILL)])
        if where[0] not in self.alive:
            where = ("logs", 0, 0, signal.SIGSEGV) if "logs" in self.alive else where
        session, window, pane, sig = where
        old = self._pane_pid(session, window, pane)
        os.kill(old, sig)
        return Fault(
            f"{session}:{window}.{pane} respawned after {signal.Signals(sig).name}",
            lambda: not psutil.pid_exists(old) or psutil.Process(old).status() == "zombie",
            lambda: self._pane_pid(session, window, pane) != old and self.all_back(),
        )

    def _ctrl_z(self) -> Fault:
        """A person's Ctrl-Z of top at a shell: stays stopped until they type `fg`."""
        target = "=mon:0.0"
        group = _pgid_of_terminal(self._pane_pid("mon", 0, 0))
        self.field.tmux("send-keys", "-t", target, "C-z")
        self.ctrl_z = (target, group)
        return Fault("top stays stopped until `fg`", lambda: _group_stopped(group), lambda: True)

    def _close(self) -> Fault:
        """A person's close: must never come back. The session is made again afterwards."""
        name = self.rng.choice(self.alive)
        self.field.tmux("kill-session", "-t", f"={name}")
        self.alive.remove(name)
        self.recorded.pop(name, None)
        self.closed = name
        return Fault(f"'{name}' stays closed", lambda: True, self.all_back)

    def _pane_pid(self, session: str, window: int, pane: int) -> int:
        return int(
            self.field.tmux(
                "display-message", "-p", "-t", f"={session}:{window}.{pane}", "#{pane_pid}"
            )
        )

    def _damage_newest(self, session: str) -> None:
        """Flip one byte of the session's newest checkpoint. The rebuild must then come
        from the checkpoint the store falls back to: what that one recorded is expected."""
        files = sorted(self.field.state.rglob(f"checkpoints/*/s-{session}/*.json"))
        if not files:
            return
        data = bytearray(files[-1].read_bytes())
        position = data.index(b'"payload"') + 40
        data[position] ^= 0x01
        files[-1].write_bytes(bytes(data))
        fallback = _fallback(files[:-1])
        if fallback is not None:
            self.recorded[session] = fallback

    def _undone(self, kind: str) -> bool:
        if kind == "close":
            names = self.field.tmux("list-sessions", "-F", "#{session_name}").split()
            return self.closed in names
        return not _group_stopped(self.ctrl_z[1])

    def _person_again(self, kind: str) -> None:
        """The person carries on: starts the closed session again, or types `fg`."""
        if kind == "close":
            self.field.build_session(self.closed)
            self.alive.append(self.closed)
        else:
            self.field.tmux("send-keys", "-t", self.ctrl_z[0], "fg", "Enter")

    def reset(self) -> None:
        """After a failure, a fresh start, so one failure is not counted again and again."""
        fld = self.field
        fld.stop_watcher()
        fld.kill_servers()
        self.alive = list(LAYOUT)
        self.recorded = {}
        for name in LAYOUT:
            fld.build_session(name)
        wait_for(self.all_back, REPAIR_TIMEOUT)
        fld.start_watcher()
        time.sleep(3)  # its first checkpoints

    # -- one fault ---------------------------------------------------------------------

    def run_one(self, number: int, kind: str) -> Outcome:
        started = time.monotonic()
        fault = self.inject(kind)
        # A repair is only believed once the fault was seen (a check that runs before a
        # signal lands would report a repair that never happened).
        seen = wait_for(fault.took_effect, 3.0, step=0.005)
        ok = seen and wait_for(fault.repaired, REPAIR_TIMEOUT)
        seconds = time.monotonic() - started
        outcome = Outcome(number, kind, fault.expected, ok, round(seconds, 3))
        if not seen:
            outcome.detail = "the fault never took effect"
        elif not ok:  # what differed then (a person's doing may change it afterwards)
            with contextlib.suppress(Exception):
                outcome.not_restarted = self.not_restarted()
        if kind in PERSONS:
            journal_before = len(self.field.journal())
            time.sleep(2 * self.field.interval + 2.5)  # past freeze_grace: polls it must not act in
            acted = [e for e in self.field.journal()[journal_before:] if e.get("kind") == "action"]
            outcome.false_resurrection = bool(acted) or self._undone(kind)
            if outcome.false_resurrection:
                outcome.detail = f"the watcher acted: {acted}"
            self._person_again(kind)
            ok = ok and wait_for(self.all_back, REPAIR_TIMEOUT)
            outcome.ok = ok
        if not ok and seen:
            outcome.detail = why_not(fault.repaired)
        if not ok and not outcome.not_restarted:
            try:
                outcome.not_restarted = self.not_restarted()
            except Exception as error:  # the server itself does not answer
                outcome.not_restarted = [f"no answer: {error}"]
        outcome.duplicates = self.duplicates()
        outcome.differs = self.expected() != self.field.expected(self.alive)
        return outcome


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _fallback(older: list[Path]) -> dict[tuple[str, int, int], list[list[str]]] | None:
    """What the newest healthy checkpoint that verifies among `older` (oldest first)
    recorded in each pane, read with the project's own decoder (checksum only)."""
    decoded = []
    for path in reversed(older):
        try:
            decoded.append(decode_checkpoint(path.read_bytes()).checkpoint)
        except CheckpointError:
            continue
    chosen = next((c for c in decoded if c.healthy), decoded[0] if decoded else None)
    if chosen is None:
        return None
    found = {}
    for window in chosen.session.windows:
        for pane in window.panes:
            stages = pane.job or ((pane.program,) if pane.program else ())
            found[(chosen.session.name, window.index, pane.index)] = [list(p.argv) for p in stages]
    return found


def _pgid_of_terminal(pane_pid: int) -> int:
    """The foreground process group of the pane's terminal (tpgid in /proc/PID/stat)."""
    return int(Path(f"/proc/{pane_pid}/stat").read_text().rsplit(")", 1)[1].split()[5])


def _group_stopped(group: int) -> bool:
    members = [p for p in psutil.process_iter() if _pgid(p.pid) == group]
    return any(p.status() == "stopped" for p in members)


def report(outcomes: list[Outcome]) -> dict[str, object]:
    kinds: dict[str, dict[str, object]] = {}
    for kind in sorted({o.kind for o in outcomes}):
        mine = [o for o in outcomes if o.kind == kind]
        times = sorted(o.seconds for o in mine if o.ok)
        kinds[kind] = {
            "faults": len(mine),
            "recovered_pct": round(100 * sum(o.ok for o in mine) / len(mine), 1),
            "median_s": round(statistics.median(times), 3) if times else None,
            "p95_s": round(times[math.ceil(0.95 * len(times)) - 1], 3) if times else None,
            "max_s": round(times[-1], 3) if times else None,
        }
    return {
        "faults": len(outcomes),
        "by_kind": kinds,
        "false_resurrections": sum(o.false_resurrection for o in outcomes),
        "duplicates": sum(o.duplicates for o in outcomes),
        "programs_not_restarted": sum(len(o.not_restarted) for o in outcomes),
        "failures": [
            asdict(o) for o in outcomes if not o.ok or o.duplicates or o.false_resurrection
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--ledger", type=Path, help="write every fault's outcome here (JSON lines)")
    args = parser.parse_args()
    stop_on_sigterm()
    rng = random.Random(args.seed)
    fld = Field.create(args.interval)
    outcomes: list[Outcome] = []
    try:
        for name in LAYOUT:
            fld.build_session(name)
        campaign = Campaign(fld, rng)
        if not wait_for(campaign.all_back, 20):
            raise SystemExit(f"the programs did not start: {campaign.not_restarted()}")
        fld.start_watcher()
        wait_for(lambda: len(list(fld.state.rglob("checkpoints/*/*/*.json"))) >= len(LAYOUT), 20)
        time.sleep(1.5)
        for number in range(1, args.faults + 1):
            kind = rng.choice(KINDS)
            outcome = campaign.run_one(number, kind)
            outcomes.append(outcome)
            if args.ledger:
                with args.ledger.open("a") as handle:
                    handle.write(json.dumps(asdict(outcome)) + "\n")
            mark = "ok" if outcome.ok else "FAILED"
            print(f"{number:4d} {kind:<14} {mark:<6} {outcome.seconds:6.2f}s {outcome.expected}",
                  file=sys.stderr, flush=True)  # fmt: skip
            if outcome.needs_reset:  # (an older checkpoint's programs: start afresh)
                campaign.reset()
            time.sleep(fld.interval * 2)  # the watcher settles (checkpoints) before the next
    finally:
        fld.close()
    summary = report(outcomes)
    print(json.dumps(summary, indent=2) if args.json else _text(summary))
    return 0 if not summary["failures"] else 1


def _text(summary: dict[str, object]) -> str:
    lines = [f"{summary['faults']} faults"]
    by_kind = summary["by_kind"]
    assert isinstance(by_kind, dict)
    for kind, row in by_kind.items():
        lines.append(
            f"  {kind:<14} {row['faults']:4d} faults  recovered {row['recovered_pct']:5.1f}%  "
            f"median {row['median_s']}s  p95 {row['p95_s']}s  max {row['max_s']}s"
        )
    for key in ("false_resurrections", "duplicates", "programs_not_restarted"):
        lines.append(f"{key.replace('_', ' ')}: {summary[key]}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
