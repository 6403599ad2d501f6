"""Program strategies as tables, without tmux: what each makes of a captured program, and
how the one rule and a person's choice judge it (recovery.programs, recovery.plan)."""

from __future__ import annotations

import pytest

from config.programs import ProgramEntry
from config.settings import Settings
from recovery.may_run import Executable, Trust
from recovery.models import ProgramState, Resume
from recovery.plan import LaunchKind, PlanContext, plan_launch
from recovery.plan_programs import ProgramFacts
from recovery.programs import (
    FileCheck,
    entry_for,
    program_word,
    strategy_for,
    strategy_named,
    user_comeback,
)
from tests.factories import pane

SETTINGS = Settings()
BYPASS = Settings(allow_permission_bypass=True)
ID = "8b34a1c2-5d6e-4f70-9a1b-2c3d4e5f6a7b"


def stage(*argv: str, exe: str | None = None) -> ProgramState:
    return ProgramState(argv=argv, pid=4242, started_at=1.0, exe=exe)


def resume(name: str, *argv: str, **kw: object) -> Resume:
    values: dict[str, object] = {"strategy": name, "argv": argv, "cwd": "/work/proj"}
    values.update(kw)
    return Resume.model_validate(values)


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (("claude",), ("claude", 1)),
        (("/home/u/.local/bin/claude", "--resume", "x"), ("claude", 1)),
        (("node", "/usr/lib/node_modules/@openai/codex/bin/codex.js", "-m", "o3"), ("codex", 2)),
        (("/usr/bin/python3.11", "/home/u/.local/bin/aider", "a.py"), ("aider", 2)),
        (("-zsh",), ("zsh", 1)),
        (("python3", "-i"), ("python3", 1)),
        (("vim", "notes.txt"), ("vim", 1)),
    ],
)
def test_the_program_word_sees_through_launchers(argv, word) -> None:  # type: ignore[no-untyped-def]
    assert program_word(stage(*argv)) == word


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (("claude",), "claude"),
        (("claude", "--model", "opus"), "claude"),
        (("node", "/x/bin/codex.js"), "codex"),
        (("codex", "resume", "--last"), "codex"),
        (("opencode", "-s", "ses_1"), "opencode"),
        (("node", "/usr/bin/gemini", "-m", "x"), "gemini"),
        (("python3", "/usr/local/bin/aider", "x.py"), "aider"),
        (("nvim", "-S", "Session.vim"), "vim"),
        (("python3",), "repl"),
        (("ipython",), "repl"),
        (("node",), "repl"),
        (("psql", "-d", "db"), "repl"),
        (("python3", "manage.py", "runserver"), None),
        (("python3", "-m", "http.server"), None),
        (("node", "server.js"), None),
        (("less", "log"), None),
        (("claudette",), None),
    ],
)
def test_each_strategy_recognizes_its_programs_only(argv, name) -> None:  # type: ignore[no-untyped-def]
    found = strategy_for(stage(*argv))
    assert (found.name if found else None) == name


@pytest.mark.parametrize(
    ("strategy", "argv", "expected"),
    [
        ("claude", ("claude",), ("claude", "--resume", ID)),
        ("claude", ("claude", "--model", "opus"), ("claude", "--resume", ID, "--model", "opus")),
        # old resume options and a prompt given on the command line never come back
        ("claude", ("claude", "--resume", "old", "fix it"), ("claude", "--resume", ID)),
        ("claude", ("claude", "-c", "--fork-session"), ("claude", "--resume", ID)),
        ("claude", ("claude", "--session-id", "x", "-n", "t"), ("claude", "--resume", ID)),
        (
            "claude",
            ("claude", "--permission-mode", "plan"),
            ("claude", "--resume", ID, "--permission-mode", "plan"),
        ),
        (
            "codex",
            ("node", "/x/codex.js", "-m", "o3", "do it"),
            ("codex", "resume", ID, "-m", "o3"),
        ),
        ("codex", ("codex", "resume", "old", "--all"), ("codex", "resume", ID)),
        ("codex", ("codex", "resume", "--last"), ("codex", "resume", ID)),
        (
            "opencode",
            ("opencode", "-s", "ses_old", "-m", "x"),
            ("opencode", "--session", ID, "-m", "x"),
        ),
        ("opencode", ("opencode", "--continue"), ("opencode", "--session", ID)),
        ("gemini", ("gemini", "-p", "hello", "-m", "pro"), ("gemini", "--resume", ID, "-m", "pro")),
        ("gemini", ("gemini", "--resume", "latest"), ("gemini", "--resume", ID)),
    ],
)
def test_agents_resume_their_conversation_with_the_persons_options(  # type: ignore[no-untyped-def]
    strategy, argv, expected
) -> None:
    found = strategy_named(strategy)
    assert found is not None
    comeback = found.come_back(resume(strategy, *argv, session_id=ID, found_by="exact"), SETTINGS)
    assert comeback.argv == expected
    assert comeback.cwd == "/work/proj"
    assert f"resumes conversation {ID[:8]}… (exact)" in comeback.describe
    # The checkpoint records the command line without old resume options or a prompt;
    # it comes back the same from that.
    recorded = found.recorded_argv(argv)
    assert not {"old", "fix it", "do it", "hello", "--last", "ses_old"} & set(recorded)
    again = found.come_back(resume(strategy, *recorded, session_id=ID, found_by="exact"), SETTINGS)
    assert again.argv == expected


