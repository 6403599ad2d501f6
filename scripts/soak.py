#!/usr/bin/env python3
"""A soak of ordinary use under a running watcher, on a private tmux server (never the
user's): a fixed, scripted mix repeated until the time is up, then the verdicts counted.

    .venv/bin/python scripts/soak.py [--minutes 30] [--faults 0] [--seed 1] [--json]
                                     [--busy N] [--kinds stop,crash,...]

Each cycle of the mix, in a `play` session beside the chaos field's sessions (vim, less,
top, tail -f, a pipeline): shells ended with `exit` (after a success and after a failure),
Ctrl-C of a running command, vim opened, edited and saved, less paged and quit, an own
command ending normally, a burst of output, copy mode entered and left on a busy pane, and
a control-mode client attached and detached. Nothing in it is a failure, so the watcher
must journal no non-healthy verdict and take no action; tmux's lost exit statuses (its
SIGCHLD bug) are counted from the watcher's --verbose log ("send SIGCHLD"), and must be
more than 0 or the soak never met the bug.

`--busy N` runs N busy loops (`while :; do :; done`, recorded and killed by pid) for the
whole soak: a machine with no CPU to spare. With `--faults N`, N faults from
scripts/chaos.py (of `--kinds`, default all) are injected at even intervals during the
same mix; each must be detected with the right kind (the journal's verdict) and repaired
(read from /proc and tmux), and no verdict may fall outside a fault's window.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chaos import REPAIR_TIMEOUT, Campaign
from fieldlib import LAYOUT, Field, stop_on_sigterm, wait_for

# The verdict each injected fault must draw, and where.
FAULT_KINDS = {
    "crash": "crashed",
    "damaged_crash": "crashed",
    "watcher_kill": "crashed",
    "stop": "frozen",
    "socket": "disconnected",
    "pane_kill": "corrupted",
    "job_stop": "frozen",
}


@dataclass
class Tally:
    cycles: int = 0
    shell_exits: int = 0
    ctrl_c: int = 0
    vim: int = 0
    less: int = 0
    copy_mode: int = 0
    bursts: int = 0
    attaches: int = 0
    own_commands: int = 0
    step_errors: list[str] = field(default_factory=list)


@dataclass
class InjectedFault:
    kind: str
    expected_verdict: str
    started_at: float
    detected: bool = False
    repaired: bool = False
    seconds: float = 0.0
    verdicts: list[str] = field(default_factory=list)


class Player:
    """A person at the keyboard, in the `play` session."""

    def __init__(self, fld: Field) -> None:
        self.field = fld
        self.tally = Tally()
        (fld.work / "draft.txt").write_text("draft\n")

    def tmux(self, *args: str) -> str:
        return self.field.tmux(*args)

    def keys(self, target: str, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", target, *(["-l"] if literal else []), *keys)

    def type_line(self, target: str, text: str) -> None:
        self.keys(target, text, literal=True)
        self.keys(target, "Enter")

    def window(self, *command: str) -> str:
        """A new window in `play`; its pane id."""
        return self.tmux("new-window", "-d", "-P", "-F", "#{pane_id}", "-t", "=play:",
                         "-c", str(self.field.work), *command).strip()  # fmt: skip

    def gone(self, pane: str) -> bool:
        panes = self.tmux("list-panes", "-a", "-F", "#{pane_id}").split()
        return pane not in panes

    def wait_prompt(self) -> None:
        time.sleep(0.4)  # the shell reads its startup files and prints a prompt

    def cycle(self) -> None:
        steps = (self.exit_ok, self.exit_failed, self.ctrl_c, self.vim, self.less,
                 self.own_command, self.burst, self.copy_mode, self.attach)  # fmt: skip
        for step in steps:
            try:
                step()
            except Exception as error:  # a fault may be in the way: note it and go on
                self.tally.step_errors.append(f"{step.__name__}: {error}")
        self.tally.cycles += 1

    def in_a_shell(self, use: Callable[[str], None]) -> None:
        """A new window's shell: `use` it, then `exit` it, and see the window go."""
        pane = self.window()
        self.wait_prompt()
        use(pane)
        self.type_line(pane, "exit")
        if wait_for(lambda: self.gone(pane), 5):
            self.tally.shell_exits += 1

    def exit_ok(self) -> None:
        self.in_a_shell(lambda pane: self.type_line(pane, "true"))

    def exit_failed(self) -> None:
        """`exit` after a failing command: the shell exits 1, still a person's doing."""
        self.in_a_shell(lambda pane: self.type_line(pane, "false"))

    def ctrl_c(self) -> None:
        def use(pane: str) -> None:
            self.type_line(pane, "sleep 30")
            time.sleep(0.5)
            self.keys(pane, "C-c")
            self.tally.ctrl_c += 1
            time.sleep(0.3)

        self.in_a_shell(use)

    def vim(self) -> None:
        def use(pane: str) -> None:
            self.type_line(pane, "vim -n draft.txt")
            time.sleep(0.8)
            self.keys(pane, "G", "o", literal=True)
            self.keys(pane, f"line {self.tally.cycles}", literal=True)
            self.keys(pane, "Escape")
            self.type_line(pane, ":wq")
            time.sleep(0.5)
            self.tally.vim += 1

        self.in_a_shell(use)

    def less(self) -> None:
        def use(pane: str) -> None:
            self.type_line(pane, "less README")
            time.sleep(0.5)
            for _ in range(3):
                self.keys(pane, "Space")
                time.sleep(0.1)
            self.keys(pane, "q")
            self.tally.less += 1
            time.sleep(0.3)

        self.in_a_shell(use)

    def own_command(self) -> None:
        """A window whose own command ends by itself, successfully."""
        pane = self.window("sleep 0.5")
        if wait_for(lambda: self.gone(pane), 5):
            self.tally.own_commands += 1

    def burst(self) -> None:
        self.type_line("=play:0.0", "seq 1 40000")
        time.sleep(1.0)
        self.type_line("=play:0.0", "clear")
        self.tally.bursts += 1

    def copy_mode(self) -> None:
        target = "=logs:0.1"
        self.tmux("copy-mode", "-t", target)
        self.tmux("send-keys", "-t", target, "-X", "page-up")
        time.sleep(0.5)
        self.tmux("send-keys", "-t", target, "-X", "cancel")
        self.tally.copy_mode += 1

    def attach(self) -> None:
        """A real client (control mode) attaches, stays a moment, detaches."""
        client = subprocess.Popen(
            ["tmux", "-S", str(self.field.socket), "-C", "attach-session", "-t", "=edit"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=self.field.env,
        )  # fmt: skip
        time.sleep(1.0)
        assert client.stdin is not None
        try:
            client.stdin.write(b"detach-client\n")
            client.stdin.close()
            client.wait(5)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            client.kill()
            client.wait()
        self.tally.attaches += 1


def lost_statuses(fld: Field) -> int:
    """How often the watcher asked tmux to reap an exit status it had lost."""
    count = 0
    for log in fld.state.glob("watch.log*"):
        count += sum(1 for line in log.read_text().splitlines() if "send SIGCHLD" in line)
    return count


def run(
    minutes: float, faults: int, seed: int, busy: int = 0, kinds: list[str] | None = None
) -> dict[str, object]:
    fld = Field.create()
    injected: list[InjectedFault] = []
    loops: list[subprocess.Popen[bytes]] = []
    try:
        for name in LAYOUT:
            fld.build_session(name)
        fld.tmux("new-session", "-d", "-s", "play", "-x", "160", "-y", "48", "-c", str(fld.work))
        campaign = Campaign(fld, random.Random(seed))
        if not wait_for(campaign.all_back, 20):
            raise SystemExit(f"the programs did not start: {campaign.not_restarted()}")
        fld.start_watcher()
        time.sleep(3)
        loops = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(busy)]
        player = Player(fld)
        rng = random.Random(seed)
        started = time.monotonic()
        end = started + minutes * 60
        every = (end - started) / (faults + 1) if faults else None
        next_fault = started + every if every else None
        while time.monotonic() < end:
            player.cycle()
            print(f"cycle {player.tally.cycles}: {player.tally.shell_exits} exits, "
                  f"{lost_statuses(fld)} lost statuses", file=sys.stderr, flush=True)  # fmt: skip
            due = next_fault is not None and time.monotonic() >= next_fault
            if due and every and len(injected) < faults:
                kind = rng.choice(sorted(kinds or FAULT_KINDS))
                injected.append(inject(campaign, kind))
                last = injected[-1]
                note = f"detected={last.detected} repaired={last.repaired} {last.seconds:.2f}s"
                print(f"fault {len(injected)} {kind}: {note}", file=sys.stderr, flush=True)
                next_fault += every
        time.sleep(2)
        journal = fld.journal()
        return {**summarize(fld, player.tally, journal, injected, minutes), "busy_loops": busy}
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
        fld.close()


