"""Crawl schedules: when each site is crawled, written by operators in `crawler/schedules.yaml`.

    sites:
      demo-html:
        cron: "*/30 * * * *"     # 5 fields (minute hour day month weekday) or @hourly/@daily/...; UTC
        enabled: true
        max_duration: 20m        # a longer crawl is stopped (it resumes next time) and raises too_long
        recrawl: incremental     # or full: fetch every ad page, not only those whose listing changed
        enrich: true             # run `adwatch enrich` after a finished crawl
        misfire_grace: 1h        # see due_slot
        polite: true             # false (no delays) only for a marketplace on this machine

Durations are seconds or a number with s, m, h or d ("90s", "20m", "1h30m"). The slot rules below
are pure functions of a schedule, the last slot done and the time, so tests can drive them.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adwatch.errors import UserError
from crawler.sites import SiteError, load_site

DEFAULT_FILE = Path(__file__).parent / "schedules.yaml"
CRON_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ScheduleError(UserError):
    """The schedules file is missing or invalid; the message names the file, the site and the key."""


def parse_duration(value: object) -> object:
    """Seconds from a number or a text like '90s', '20m', '1h30m'; anything else is left for pydantic to reject."""
    if isinstance(value, str):
        text = value.strip().lower()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            return float(text)
        if not text or _DURATION.sub("", text).strip():
            raise ValueError(f"{value!r} is not a duration: give seconds or a number with s, m, h or d (e.g. 20m)")
        return sum(float(n) * _UNIT_S[unit] for n, unit in _DURATION.findall(text))
    return value


class SiteSchedule(BaseModel):
    """When and how one site is crawled by the scheduler."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    site: str
    cron: str
    enabled: bool = True
    max_duration: float = Field(default=3600.0, ge=1, description="seconds")
    recrawl: Literal["incremental", "full"] = "incremental"
    enrich: bool = False
    # Slots are minutes apart at the finest: a grace under a minute would skip slots a busy tick reaches late.
    misfire_grace: float = Field(default=3600.0, ge=60, description="seconds")
    polite: bool = True

    _durations = field_validator("max_duration", "misfire_grace", mode="before")(parse_duration)

    @field_validator("cron")
    @classmethod
    def _cron(cls, expr: str) -> str:
        expr = " ".join(expr.split())
        fields_ok = expr in CRON_ALIASES or len(expr.split()) == 5
        if not fields_ok or not croniter.is_valid(expr):
            raise ValueError(f"{expr!r} is not a cron expression: give 5 fields (minute hour day-of-month month "
                             f"day-of-week, in UTC) or one of {', '.join(CRON_ALIASES)}")
        return expr


class Schedules(BaseModel):
    """Every site's schedule, from one file."""

    model_config = ConfigDict(frozen=True)
    path: Path
    sites: dict[str, SiteSchedule]

    def enabled(self) -> list[SiteSchedule]:
        return [s for s in self.sites.values() if s.enabled]

    def get(self, site: str) -> SiteSchedule:
        if site not in self.sites:
            raise ScheduleError(f"{self.path}: no schedule for site {site!r} (scheduled sites: "
                                f"{', '.join(sorted(self.sites)) or 'none'}); add one under sites:.")
        return self.sites[site]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _load_entry(path: Path, site: str, raw: object) -> SiteSchedule:
    where = f"{path}: site {site}"
    if not isinstance(raw, dict):
        raise ScheduleError(f"{where}: the entry must be a mapping of keys (cron, enabled, max_duration, ...).")
    try:
        entry = SiteSchedule.model_validate({**raw, "site": site})
    except ValidationError as exc:
        problems = "; ".join(f"key {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ScheduleError(f"{where}, {problems}") from exc
    try:
        definition = load_site(site)
    except SiteError as exc:
        raise ScheduleError(f"{where}: the site definition does not load: {exc}") from exc
    if not entry.polite and not all(_is_loopback(d) for d in definition.allowed_domains):
        raise ScheduleError(f"{where}, key polite: false is only allowed for a marketplace on this machine, but "
                            f"{site} allows {', '.join(definition.allowed_domains)}; remove the key.")
    return entry


def load_schedules(path: str | Path | None = None) -> Schedules:
    """Load and validate a schedules file (default: the shipped `crawler/schedules.yaml`)."""
    path = Path(path) if path else DEFAULT_FILE
    if not path.is_file():
        raise ScheduleError(f"{path}: no such schedules file; fix the path (--schedules or ADWATCH_SCHEDULES).")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScheduleError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) != {"sites"} or not isinstance(raw["sites"], dict):
        raise ScheduleError(f"{path}: a schedules file holds one key, sites:, mapping each site name to its "
                            "schedule (cron, enabled, max_duration, recrawl, enrich, misfire_grace, polite).")
    return Schedules(path=path, sites={site: _load_entry(path, str(site), entry) for site, entry in raw["sites"].items()})


# ---------------------------------------------------------------------- slot rules (pure)

def slot_at(cron: str, when: datetime) -> datetime:
    """The latest cron slot at or before `when` (an aware datetime)."""
    # croniter's get_prev is strictly before its start: nudge the start so a slot time counts as itself.
    return croniter(cron, when + timedelta(microseconds=1)).get_prev(datetime)


def next_slot(cron: str, when: datetime) -> datetime:
    """The first cron slot strictly after `when`."""
    return croniter(cron, when).get_next(datetime)


def due_slot(schedule: SiteSchedule, last_done: datetime | None, now: datetime) -> datetime | None:
    """The slot to run now, or None.

    Misfire policy: when the scheduler was down or busy across several slots, only the latest slot
    runs, once, and only while it is no older than `misfire_grace`; a latest slot older than that
    is skipped and the site waits for its next slot. `last_done` is the latest slot already run or
    skipped (None: never), so a slot never runs twice.
    """
    latest = slot_at(schedule.cron, now)
    if last_done is not None and latest <= last_done:
        return None
    if (now - latest).total_seconds() > schedule.misfire_grace:
        return None
    return latest
