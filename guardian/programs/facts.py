"""What a restore asks the machine about a program's come-back: does its conversation
still exist, and may a session file be loaded (the person's own, not writable by others,
unchanged unless their own command line loaded it)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from guardian.programs.editors import file_digest
from guardian.programs.opencode import session_exists
from recovery.models import Resume
from recovery.plan_programs import ProgramFacts
from recovery.programs import FileCheck


def program_facts() -> ProgramFacts:
    return ProgramFacts(conversation_exists=conversation_exists, file_vouched=file_vouched)


def conversation_exists(resume: Resume) -> bool | None:
    if resume.file is None or resume.session_id is None:
        return None
    if resume.strategy == "opencode":
        return session_exists(Path(resume.file), resume.session_id)
    return Path(resume.file).exists()


def file_vouched(check: FileCheck) -> bool:
    try:
        info = Path(check.path).lstat()
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
        return False
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return check.loaded_by_person or (
        check.sha256 is not None and file_digest(check.path) == check.sha256
    )
