"""Site definitions: how to crawl one marketplace, written by operators in `crawler/sites/<site>.yaml`.

A definition names start URLs, the listing selectors (listing pages to follow, ad entries with
their link and the listing fields that reveal a change, the next page), the detail page (a `root`
the ad lives in, `exclude`d page parts, one rule per field), site `defaults` (country, currency,
time zone, locale), how `structured` data is used, what marks a `removal`, browser actions, and
politeness. Selectors are strings: `css:...` or `xpath:...` (a bare string is CSS). A field rule is
a selector, or a mapping with one source (`select`, `data`, `url`, `listing`) and cleaning steps
(`re`, `split` + `part`, `strip`). Values may use `${VAR}` or `${VAR:-default}` placeholders from
the environment. Every problem found on load names the file, the key and what to write instead.
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
            raise ValueError(f"invalid {pick.kind} selector {pick.query!r}: {exc}; write a CSS selector such as "
                             "'css:div.price::text' or an XPath such as 'xpath://div[@class=\"price\"]/text()'") from exc
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

    def for_browser(self) -> str:
        """The selector as Playwright writes it ("css=..." / "xpath=...")."""
        return f"{self.kind}={self.query}"


def _pick(value: object) -> object:
    return Pick.parse(value) if isinstance(value, str) else value


def _pick_list(value: object) -> object:
    if isinstance(value, str):
        value = [value]
    return [_pick(v) for v in value] if isinstance(value, list) else value


def _regex(value: str | None, key: str) -> str | None:
    if value is None:
        return None
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise ValueError(f"{key}: {value!r} is not a regular expression ({exc}); write e.g. '(\\d+)' "
                         "(in YAML single quotes a backslash needs no escaping)") from exc
    if compiled.groups > 1:
        raise ValueError(f"{key}: {value!r} has {compiled.groups} capture groups; keep one, the value to take, "
                         "and write the others as (?:...)")
    return value


class Rule(BaseModel):
    """How one ad field is read: a source, then optional cleaning steps, in this order:
    `re` (the first capture group, or the whole match), `split` + `part`, `strip`.

    Sources (exactly one): `select` (css:/xpath: inside the ad's root), `data` (a path into the
    page's structured data), `url` (a regular expression on the ad's URL), `listing` (a selector
    on the ad's entry in the listing). A bare string in YAML is a `select`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    select: Pick | None = None
    data: str | None = Field(default=None, description="'offers.price', 'JobPosting.datePosted', 'og:image'")
    url: str | None = Field(default=None, description="regular expression on the ad's URL")
    listing: Pick | None = None
    pattern: str | None = Field(default=None, alias="re")
    split: str | None = None
    part: int | None = None
    strip: str | None = None

    _picks = field_validator("select", "listing", mode="before")(_pick)

    @field_validator("url")
    @classmethod
    def _url_regex(cls, value: str | None) -> str | None:
        return _regex(value, "url")

    @field_validator("pattern")
    @classmethod
    def _re(cls, value: str | None) -> str | None:
        return _regex(value, "re")

    @field_validator("data")
    @classmethod
    def _data_path(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z@][\w@-]*(?::[\w:-]+)?(?:\.[A-Za-z@][\w@-]*)*", value):
            raise ValueError(f"data: {value!r} is not a path; write keys joined by dots, e.g. 'offers.price', "
                             "'JobPosting.baseSalary.currency' or 'og:image'")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> "Rule":
        sources = [k for k in ("select", "data", "url", "listing") if getattr(self, k) is not None]
        if len(sources) != 1:
            given = ", ".join(sources) or "none"
            raise ValueError(f"a field rule needs exactly one source of select, data, url or listing (given: {given});"
                             " write e.g. {select: 'css:p.price', re: '([\\d.,]+)'}")
        if self.part is not None and self.split is None:
            raise ValueError("part: needs split: (the separator), e.g. {split: ',', part: 0}")
        return self

    @property
    def source(self) -> str:
        return next(k for k in ("select", "data", "url", "listing") if getattr(self, k) is not None)


def _rule(value: object) -> object:
    if isinstance(value, str):
        return Rule(select=Pick.parse(value))
    return value


FIELDS = ("ad_id", "title", "body", "price", "currency", "city", "region", "country", "location", "posted_at",
          "category", "images", "contact")


class Detail(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    root: Pick | None = Field(default=None, description="the ad itself; every select: is read inside it")
    exclude: list[Pick] = Field(default_factory=list, description="removed before extraction: related ads, share "
                                                                  "buttons, footers")
    ad_id: Rule | None = None
    title: Rule | None = None
    body: Rule | None = None
    price: Rule | None = None
    currency: Rule | None = None
    city: Rule | None = None
    region: Rule | None = None
    country: Rule | None = None
    location: Rule | None = Field(default=None, description="one line split into city, region and country")
    posted_at: Rule | None = None
    category: Rule | None = None
    images: Rule | None = None
    contact: Rule | None = None

    _root = field_validator("root", mode="before")(_pick)
    _exclude = field_validator("exclude", mode="before")(_pick_list)
    _rules = field_validator(*FIELDS, mode="before")(_rule)

    def rules(self) -> dict[str, Rule]:
        return {name: getattr(self, name) for name in FIELDS if getattr(self, name) is not None}


class Listing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    follow: list[Pick] = Field(default_factory=list, description="links to further listing pages (categories, cities)")
    entry: Pick = Field(description="one ad entry on a listing page")
    link: Pick = Field(description="the ad's detail link, inside an entry")
    key: list[Pick] = Field(default_factory=list,
                            description="entry fields that change when the ad changes (date, price)")
    next_page: Pick | None = None

    _picks = field_validator("entry", "link", "next_page", mode="before")(_pick)
    _lists = field_validator("follow", "key", mode="before")(_pick_list)


class Politeness(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    delay_s: float = Field(default=1.0, ge=0)
    concurrency: int = Field(default=2, ge=1, le=32)
    autothrottle: bool = True


class BrowserAction(BaseModel):
    """One step a browser takes on an ad or listing page after it loads: never typing, never a login."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    click: Pick | None = Field(default=None, description="click it when present (a 'show phone' button)")
    wait_for: Pick | None = Field(default=None, description="wait until it is present (at most the page timeout; "
                                                            "a page without it goes on)")
    scroll: int | None = Field(default=None, ge=1, le=50, description="scroll to the bottom this many times")
    wait_ms: int | None = Field(default=None, ge=0, le=10_000)

    _picks = field_validator("click", "wait_for", mode="before")(_pick)

    @model_validator(mode="after")
    def _one_action(self) -> "BrowserAction":
        given = [k for k in ("click", "wait_for", "scroll", "wait_ms") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"an action is exactly one of click, wait_for, scroll, wait_ms (given: "
                             f"{', '.join(given) or 'none'}); write one per list entry, e.g. "
                             "[{click: 'css:button.show-phone'}, {wait_for: 'css:.phone'}]")
        for key in ("click", "wait_for"):
            pick = getattr(self, key)
            if pick is not None and "::" in pick.query:
                raise ValueError(f"{key}: {pick.query!r} selects text or an attribute; a browser action needs an "
                                 "element, so drop the ::text / ::attr(...) part")
        return self


class BrowserActions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    listing: list[BrowserAction] = Field(default_factory=list, max_length=20, description="e.g. scroll to load more")
    detail: list[BrowserAction] = Field(default_factory=list, max_length=20, description="e.g. click 'show phone'")


class Browser(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    wait_for: str = Field(description="CSS selector present once client-side script has filled the page")
    error: Pick | None = Field(default=None, description="matches when the script could not load its data; "
                                                         "the page is then retried like a 5xx")
    timeout_s: float = Field(default=20.0, gt=0)
    actions: BrowserActions = Field(default_factory=BrowserActions,
                                    description="clicks, scrolls and waits after wait_for, in order, per page kind")

    _picks = field_validator("error", mode="before")(_pick)


class Defaults(BaseModel):
    """What the site itself says for every ad whose page does not: country, currency, time zone, locale."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    country: str | None = Field(default=None, description="ISO 3166 alpha-2, when the site serves one country")
    currency: str | None = Field(default=None, description="ISO 4217")
    timezone: str | None = Field(default=None, description="IANA name, e.g. America/Chicago")
    locale: str | None = Field(default=None, description="language and region of the pages, e.g. en_US, fr_FR")

    @field_validator("country", "currency")
    @classmethod
    def _iso_code(cls, value: str | None, info) -> str | None:
        from crawler.fields import country_code, currency_code, known_country, known_currency

        known, resolve, standard, examples = {
            "country": (known_country, country_code, "ISO 3166 alpha-2 country", "US, DE or FR"),
            "currency": (known_currency, currency_code, "ISO 4217 currency", "USD, EUR or GBP"),
        }[info.field_name]
        if value is None or known(value):
            return value
        code = resolve(value)
        hint = f"write {code}" if code else f"write a code such as {examples}"
        raise ValueError(f"{value!r} is not an {standard} code; {hint}")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone; write e.g. UTC, Europe/Paris or "
                             "America/Chicago") from exc
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        from crawler.fields import _known_locale

        if value is None or _known_locale(value):
            return value
        raise ValueError(f"{value!r} is not a locale babel knows; write a language and region such as en_US, "
                         "fr_FR or de")

    def where(self) -> "Locale":
        from crawler.fields import Locale

        return Locale(locale=self.locale, timezone=self.timezone, country=self.country, currency=self.currency)


class StructuredData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    mode: Literal["auto", "off"] = Field(default="auto", description="auto: fields the page declares fill what "
                                                                      "no rule gave; off: rules only")
    syntaxes: list[Literal["json-ld", "microdata", "rdfa", "opengraph"]] = Field(
        default_factory=lambda: ["json-ld", "microdata", "rdfa", "opengraph"])


class Removal(BaseModel):
    """What says an ad is gone, besides its page answering one of `statuses`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    statuses: list[int] = Field(default_factory=lambda: [404, 410])
    marker: Pick | None = Field(default=None, description="present on a page whose ad was removed")
    redirect: bool = Field(default=True, description="a known ad's page redirecting to the home page, a start URL "
                                                     "or a listing page")
    soft_404: bool = Field(default=True, description="a known ad no listing shows any more whose page answers "
                                                     "200 without the ad (no root, or neither title nor id)")

    _marker = field_validator("marker", mode="before")(_pick)


# Keys that moved, and what to write instead.
MOVED = {
    "country": "defaults: {country: US}",
    "currency": "defaults: {currency: USD}",
    "timezone": "defaults: {timezone: Europe/Paris}",
    "locale": "defaults: {locale: en_US}",
    "gone_statuses": "removal: {statuses: [404, 410]}",
}


class SiteDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    site: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    name: str = ""
    start_urls: list[str] = Field(min_length=1)
    allowed_domains: list[str] = Field(min_length=1)
    defaults: Defaults = Defaults()
    structured: StructuredData = StructuredData()
    render: Literal["http", "browser"] = "http"
    browser: Browser | None = None
    listing: Listing
    detail: Detail
    politeness: Politeness = Politeness()
    removal: Removal = Removal()

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, raw: object) -> object:
        if isinstance(raw, dict):
            for key, instead in MOVED.items():
                if key in raw:
                    raise ValueError(f"key {key}: has moved; write {instead}")
        return raw

    @field_validator("structured", mode="before")
    @classmethod
    def _structured_shorthand(cls, value: object) -> object:
        if isinstance(value, bool):  # YAML 1.1 reads a bare off / on as a boolean
            value = "auto" if value else "off"
        return {"mode": value} if isinstance(value, str) else value

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
        rules = self.detail.rules()
        if self.structured.mode == "off":
            for name in ("ad_id", "title", "body"):
                if name not in rules:
                    raise ValueError(f"detail.{name} is needed with structured: off (nothing else fills it); "
                                     f"write e.g. {name}: {EXAMPLES[name]}")
            using = [name for name, rule in rules.items() if rule.data]
            if using:
                raise ValueError(f"detail.{using[0]} reads data: but structured: off; drop structured: off, "
                                 "or read it with select:")
        return self

    @property
    def gone_statuses(self) -> list[int]:
        return list(self.removal.statuses)


EXAMPLES = {
    "ad_id": "{url: '/ad/(\\d+)'}",
    "title": "\"css:h1\"",
    "body": "\"css:div.description\"",
    "listing": "{entry: 'css:li.ad', link: 'css:a::attr(href)'}",
    "detail": "{title: 'css:h1', body: 'css:div.description'}",
    "entry": "\"css:li.ad\"",
    "link": "\"css:a::attr(href)\"",
    "start_urls": "[\"https://classifieds.example.org/\"]",
    "allowed_domains": "[\"classifieds.example.org\"]",
    "site": "the file's name without .yaml",
    "wait_for": "\"#app[data-state]\"",
}


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


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The definition model that the key at `loc` belongs to (to list what may be written there)."""
    import types
    import typing

    model: object = SiteDefinition
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        candidates = [annotation]
        while candidates:
            current = candidates.pop()
            if isinstance(current, type) and issubclass(current, BaseModel):
                model = current
                break
            if isinstance(current, types.UnionType) or typing.get_origin(current) in (typing.Union, list):
                candidates.extend(typing.get_args(current))
        else:
            return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


_NO_TYPING = {"fill", "type", "press", "login", "password", "submit", "evaluate", "goto", "captcha"}


def _problem(error: dict) -> str:
    """One validation error as the operator should read it: the key, the problem, what to write."""
    loc = tuple(p for p in error["loc"] if p not in ("function-after[_one_source()]",))
    where = _where(loc)
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    kind = error["type"]
    if kind == "extra_forbidden":
        import difflib

        key = str(loc[-1])
        model = _model_at(loc)
        allowed = [f.alias or n for n, f in model.model_fields.items()] if model else []
        close = difflib.get_close_matches(key, allowed, n=1)
        if model is BrowserAction and key in _NO_TYPING:
            return (f"key {where}: AdWatch never types into pages, submits forms or logs in; allowed actions: "
                    f"{', '.join(allowed)}")
        hint = f"did you mean {close[0]}? " if close else ""
        return f"key {where}: unknown key; {hint}allowed here: {', '.join(allowed)}"
    if kind == "missing":
        example = EXAMPLES.get(str(loc[-1]))
        return f"key {where}: missing; " + (f"write e.g. {loc[-1]}: {example}" if example else "add it")
    if where.endswith(("].select", "].listing")) or "function-" in where:
        where = where.split(".function-")[0]
    if not loc:  # a check of the whole definition: its message names its own keys
        return message
    key = str(loc[-1])
    hint = (f"write e.g. {key}: {EXAMPLES[key]}" if key in EXAMPLES
            else _TYPE_HINTS.get(kind.split("_")[0] if kind.endswith(("_type", "_parsing")) else kind))
    return f"key {where}: {message}" + (f"; {hint}" if hint and "write" not in message else "")


# What to write when a value has the wrong type (pydantic's error kinds).
_TYPE_HINTS = {
    "float": "write a number, e.g. 0.5", "int": "write a whole number, e.g. 2", "bool": "write true or false",
    "string": "write text in quotes, e.g. \"css:h1\"", "list": "write a list, e.g. [\"css:a::attr(href)\"]",
    "dict": "write a mapping, e.g. {key: value}", "model": "write a mapping of its keys, e.g. {key: value}",
    "model_type": "write a mapping of its keys, e.g. {key: value}", "literal_error": "write one of the values named",
    "greater_than_equal": "write a larger number", "less_than_equal": "write a smaller number",
    "greater_than": "write a larger number", "too_long": "write fewer entries", "too_short": "write at least one entry",
    "string_pattern_mismatch": "write lower-case letters, digits, - and _",
}


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
        problems = "; ".join(_problem(e) for e in exc.errors())
        raise SiteError(f"{path}: {problems}") from exc
    if definition.site != path.stem:
        raise SiteError(f"{path}: key site: is {definition.site!r} but the file is named {path.stem!r}; make them match.")
    return definition


def known_sites(sites_dir: Path = SITES_DIR) -> list[str]:
    return sorted(p.stem for p in sites_dir.glob("*.yaml"))
