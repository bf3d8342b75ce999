"""Who posts: controllers (many ads each, heavy-tailed sizes) and independent posters, with their identifiers.

A `Poster` is the ground-truth entity. Controllers reuse a few phones across cities, handles, maybe an
email, 1-3 text templates and a few base photos. Independent posters are singletons or honest sellers
with a handful of ads.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import phonenumbers

from demo.family import Family
from demo.locales import EXTRA_COUNTRIES, Geography, multilingual_geography
from demo.numberwords import WORD_STYLES
from demo.phrasebook import phrasebook
from demo.text import CATEGORIES, OBFUSCATIONS, fix_choices

# country -> (currency, mobile number prefixes after the country code, national digits after the prefix)
COUNTRIES = {
    "US": ("USD", "+1", ("212", "305", "312", "415", "702", "713", "404", "617"), 7),
    "GB": ("GBP", "+44", ("7400", "7500", "7700", "7800", "7900"), 6),
    "DE": ("EUR", "+49", ("151", "160", "170", "176"), 8),
    "FR": ("EUR", "+33", ("6", "7"), 8),
    "ES": ("EUR", "+34", ("6",), 8),
    "IT": ("EUR", "+39", ("320", "333", "347"), 7),
    "NL": ("EUR", "+31", ("6",), 8),
    "PL": ("PLN", "+48", ("5", "6", "7"), 8),
    "RO": ("RON", "+40", ("72", "74", "75"), 7),
}
CITIES = {  # country -> [(city, region)]
    "US": [("New York", "NY"), ("Miami", "FL"), ("Chicago", "IL"), ("Houston", "TX"), ("Las Vegas", "NV"),
           ("Atlanta", "GA"), ("Los Angeles", "CA")],
    "GB": [("London", "England"), ("Manchester", "England"), ("Birmingham", "England"), ("Glasgow", "Scotland")],
    "DE": [("Berlin", "Berlin"), ("Hamburg", "Hamburg"), ("Munich", "Bavaria"), ("Frankfurt", "Hesse")],
    "FR": [("Paris", "Ile-de-France"), ("Lyon", "Auvergne-Rhone-Alpes"), ("Marseille", "Provence")],
    "ES": [("Madrid", "Madrid"), ("Barcelona", "Catalonia"), ("Valencia", "Valencia")],
    "IT": [("Rome", "Lazio"), ("Milan", "Lombardy")],
    "NL": [("Amsterdam", "North Holland"), ("Rotterdam", "South Holland")],
    "PL": [("Warsaw", "Masovia"), ("Krakow", "Lesser Poland")],
    "RO": [("Bucharest", "Bucharest"), ("Cluj-Napoca", "Cluj")],
}
_COUNTRY_WEIGHTS = {"US": 30, "GB": 14, "DE": 12, "FR": 9, "ES": 8, "IT": 7, "NL": 6, "PL": 7, "RO": 7}
COUNTRIES.update(EXTRA_COUNTRIES)  # family worlds only: baseline worlds never pick these countries
BASELINE_GEOGRAPHY = Geography(_COUNTRY_WEIGHTS, CITIES)
# Family worlds with number words in the ad's language add two ways of writing numbers out (demo.numberwords).
FAMILY_OBFUSCATIONS = tuple(dict.fromkeys(OBFUSCATIONS + WORD_STYLES))
_CONTROLLER_CATEGORIES = ("jobs", "wellness", "rentals", "services")
_HANDLE_KINDS = ("telegram", "whatsapp", "snapchat", "signal")
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")
_HANDLE_WORDS = ("sunny", "angel", "star", "rose", "agency", "work", "travel", "dream", "best", "vip", "lux",
                 "happy", "smile", "moon", "sky", "gold", "jobs", "team", "easy", "fast")


@dataclass
class Place:
    city: str
    region: str
    country: str


@dataclass
class Template:
    """A controller's (or poster's) text template: one sentence choice per section, plus a title form."""

    template_id: str
    category: str
    title: str
    sentences: list[str]
    language: str = "en"


@dataclass
class Poster:
    poster_id: str
    kind: str  # "controller" | "independent"
    n_ads: int
    country: str
    places: list[Place]
    phones: list[str]  # E.164
    emails: list[str]
    handles: list[str]  # "telegram:@name" style
    templates: list[Template]
    names: list[str]
    base_photos: list[int]  # base seeds
    active: tuple[int, int]  # first and last day this poster may post on
    price_range: tuple[int, int] | None = None
    obfuscation_rate: float = 0.1  # share of this poster's ads that disguise the phone number
    obfuscation_styles: tuple[str, ...] = OBFUSCATIONS  # controllers have habits: one to three styles
    languages: tuple[str, ...] = ("en",)  # one or two; each template is written in one of them
    evasion: dict | None = None  # evasive controllers: {kind, kept, value, planted} (see demo.family.EVASIONS)
    extra: dict = field(default_factory=dict)


def controller_sizes(budget: int, rnd: random.Random, alpha: float = 1.1) -> list[int]:
    """Heavy-tailed (discrete Pareto, x_min = 2) controller sizes summing to at most `budget`."""
    cap = max(5, budget // 3)
    sizes: list[int] = []
    remaining = budget
    while remaining >= 2:
        size = int(2 * (1.0 - rnd.random()) ** (-1.0 / alpha))
        size = max(2, min(size, cap, remaining))
        sizes.append(size)
        remaining -= size
    return sizes


def independent_sizes(n_ads: int, rnd: random.Random) -> list[int]:
    """Mostly singletons; honest sellers with 2-4 ads."""
    sizes: list[int] = []
    remaining = n_ads
    while remaining > 0:
        size = 1 if rnd.random() < 0.75 else rnd.randint(2, 4)
        size = min(size, remaining)
        sizes.append(size)
        remaining -= size
    return sizes


def random_phone(country: str, rnd: random.Random) -> str:
    """A valid mobile number (E.164) for the country; the phonenumbers library must accept it."""
    _, code, prefixes, digits = COUNTRIES[country]
    for _ in range(200):
        candidate = code + rnd.choice(prefixes) + "".join(str(rnd.randrange(10)) for _ in range(digits))
        if country == "US" and candidate[5] in "01":  # exchange codes start 2-9
            continue
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate
    raise RuntimeError(f"could not make a valid phone number for {country}; check COUNTRIES prefixes")


def pick_country(rnd: random.Random) -> str:
    return BASELINE_GEOGRAPHY.pick_country(rnd)


def make_template(template_id: str, category: str, rnd: random.Random, language: str = "en") -> Template:
    """One sentence per section with its wording choices fixed, plus a sentence of the poster's own."""
    book = phrasebook(language)
    sentences = [fix_choices(rnd.choice(options), rnd) for options in book.sentences[category]]
    personal = fix_choices(rnd.choice(book.personal), rnd)
    sentences.insert(rnd.randint(1, len(sentences)), personal + rnd.choice((".", "!", "!!", " :)")))
    return Template(template_id, category, rnd.choice(book.titles[category]), sentences, language)


