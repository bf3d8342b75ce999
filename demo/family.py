"""World families: named departures from the baseline world, combinable (`multilingual,evasive,no-country`).

The baseline world (no family) is byte-identical to the world this generator always made for a seed; each
family changes only what it names, and every change is recorded in the truth:

  multilingual  posters write in es, pt, fr, it, de, ro besides en (one or two languages each), in countries
                that speak them; phone idioms and number words in the ad's language; local phone layouts
  evasive       a share of controllers evade: one kept contact and everything else fresh per ad, or
                rotating phones with one kept handle or photo (see EVASIONS)
  partial       only a random share of the world's ads is written (a partial crawl); truth restricted to them.
                The world it samples drifts (unless drift=False): controllers switch phones, photos and
                wording over time, so their evidence is a chain of overlapping periods, not one star
  footer        a site-wide customer-service number (and email, handle) on every page of a site, outside the ad
  no-country    no country on the pages; numbers in national format; some ads without city or region

`evasive_sizes` plants one evasive controller per size (in any family, baseline included) so a test can ask
whether exactly those ads form one cluster.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

FAMILIES = ("baseline", "multilingual", "evasive", "partial", "footer", "no-country")
LANGUAGES = ("en", "es", "pt", "fr", "it", "de", "ro")
# How an evasive controller evades. one-*: everything fresh per ad (template, photos, names) but exactly one
# contact, shown on every ad. rotate-*: a fresh valid phone per ad (an earlier one reused now and then), fresh
# text, and one kept handle (on every ad) or one kept photo (a variant of one base photo on every ad).
EVASIONS = ("one-phone", "one-handle", "one-email", "rotate-keep-handle", "rotate-keep-photo")


@dataclass(frozen=True)
class Family:
    """Which families are on and their parameters; recorded in world.json under "family"."""

    names: tuple[str, ...] = ()  # in FAMILIES order; empty is the baseline world
    languages: tuple[str, ...] = LANGUAGES  # multilingual: the languages posters may write in
    evasive_share: float = 0.3  # evasive: share of controllers that evade
    evasive_kinds: tuple[str, ...] = EVASIONS  # evasive: kinds drawn from (planted controllers cycle through them)
    evasive_sizes: tuple[int, ...] = ()  # plant one evasive controller of each size
    partial_share: float = 0.1  # partial: share of ads kept
    drift: bool | None = None  # controllers' phones, photos, templates change over time; None: on with partial
    no_city_share: float = 0.15  # no-country: share of ads that show no city either
    extra_hard_negatives: bool = True  # any family: agency switchboards, more stock photos, site templates

    def __post_init__(self):
        unknown = [name for name in self.names if name not in FAMILIES]
        if unknown:
            raise ValueError(f"unknown world family {unknown[0]!r}; choose from {', '.join(FAMILIES)}")
        bad_langs = [code for code in self.languages if code not in LANGUAGES]
        if bad_langs or "en" not in self.languages:
            raise ValueError(f"languages must include en and come from {', '.join(LANGUAGES)}; got {self.languages}")
        bad_kinds = [kind for kind in self.evasive_kinds if kind not in EVASIONS]
        if bad_kinds or not self.evasive_kinds:
            raise ValueError(f"unknown evasion kind {bad_kinds[:1] or '(none)'}; choose from {', '.join(EVASIONS)}")
        for name, value in (("evasive_share", self.evasive_share), ("no_city_share", self.no_city_share)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if not 0.0 < self.partial_share <= 1.0:
            raise ValueError(f"partial_share must be above 0 and at most 1, got {self.partial_share}")
        if any(size < 2 for size in self.evasive_sizes):
            raise ValueError(f"evasive_sizes must be at least 2 ads each, got {list(self.evasive_sizes)}")

    def on(self, name: str) -> bool:
        return name in self.names

    @property
    def drifts(self) -> bool:
        return self.on("partial") if self.drift is None else self.drift

    @property
    def changes_ads(self) -> bool:
        """False for the baseline and for a plain (drift=False) partial sample of it (its lines are baseline lines)."""
        return any(name != "partial" for name in self.names) or bool(self.evasive_sizes) or self.drifts

    @property
    def extra_hubs(self) -> bool:
        """Agency switchboards, more stock photos and site templates: in every world whose ads a family changes."""
        return self.changes_ads and self.extra_hard_negatives

    def to_meta(self) -> dict:
        meta = asdict(self)
        meta["names"] = list(self.names) or ["baseline"]
        return meta


FAMILY_PARAMS = tuple(name for name in Family.__dataclass_fields__ if name != "names")


def parse_family(family: str | Iterable[str] | None) -> tuple[str, ...]:
    """'multilingual,evasive' or ['evasive', 'multilingual'] -> names in FAMILIES order ('baseline' drops out)."""
    if family is None:
        return ()
    parts = family.split(",") if isinstance(family, str) else list(family)
    names = {part.strip() for part in parts if part.strip()}
    unknown = sorted(names - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown world family {unknown[0]!r}; choose from {', '.join(FAMILIES)} (comma-separated)")
    return tuple(name for name in FAMILIES if name in names and name != "baseline")


def make_family(family: str | Iterable[str] | None, **params) -> Family:
    """A Family from a family spec and keyword parameters (lists become tuples)."""
    return Family(names=parse_family(family), **{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
