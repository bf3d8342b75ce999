"""Which chromium renders script-built pages, and how it is kept in its sandbox.

Pages are adversarial: a marketplace can serve anything, and a renderer exploit must not reach
the crawler's files. So chromium always runs with its own sandbox (a user, PID and network
namespace per renderer, plus seccomp-BPF). Chromium refuses that sandbox to root, so when we are
root the browser runs as the unprivileged system user `adwatch-browser`: `chromium-as-user` (next
to this file) hands it its profile directory and `exec`s chromium through util-linux's `setpriv`.

The executable is the `ADWATCH_CHROMIUM` setting or environment variable, else `chromium` on the
PATH (Debian's package; Playwright never downloads a browser). A kernel that forbids user
namespaces gets a clear error; `ADWATCH_CHROMIUM_SANDBOX=off` runs without the sandbox instead,
and every crawl then says so in a warning.
"""

from __future__ import annotations

import atexit
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from adwatch.accounts import system_account
from adwatch.errors import UserError

log = logging.getLogger(__name__)

BROWSER_USER = "adwatch-browser"
WRAPPER = Path(__file__).with_name("chromium-as-user")
CHROMIUM_ENV = "ADWATCH_CHROMIUM"
SANDBOX_ENV = "ADWATCH_CHROMIUM_SANDBOX"
# The background-networking flags stop chromium phoning home, which a closed network refuses.
ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync", "--disable-dev-shm-usage"]


class BrowserUnavailable(UserError):
    """Chromium is missing or cannot run sandboxed; the message says what to install or set."""


def executable(configured: str = "") -> str:
    """The chromium to run: `configured` (the ADWATCH_CHROMIUM setting), the environment, else the PATH."""
    wanted = configured or os.environ.get(CHROMIUM_ENV, "")
    if wanted:
        found = shutil.which(wanted)
        if not found:
            raise BrowserUnavailable(f"{CHROMIUM_ENV} is {wanted!r}, which is not an executable file. Point it at "
                                     "chromium (Debian: /usr/bin/chromium) or unset it to use chromium on the PATH.")
        return found
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise BrowserUnavailable("This site renders pages in a browser, and no chromium is on the PATH. Install "
                                 "Debian's chromium (`apt-get install chromium`, or `make chromium`), or set "
                                 f"{CHROMIUM_ENV} to a chromium executable.")
    return found


def launch_options(configured: str = "") -> dict:
    """Playwright launch options for a sandboxed chromium (see the module docstring)."""
    chromium = executable(configured)
    options = {"headless": True, "args": list(ARGS)}
    if os.environ.get(SANDBOX_ENV, "on").lower() in ("off", "0", "false", "no"):
        log.warning("chromium runs WITHOUT its sandbox (%s=off): a hostile page that exploits the renderer "
                    "gets this crawler's privileges%s. Unset %s to sandbox it.", SANDBOX_ENV,
                    " (root)" if os.geteuid() == 0 else "", SANDBOX_ENV)
        return {**options, "executable_path": chromium, "chromium_sandbox": False}
    options["chromium_sandbox"] = True  # without it Playwright adds --no-sandbox
    if os.geteuid() != 0:
        _check_namespaces([])
        return {**options, "executable_path": chromium}
    user = browser_account()
    _check_namespaces(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--"])
    if not os.access(WRAPPER, os.X_OK):
        raise BrowserUnavailable(f"{WRAPPER} is not executable; restore its mode with `chmod 755 {WRAPPER}`.")
    env = {**os.environ, "ADWATCH_BROWSER_UID": str(user.pw_uid), "ADWATCH_BROWSER_GID": str(user.pw_gid),
           "ADWATCH_CHROMIUM_REAL": chromium}
    return {**options, "executable_path": str(WRAPPER), "env": env, "downloads_path": _downloads_for(user)}


def _downloads_for(user: pwd.struct_passwd) -> str:
    """A directory the browser's account may write downloads to (Playwright's own is root's), gone at exit."""
    path = tempfile.mkdtemp(prefix="adwatch-browser-downloads-")
    os.chown(path, user.pw_uid, user.pw_gid)
    atexit.register(shutil.rmtree, path, True)
    return path


def browser_account() -> pwd.struct_passwd:
    """The unprivileged account chromium runs as when we are root; created (a system user) on first use."""
    return system_account(BROWSER_USER, "chromium refuses its sandbox to root and must run as another user")


def _check_namespaces(as_user: list[str]) -> None:
    """Chromium's sandbox needs unprivileged user namespaces: fail now, clearly, rather than on every page."""
    try:
        done = subprocess.run([*as_user, "unshare", "--user", "--map-root-user", "true"], capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BrowserUnavailable(f"could not test for user namespaces ({exc}); install util-linux.") from exc
    if done.returncode != 0:
        raise BrowserUnavailable(
            "chromium's sandbox needs unprivileged user namespaces, which this kernel refuses "
            f"({done.stderr.strip() or 'unshare failed'}). Allow them (`sysctl -w kernel.unprivileged_userns_clone=1` "
            "on Debian kernels, `sysctl -w user.max_user_namespaces=15000`, or the AppArmor profile for chromium "
            f"on Ubuntu), or, knowing that hostile pages then run unconfined, set {SANDBOX_ENV}=off.")


def configure(settings, priority: str = "spider") -> None:
    """Set PLAYWRIGHT_LAUNCH_OPTIONS on Scrapy `settings` for a crawl that renders in a browser."""
    settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", launch_options(settings.get("ADWATCH_CHROMIUM", "")), priority=priority)
