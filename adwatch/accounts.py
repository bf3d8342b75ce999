"""System accounts AdWatch runs its helpers as when it is root (Elasticsearch, chromium)."""

from __future__ import annotations

import pwd
import subprocess

from adwatch.errors import UserError


def system_account(name: str, why: str) -> pwd.struct_passwd:
    """The system user `name` (no home, no login shell), created on first use; `why` says what needs it."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        done = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise UserError(f"{why}, and creating the user {name} failed: {done.stderr.strip()}. Create that user "
                            "yourself, or run AdWatch as a normal user.") from None
        return pwd.getpwnam(name)