@pytest.mark.parametrize(
    ("strategy", "argv", "bypass"),
    [
        (
            "claude",
            ("claude", "--dangerously-skip-permissions"),
            ["--dangerously-skip-permissions"],
        ),
        (
            "claude",
            ("claude", "--permission-mode", "bypassPermissions"),
            ["--permission-mode", "bypassPermissions"],
        ),
        ("codex", ("codex", "--yolo"), ["--yolo"]),
        (
            "codex",
            ("codex", "--dangerously-bypass-approvals-and-sandbox"),
            ["--dangerously-bypass-approvals-and-sandbox"],
        ),
        ("codex", ("codex", "-s", "danger-full-access"), ["-s", "danger-full-access"]),
        ("gemini", ("gemini", "--yolo"), ["--yolo"]),
        ("gemini", ("gemini", "--approval-mode", "yolo"), ["--approval-mode", "yolo"]),
        ("aider", ("aider", "--yes-always"), ["--yes-always"]),
    ],
)
def test_permission_bypass_comes_back_only_when_allowed(strategy, argv, bypass) -> None:  # type: ignore[no-untyped-def]
    found = strategy_named(strategy)
    assert found is not None
    captured = resume(strategy, *argv, session_id=ID, found_by="exact")
    without = found.come_back(captured, SETTINGS)
    assert not set(bypass) & set(without.argv[1:])
    assert any("allow_permission_bypass is off" in note for note in without.notes)
    allowed = found.come_back(captured, BYPASS)
    assert all(word in allowed.argv for word in bypass) and not allowed.notes


def test_a_guess_says_so_and_no_conversation_starts_anew() -> None:
    claude = strategy_named("claude")
    assert claude is not None
    guessed = claude.come_back(
        resume("claude", "claude", session_id=ID, found_by="guess"), SETTINGS
    )
    assert "(guess)" in guessed.describe and "no other pane had" in guessed.describe
    fresh = claude.come_back(resume("claude", "claude", note="no conversation yet"), SETTINGS)
    assert fresh.argv == ("claude",) and "starts anew (no conversation yet)" in fresh.describe


def test_aider_keeps_its_files_and_reads_its_history_back() -> None:
    aider = strategy_named("aider")
    assert aider is not None
    argv = ("python3", "/usr/bin/aider", "--model", "sonnet", "a.py", "b.py")
    comeback = aider.come_back(resume("aider", *argv, file="/w/.aider.chat.history.md"), SETTINGS)
    assert comeback.argv == ("aider", "--model", "sonnet", "a.py", "b.py", "--restore-chat-history")
    without_history = aider.come_back(resume("aider", *argv), SETTINGS)
    assert "--restore-chat-history" not in without_history.argv


def test_vim_comes_back_with_its_session_only_when_the_file_is_vouched_for() -> None:
    vim = strategy_named("vim")
    assert vim is not None
    captured = resume("vim", "vim", "a.txt", file="/w/Session.vim", file_sha256="ab" * 32)
    comeback = vim.come_back(captured, SETTINGS)
    assert comeback.argv == ("vim", "-S", "/w/Session.vim")
    assert comeback.exempt == (("-S", "/w/Session.vim"),)
    assert comeback.file_check == FileCheck("/w/Session.vim", "ab" * 32, False)
    assert comeback.fallback is not None and comeback.fallback.argv == ("vim", "a.txt")
    loaded = vim.come_back(
        resume("vim", "vim", "-S", "/w/Session.vim", file="/w/Session.vim"), SETTINGS
    )
    assert loaded.file_check is not None and loaded.file_check.loaded_by_person
    assert vim.come_back(resume("vim", "nvim", "x"), SETTINGS).argv == ("nvim", "x")