def _handle(rnd: random.Random) -> str:
    kind = rnd.choice(_HANDLE_KINDS)
    name = rnd.choice(_HANDLE_WORDS) + rnd.choice(("_", "", ".")) + rnd.choice(_HANDLE_WORDS) + str(rnd.randint(1, 999))
    return f"{kind}:@{name}"


def _email(rnd: random.Random) -> str:
    return f"{rnd.choice(_HANDLE_WORDS)}.{rnd.choice(_HANDLE_WORDS)}{rnd.randint(10, 9999)}@{rnd.choice(_EMAIL_DOMAINS)}"


def _places(country: str, count: int, foreign_share: float, rnd: random.Random, geo: Geography) -> list[Place]:
    places: list[Place] = []
    for _ in range(count):
        where = geo.pick_country(rnd) if rnd.random() < foreign_share else country
        city, region = rnd.choice(geo.cities[where])
        place = Place(city, region, where)
        if place not in places:
            places.append(place)
    return places


def make_controller(number: int, size: int, days: int, next_base: "BaseCounter", rnd: random.Random,
                    geo: Geography = BASELINE_GEOGRAPHY) -> Poster:
    country = geo.pick_country(rnd)
    languages = geo.poster_languages(country, 0.35, rnd)
    poster_id = f"c{number:05d}"
    phones = [random_phone(country, rnd) for _ in range(rnd.randint(1, min(4, 1 + size // 10)))]
    if rnd.random() < 0.2:
        phones.append(random_phone(geo.pick_country(rnd), rnd))
    n_templates = max(rnd.randint(1, 3) if size >= 4 else 1, len(languages))
    categories = rnd.sample(_CONTROLLER_CATEGORIES, k=min(n_templates, rnd.randint(1, 2)))
    templates = [make_template(f"{poster_id}-t{i}", categories[i % len(categories)], rnd, languages[i % len(languages)])
                 for i in range(n_templates)]
    start = rnd.randrange(max(1, days - 7))
    span = rnd.randint(min(days - start, 7), days - start) if days - start > 1 else 1
    low = rnd.randint(*{"jobs": (300, 900), "wellness": (40, 120), "rentals": (250, 700), "services": (15, 60)}[categories[0]])
    return Poster(
        poster_id=poster_id, kind="controller", n_ads=size, country=country,
        places=_places(country, rnd.randint(2, min(10, 2 + size // 5)), 0.3, rnd, geo),
        phones=phones,
        emails=[_email(rnd)] if rnd.random() < 0.4 else [],
        handles=[_handle(rnd) for _ in range(rnd.randint(1, 2))],
        templates=templates,
        names=rnd.sample(phrasebook(languages[0]).names, k=rnd.randint(2, 6)),
        base_photos=[next_base() for _ in range(min(8, 1 + size // 15))],
        active=(start, start + span - 1),
        price_range=(low, int(low * 1.3)),
        obfuscation_rate=rnd.uniform(0.3, 0.9),
        obfuscation_styles=tuple(rnd.sample(OBFUSCATIONS, k=rnd.randint(1, 3))),
        languages=languages,
    )


def make_independent(number: int, size: int, days: int, next_base: "BaseCounter", rnd: random.Random,
                     geo: Geography = BASELINE_GEOGRAPHY) -> Poster:
    country = geo.pick_country(rnd)
    languages = geo.poster_languages(country, 0.08 if size > 1 else 0.0, rnd)
    poster_id = f"p{number:06d}"
    category = rnd.choice(CATEGORIES)
    has_phone = rnd.random() < 0.8
    return Poster(
        poster_id=poster_id, kind="independent", n_ads=size, country=country,
        places=_places(country, 1 if rnd.random() < 0.8 else 2, 0.0, rnd, geo),
        phones=[random_phone(country, rnd)] if has_phone else [],
        emails=[_email(rnd)] if rnd.random() < 0.3 else [],
        handles=[_handle(rnd)] if rnd.random() < 0.2 else [],
        templates=[make_template(f"{poster_id}-t{i}", category, rnd, language) for i, language in enumerate(languages)],
        names=[rnd.choice(phrasebook(languages[0]).names)],
        base_photos=[next_base() for _ in range(1 if rnd.random() < 0.8 else 2)],
        active=(0, days - 1),
        languages=languages,
    )


class BaseCounter:
    """Hands out base-photo seeds unique within a world and distinct across world seeds."""

    def __init__(self, world_seed: int):
        self._offset = (world_seed % 100_000) * 10_000_000
        self.count = 0

    def __call__(self) -> int:
        self.count += 1
        return self._offset + self.count

    @property
    def stock_seed(self) -> int:
        """The one stock photo that unrelated posters share (a hard negative)."""
        return self._offset + 9_999_999


def make_evasive(poster: Poster, kind: str, rnd: random.Random, planted: bool = False) -> None:
    """Turn a controller evasive (demo.family.EVASIONS): keep one contact or photo; the rest is fresh per ad."""
    kept = kind.rsplit("-", 1)[-1]  # phone | handle | email | photo
    if kept == "phone":
        value = poster.phones[0]
    elif kept == "handle":
        value = poster.handles[0] if poster.handles else _handle(rnd)
    elif kept == "email":
        value = poster.emails[0] if poster.emails else _email(rnd)
    else:
        value = f"b{poster.base_photos[0]}"
        poster.base_photos = poster.base_photos[:1]
    poster.phones = [value] if kept == "phone" else []
    poster.handles = [value] if kept == "handle" else []
    poster.emails = [value] if kept == "email" else []
    poster.names = list(phrasebook(poster.languages[0]).names)  # a different name in every ad
    poster.evasion = {"kind": kind, "kept": kept, "value": value, "planted": planted}


def make_drifting(poster: Poster, next_base: "BaseCounter", rnd: random.Random) -> None:
    """Give a controller the turnover of a real one: a new phone, photo set, handle or wording every week or
    few, each used in its own period of the controller's active span, periods overlapping a little.

    Over the whole world the ads stay connected through the overlaps (a chain); a partial crawl that misses
    the overlaps sees several groups, as it would on a real site.
    """
    start, end = poster.active
    span, size = end - start + 1, poster.n_ads
    for _ in range(min(8, 1 + span // 10, 1 + size // 8) - len(poster.phones)):
        poster.phones.append(random_phone(poster.country, rnd))
    for _ in range(min(12, 1 + span // 4, 1 + size // 4) - len(poster.base_photos)):  # new photos every few ads
        poster.base_photos.append(next_base())
    for _ in range(min(3, 1 + span // 25, 1 + size // 20) - len(poster.handles)):
        poster.handles.append(_handle(rnd))
    for i in range(min(6, 1 + span // 10, 1 + size // 8) - len(poster.templates)):  # and a rewrite now and then
        like = poster.templates[i % len(poster.templates)]
        poster.templates.append(make_template(f"{poster.poster_id}-t{len(poster.templates)}", like.category, rnd,
                                              like.language))
    poster.extra["windows"] = {kind: _periods(len(items), start, end)
                               for kind, items in (("phones", poster.phones), ("photos", poster.base_photos),
                                                   ("handles", poster.handles), ("templates", poster.templates))}


def _periods(count: int, start: int, end: int, overlap: float = 0.3) -> list[tuple[float, float]]:
    """`count` consecutive periods covering [start, end], each reaching `overlap` of its length into its neighbours."""
    length = (end - start + 1) / count
    return [(start + (i - overlap) * length, start + (i + 1 + overlap) * length) for i in range(count)]


def in_use(poster: Poster, kind: str, items: list, day: int) -> list:
    """The items (phones, photos, handles, templates) a poster uses on `day`: all of them unless it drifts."""
    periods = poster.extra.get("windows", {}).get(kind)
    if periods is None:
        return items
    return [item for item, (first, last) in zip(items, periods) if first <= day < last] or items


def apply_family(posters: list[Poster], family: Family, seed: int, next_base: "BaseCounter") -> None:
    """Family traits of posters, from a random stream of their own (a family changes only what it names)."""
    rnd = random.Random(f"{seed}:family-traits")
    local_numbers = family.on("multilingual") or family.on("no-country")
    for poster in posters:
        if local_numbers:
            poster.extra["habit"] = rnd.randrange(8)  # which local layout this poster types numbers in
            poster.extra["national_abroad"] = family.on("no-country") and rnd.random() < 0.2
        if family.on("multilingual"):
            poster.obfuscation_styles = (tuple(rnd.sample(FAMILY_OBFUSCATIONS, k=rnd.randint(1, 3)))
                                         if poster.kind == "controller" else FAMILY_OBFUSCATIONS)
        if (family.on("evasive") and poster.kind == "controller" and poster.evasion is None
                and rnd.random() < family.evasive_share):
            make_evasive(poster, rnd.choice(family.evasive_kinds), rnd)
        if family.extra_hubs and poster.kind == "independent" and rnd.random() < 0.03:
            poster.extra["site_template"] = True  # writes the site's suggested template (a hard negative)
        if family.drifts and poster.kind == "controller" and poster.evasion is None:
            make_drifting(poster, next_base, rnd)


def geography(family: Family) -> Geography:
    return multilingual_geography(family.languages) if family.on("multilingual") else BASELINE_GEOGRAPHY
