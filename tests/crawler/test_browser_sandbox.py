"""Chromium renders hostile pages inside its own sandbox, found where the operator says, never as root."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import time
from pathlib import Path

from crawl_helpers import ROOT
from pages_server import PagesServer
from test_removal import BROWSER_SITE, PHONE_PAGE, READY, listing

FAST = ("--no-politeness",)


def chromium_processes(ancestor: int) -> dict[int, dict]:
    """Live chromium processes descending from `ancestor`: their uid, arguments and user namespace."""
    found, parents = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
            parents[int(entry.name)] = int(status["PPid"])
            # Chromium's children rewrite their title: all arguments in one, space-separated.
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
            if args and args[0].endswith("/chromium"):
                found[int(entry.name)] = {"uid": int(status["Uid"].split()[0]), "args": args,
                                          "userns": os.readlink(entry / "ns" / "user")}
        except (OSError, KeyError, ValueError):
            continue  # gone meanwhile

    def descends(pid: int) -> bool:
        for _ in range(64):
            if pid == ancestor:
                return True
            pid = parents.get(pid, 0)
            if pid <= 1:
                return False
        return False

    return {pid: facts for pid, facts in found.items() if descends(pid)}


def test_browser_crawl_runs_chromium_sandboxed_and_unprivileged(crawler, tmp_path):
    path = tmp_path / "tinyjs.yaml"
    path.write_text(BROWSER_SITE)
    seen: dict[int, dict] = {}
    with PagesServer() as server:
        crawler.env["TINY_URL"] = server.url
        server.pages["/list"] = (200, listing([1]).replace("</body>", READY + "</body>"))
        server.pages["/ad/1"] = (200, PHONE_PAGE.format(n=1))
        proc = subprocess.Popen([sys.executable, "-m", "adwatch.cli", "crawl", str(path), *FAST], env=crawler.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:  # the browser lives for the whole crawl
            seen.update(chromium_processes(proc.pid))
            time.sleep(0.05)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-3000:]
    assert crawler.ads("tinyjs")["1"]["contact_text"] == "+1 617 555 0101"
    assert seen, "no chromium process seen"
    assert not any("--no-sandbox" in p["args"] for p in seen.values())
    if os.geteuid() == 0:  # chromium refuses its sandbox to root: it must not run as root at all
        assert {p["uid"] for p in seen.values()} == {pwd.getpwnam("adwatch-browser").pw_uid}
    renderers = [p for p in seen.values() if "--type=renderer" in p["args"]]
    ours = os.readlink("/proc/self/ns/user")
    assert renderers and all(p["userns"] != ours for p in renderers)  # the namespace sandbox holds them


def test_a_missing_chromium_is_a_clear_error(crawler, tmp_path):
    path = tmp_path / "tinyjs.yaml"
    path.write_text(BROWSER_SITE)
    crawler.env.update(TINY_URL="http://127.0.0.1:9", ADWATCH_CHROMIUM=str(tmp_path / "no-such-chromium"))
    done = crawler.crawl(str(path), *FAST)
    message = "".join(done.stderr.split())
    assert done.returncode == 2 and "ADWATCH_CHROMIUMis" in message and "notanexecutablefile" in message
    assert crawler.runs("tinyjs") == []


def test_the_sandbox_is_only_off_when_asked_and_then_a_warning_says_so(monkeypatch, caplog):
    from crawler.chromium import SANDBOX_ENV, launch_options

    monkeypatch.setenv(SANDBOX_ENV, "off")
    options = launch_options()
    assert options["chromium_sandbox"] is False and "WITHOUT its sandbox" in caplog.text
    monkeypatch.delenv(SANDBOX_ENV)
    assert launch_options()["chromium_sandbox"] is True