def inject(campaign: Campaign, kind: str) -> InjectedFault:
    fld = campaign.field
    record = InjectedFault(kind, FAULT_KINDS[kind], time.time())
    before = len(fld.journal())
    clock = time.monotonic()
    fault = campaign.inject(kind)
    seen = wait_for(fault.took_effect, 3.0, step=0.005)
    record.repaired = seen and wait_for(fault.repaired, REPAIR_TIMEOUT)
    record.seconds = round(time.monotonic() - clock, 3)
    time.sleep(1.5)  # the healthy-again verdict is journaled
    new = fld.journal()[before:]
    record.verdicts = sorted({str(e["health"]) for e in new if e.get("kind") == "verdict"})
    record.detected = record.expected_verdict in record.verdicts
    if not record.repaired:
        campaign.reset()
    return record


def summarize(
    fld: Field,
    tally: Tally,
    journal: list[dict[str, object]],
    injected: list[InjectedFault],
    minutes: float,
) -> dict[str, object]:
    def in_a_fault(entry: dict[str, object]) -> bool:
        at = _epoch(str(entry["at"]))
        return any(f.started_at - 1 <= at <= f.started_at + f.seconds + 3 for f in injected)

    failures = [e for e in journal if e.get("kind") == "verdict" and e.get("health") != "healthy"]
    actions = [e for e in journal if e.get("kind") == "action"]
    false_verdicts = [e for e in failures if not in_a_fault(e)]
    stray_actions = [e for e in actions if not in_a_fault(e)]
    return {
        "minutes": minutes,
        "tally": asdict(tally),
        "lost_exit_statuses": lost_statuses(fld),
        "non_healthy_verdicts": len(failures),
        "actions": len(actions),
        "false_verdicts": len(false_verdicts),
        "stray_actions": len(stray_actions),
        "false_examples": [json.dumps(e)[:300] for e in (false_verdicts + stray_actions)[:5]],
        "faults": [asdict(f) for f in injected],
        "faults_detected_right": sum(f.detected for f in injected),
        "faults_repaired": sum(f.repaired for f in injected),
    }


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _text(summary: dict[str, object]) -> str:
    tally = summary["tally"]
    assert isinstance(tally, dict)
    lines = [
        f"{summary['minutes']} min, {tally['cycles']} cycles: {tally['shell_exits']} shell "
        f"exits, {tally['ctrl_c']} Ctrl-C, {tally['vim']} vim, {tally['less']} less, "
        f"{tally['copy_mode']} copy mode, {tally['bursts']} bursts, {tally['attaches']} "
        f"attach/detach, {tally['own_commands']} own commands ended",
        f"lost exit statuses (SIGCHLD sent): {summary['lost_exit_statuses']}",
        f"non-healthy verdicts: {summary['non_healthy_verdicts']} (outside a fault: "
        f"{summary['false_verdicts']}); actions: {summary['actions']} (outside a fault: "
        f"{summary['stray_actions']})",
    ]
    faults = summary["faults"]
    assert isinstance(faults, list)
    if faults:
        lines.append(
            f"faults: {len(faults)}, detected with the right kind: "
            f"{summary['faults_detected_right']}, repaired: {summary['faults_repaired']}"
        )
    examples = summary["false_examples"]
    assert isinstance(examples, list)
    lines += [f"  {example}" for example in examples]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--faults", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--busy", type=int, default=0, help="busy loops pinning the CPUs")
    parser.add_argument("--kinds", default="", help="fault kinds to draw from (comma-separated)")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown:
        parser.error(f"unknown fault kinds {unknown}; known: {sorted(FAULT_KINDS)}")
    stop_on_sigterm()
    summary = run(args.minutes, args.faults, args.seed, args.busy, kinds)
    print(json.dumps(summary, indent=2) if args.json else _text(summary))
    healthy = summary["false_verdicts"] == 0 and summary["stray_actions"] == 0
    faults_ok = summary["faults_detected_right"] == summary["faults_repaired"] == args.faults
    return 0 if healthy and faults_ok and summary["lost_exit_statuses"] else 1


if __name__ == "__main__":
    sys.exit(main())