@pytest.mark.parametrize(
    ("match", "argv", "found"),
    [
        ("npm run *", ("npm", "run", "dev"), True),
        ("npm run *", ("npm", "test"), False),
        ("python3 manage.py runserver*", ("python3", "manage.py", "runserver", "0:8000"), True),
        ("cargo watch*", ("cargo", "watch", "-x", "run"), True),
    ],
)
def test_a_persons_programs_match_on_the_command_line(match, argv, found) -> None:  # type: ignore[no-untyped-def]
    entries = (ProgramEntry(name="mine", match=match),)
    assert (entry_for(argv, entries) is not None) is found


def test_a_template_fills_quoted_fields() -> None:
    entry = ProgramEntry(name="dev", match="npm run *", mode="run", restore="{argv} -- --port 3000")
    comeback = user_comeback(entry, ("npm", "run", "dev; rm -rf ~"), "/w/it's")
    assert comeback.argv == ("npm", "run", "dev; rm -rf ~", "--", "--port", "3000")
    assert comeback.mode == "run"
    here = ProgramEntry(name="here", match="*", restore="make -C {cwd}")
    assert user_comeback(here, ("make",), "/w/it's").argv == ("make", "-C", "/w/it's")


# -- through the planner and the one rule ---------------------------------------------------

BIN = {
    "claude": ("/home/u/.local/bin/claude", None),
    "codex": ("/usr/lib/node_modules/@openai/codex/bin/codex.js", "/usr/bin/node"),
    "vim": ("/usr/bin/vim.basic", None),
    "python3": ("/usr/bin/python3.11", None),
    "npm": ("/usr/lib/node_modules/npm/bin/npm-cli.js", "/usr/bin/node"),
}


def machine(argv0: str) -> Executable:
    path, interpreter = BIN.get(argv0.rsplit("/", 1)[-1], (None, None))
    return Executable(path=path, interpreter=interpreter, named=path)


def plan(pane_state, settings: Settings = SETTINGS, **context_kw):  # type: ignore[no-untyped-def]
    context = PlanContext(settings=settings, trust=Trust.OWN, resolve=machine, **context_kw)
    return plan_launch(pane_state, context, "0.0")


def agent_pane(*argv: str, exe: str, **resume_kw: object):  # type: ignore[no-untyped-def]
    captured = resume(resume_kw.pop("strategy", "claude"), *argv, **resume_kw)
    return pane(0, program=None).model_copy(
        update={"program": stage(*argv, exe=exe), "resume": captured}
    )


def test_a_resumed_agent_runs_when_the_rule_allows_it() -> None:
    claude = agent_pane("claude", exe="/home/u/.local/bin/claude", session_id=ID, found_by="exact")
    launch = plan(claude)
    assert launch.kind is LaunchKind.RUN_IN_SHELL
    assert launch.keys == f"claude --resume {ID}"
    assert launch.describe().startswith(f"claude: resumes conversation {ID[:8]}… (exact); ")


def test_the_npm_codex_launcher_comes_back_as_codex() -> None:
    codex = agent_pane(
        "node", "/usr/lib/node_modules/@openai/codex/bin/codex.js", "-m", "o3",
        exe="/usr/bin/node", strategy="codex", session_id=ID, found_by="exact",
    )  # fmt: skip
    assert plan(codex).keys == f"codex resume {ID} -m o3"


def test_an_agent_option_that_runs_commands_is_held() -> None:
    codex = agent_pane(
        "codex", "-c", 'notify=["sh","-c","touch /tmp/p"]',
        exe="/usr/lib/node_modules/@openai/codex/bin/codex.js", strategy="codex",
        session_id=ID, found_by="exact",
    )  # fmt: skip
    launch = plan(codex)
    assert launch.kind is LaunchKind.TYPED and "may run a command" in launch.reason


def test_a_gone_conversation_gives_a_shell_in_its_directory() -> None:
    claude = agent_pane("claude", exe="/home/u/.local/bin/claude", session_id=ID, found_by="exact")
    facts = ProgramFacts(conversation_exists=lambda _r: False)
    launch = plan(claude, facts=facts)
    assert launch.kind is LaunchKind.SHELL and "is gone" in launch.reason


def test_a_session_file_not_vouched_for_reopens_the_files() -> None:
    vim = agent_pane(
        "vim", "a.txt", exe="/usr/bin/vim.basic", strategy="vim", file="/w/Session.vim",
        file_sha256="00" * 32,
    )  # fmt: skip
    assert plan(vim).keys == "vim a.txt"
    vouched = plan(vim, facts=ProgramFacts(file_vouched=lambda _c: True))
    assert vouched.kind is LaunchKind.RUN_IN_SHELL and vouched.keys == "vim -S /w/Session.vim"


