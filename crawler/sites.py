"""Site definitions: how to crawl one marketplace, written by operators in `crawler/sites/<site>.yaml`.

A definition names start URLs, the listing selectors (listing pages to follow, ad entries with
their link and the listing fields that reveal a change, the next page), the detail selectors, and
politeness. Selectors are strings: `css:...` or `xpath:...` (a bare string is CSS). Values may
use `${VAR}` or `${VAR:-default}` placeholders from the environment. Every problem found on load
names the file and the key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from parsel import Selector
from adwatch.errors import UserError
from crawler.items import in_domains
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SITES_DIR = Path(__file__).parent / "sites"
DEFAULT_PLACEHOLDERS = {"ADWATCH_DEMO_URL": "http://127.0.0.1:8765"}
_PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


class SiteError(UserError):
    """A site definition is missing or invalid; the message names the file and the key."""


class Pick(BaseModel):
    """One selector: `css:` or `xpath:` prefixed (CSS when bare), compiled once on load."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["css", "xpath"]
    query: str

    @classmethod
    def parse(cls, text: str) -> "Pick":
        kind, _, rest = text.partition(":")
        if kind in ("css", "xpath") and rest:
            pick = cls(kind=kind, query=rest.strip())
        else:
            pick = cls(kind="css", query=text.strip())
        try:  # fail on load, not in the middle of a crawl
            getattr(Selector(text="<html/>"), pick.kind)(pick.query)
        except Exception as exc:  # parsel raises several unrelated types for a bad expression
            raise ValueError(f"invalid {pick.kind} selector {pick.query!r}: {exc}") from exc
        return pick

    def all(self, node) -> list[str]:
        """Every matched value as stripped text (elements become their joined text)."""
        found = getattr(node, self.kind)(self.query)
        values = []
        for sel in found:
            value = sel.get()
            if value is not None and value.lstrip().startswith("<"):
                value = " ".join(t.strip() for t in sel.xpath(".//text()").getall() if t.strip())
            if value is not None and value.strip():
                values.append(value.strip())
        return values

    def first(self, node) -> str | None:
        values = self.all(node)
        return values[0] if values else None

    def nodes(self, node):
        return getattr(node, self.kind)(self.query)


def _pick(value: object) -> object:
    return Pick.parse(value) if isinstance(value, str) else value


class Listing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    follow: list[Pick] = Field(default_factory=list, description="links to further listing pages (categories, cities)")
    entry: Pick = Field(description="one ad entry on a listing page")
    link: Pick = Field(description="the ad's detail link, inside an entry")
    key: list[Pick] = Field(default_factory=list,
                            description="entry fields that change when the ad changes (date, price)")
    next_page: Pick | None = None

    _picks = field_validator("entry", "link", "next_page", mode="before")(_pick)

    @field_validator("follow", "key", mode="before")
    @classmethod
    def _picks_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        return [_pick(v) for v in value] if isinstance(value, list) else value


class Detail(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ad_id: Pick
    title: Pick
    body: Pick
    price: Pick | None = None
    currency: Pick | None = None
    city: Pick | None = None
    region: Pick | None = None
    country: Pick | None = None
    posted_at: Pick | None = None
    category: Pick | None = None
    images: Pick | None = None
    contact: Pick | None = None

    _picks = field_validator("*", mode="before")(_pick)


class Politeness(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    delay_s: float = Field(default=1.0, ge=0)
    concurrency: int = Field(default=2, ge=1, le=32)
    autothrottle: bool = True


class Browser(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    wait_for: str = Field(description="CSS selector present once client-side script has filled the page")
    error: Pick | None = Field(default=None, description="matches when the script could not load its data; "
                                                         "the page is then retried like a 5xx")
    timeout_s: float = Field(default=20.0, gt=0)

    _picks = field_validator("error", mode="before")(_pick)


class SiteDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    site: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    name: str = ""
    start_urls: list[str] = Field(min_length=1)
    allowed_domains: list[str] = Field(min_length=1)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$",
                                description="default ISO country for ads whose page does not say")
    currency: str | None = None
    render: Literal["http", "browser"] = "http"
    browser: Browser | None = None
    listing: Listing
    detail: Detail
    politeness: Politeness = Politeness()
    gone_statuses: list[int] = Field(default_factory=lambda: [404, 410])

    @field_validator("start_urls")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise ValueError(f"{url!r} is not an absolute http(s) URL")
        return urls

    @model_validator(mode="after")
    def _consistent(self) -> "SiteDefinition":
        if self.render == "browser" and self.browser is None:
            raise ValueError("render: browser needs a browser: {wait_for: ...} section")
        for url in self.start_urls:
            if not in_domains(url, self.allowed_domains):
                raise ValueError(f"start URL {url} is outside allowed_domains {self.allowed_domains}")
        return self


def expand_placeholders(text: str, env: dict[str, str] | None = None) -> str:
    """Replace `${VAR}` / `${VAR:-default}` from the environment (demo URL has a built-in default)."""
    env = os.environ if env is None else env

    def sub(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name) or default or DEFAULT_PLACEHOLDERS.get(name)
        if value is None:
            raise SiteError(f"placeholder ${{{name}}} is not set: export {name} or give a default as ${{{name}:-...}}")
        return value.rstrip("/") if name.endswith("_URL") else value

    return _PLACEHOLDER.sub(sub, text)


def _where(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def load_site(name_or_path: str | Path, sites_dir: Path = SITES_DIR) -> SiteDefinition:
    """Load and validate a definition by site name (from `sites_dir`) or by file path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = sites_dir / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in sites_dir.glob("*.yaml"))) or "none"
        raise SiteError(f"{path}: no such site definition (known sites: {known}).")
    try:
        raw = yaml.safe_load(expand_placeholders(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise SiteError(f"{path}: not valid YAML: {exc}") from exc
    except SiteError as exc:
        raise SiteError(f"{path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise SiteError(f"{path}: a site definition must be a mapping of keys to values.")
    try:
        definition = SiteDefinition.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"key {_where(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise SiteError(f"{path}: {problems}") from exc
    if definition.site != path.stem:
        raise SiteError(f"{path}: key site: is {definition.site!r} but the file is named {path.stem!r}; make them match.")
    return definition


def known_sites(sites_dir: Path = SITES_DIR) -> list[str]:
    return sorted(p.stem for p in sites_dir.glob("*.yaml"))