def test_a_repl_is_held_by_default() -> None:
    python = pane(0, program=None).model_copy(
        update={"program": stage("python3", exe="/usr/bin/python3.11")}
    )
    settings = Settings(allowlist=(*SETTINGS.allowlist, "python3"))
    launch = plan(python, settings)
    assert launch.kind is LaunchKind.TYPED and launch.keys == "python3"


@pytest.mark.parametrize(
    ("choice", "kind"),
    [("run", LaunchKind.RUN_IN_SHELL), ("hold", LaunchKind.TYPED), ("shell", LaunchKind.SHELL)],
)
def test_a_choice_lowers_how_a_pane_comes_back(choice, kind) -> None:  # type: ignore[no-untyped-def]
    claude = agent_pane("claude", exe="/home/u/.local/bin/claude", session_id=ID, found_by="exact")
    assert plan(claude, choices={"0.0": choice}).kind is kind
    assert plan(claude, choices={"all": choice}).kind is kind
    assert plan(claude, choices={"1.0": "shell"}).kind is LaunchKind.RUN_IN_SHELL


def test_a_choice_to_run_lifts_a_programs_default_up_to_what_the_rule_allows() -> None:
    python = pane(0, program=None).model_copy(
        update={"program": stage("python3", exe="/usr/bin/python3.11")}
    )
    allowed = Settings(allowlist=(*SETTINGS.allowlist, "python3"))
    assert plan(python, allowed, choices={"0.0": "run"}).kind is LaunchKind.RUN_IN_SHELL
    held = plan(python, SETTINGS, choices={"all": "run"})  # not on the allowlist
    assert held.kind is LaunchKind.TYPED and "not on the allowlist" in held.reason


def test_a_choice_to_run_never_raises_what_the_rule_holds() -> None:
    npm = pane(0, program=None).model_copy(
        update={"program": stage("npm", "run", "dev", exe="/usr/bin/node")}
    )
    launch = plan(npm, choices={"0.0": "run"})
    assert launch.kind is LaunchKind.TYPED and "not on the allowlist" in launch.reason


def test_a_persons_program_entry_applies_before_the_built_in_ones() -> None:
    settings = Settings(
        allowlist=(*SETTINGS.allowlist, "npm"),
        programs=(ProgramEntry(name="dev", match="npm run *", mode="run"),),
    )
    npm = pane(0, program=None).model_copy(
        update={"program": stage("npm", "run", "dev", exe="/usr/bin/node")}
    )
    launch = plan(npm, settings)
    assert launch.kind is LaunchKind.RUN_IN_SHELL and "your program 'dev'" in launch.describe()
    held = Settings(allowlist=settings.allowlist, programs=(ProgramEntry(name="d", match="npm *"),))
    assert plan(npm, held).kind is LaunchKind.TYPED


def test_a_bypass_flag_outside_a_strategy_is_held() -> None:
    claude = pane(0, program=None).model_copy(
        update={
            "program": stage(
                "claude", "--dangerously-skip-permissions", exe="/home/u/.local/bin/claude"
            )
        }
    )
    launch = plan(claude)
    assert launch.kind is LaunchKind.TYPED and "allow_permission_bypass" in launch.reason
    assert plan(claude, BYPASS).kind is LaunchKind.RUN_IN_SHELL


def test_a_watchers_probe_of_a_program_is_read_again_only_every_few_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A poll every second must not re-read every agent's files every second: a probe is
    kept per pane and program (pid, start time) for REPROBE_AFTER seconds; a new program
    in the pane is probed at once; a pane no longer seen is forgotten."""
    from guardian.programs import capture

    calls: list[str] = []
    monkeypatch.setattr(capture, "_probe", lambda p: calls.append(p.pane_id))
    now = [1000.0]
    monkeypatch.setattr(capture.time, "monotonic", lambda: now[0])
    cache = capture.ProbeCache()
    claude = pane(0, program=None).model_copy(update={"program": stage("claude")})
    for _ in range(3):
        cache.probe(claude)
    assert len(calls) == 1
    now[0] += capture.REPROBE_AFTER
    cache.probe(claude)
    assert len(calls) == 2
    again = claude.model_copy(update={"program": stage("claude").model_copy(update={"pid": 7})})
    cache.probe(again)  # the pane runs another claude: probed at once
    assert len(calls) == 3
    cache.keep_only(set())
    assert cache.entries == {}
