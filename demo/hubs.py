"""Hard negatives family worlds add to the baseline ones (placeholder phones, one stock photo, boilerplate).

  switchboards    an agency's number that unrelated posters all print next to (or instead of) their own
  stock photos    a few more stock pictures, each in re-encoded versions, used by anyone
  site templates  the wording a site suggests, copied by some unrelated independent posters
  footer          a site's customer-service number, email and handle on every page, outside the ad

Each is marked in the truth (`hard_negatives`, `footer`), so an evaluation can check that no cluster is
held together by one of them alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import phonenumbers
from phonenumbers import PhoneNumberFormat

from demo.locales import Geography, local_display
from demo.phrasebook import phrasebook
from demo.photos import ImageJob
from demo.population import Template, make_template, random_phone

STOCK_EXTRA = 4  # extra stock pictures
STOCK_EXTRA_VERSIONS = 3
_SITE_DOMAINS = {"demo-html": "demoads.example", "demo-js": "demojs.example"}


@dataclass
class Hubs:
    seed: int
    switchboards: list[str]  # E.164
    stock_seeds: list[int]
    site_templates: dict[tuple[str, str], Template] = field(default_factory=dict)

    def switchboard(self, country: str, rnd: random.Random) -> str:
        """An agency number, preferably one of the ad's country."""
        local = [number for number in self.switchboards if _country_of(number) == country]
        return rnd.choice(local or self.switchboards)

    def site_template(self, language: str, category: str) -> Template:
        """The template the site suggests for a category, the same for every poster who copies it."""
        key = (language, category)
        if key not in self.site_templates:
            rnd = random.Random(f"{self.seed}:site-template:{language}:{category}")
            self.site_templates[key] = make_template(f"site-{language}-{category}", category, rnd, language)
        return self.site_templates[key]

    def stock_image(self, rnd: random.Random) -> tuple[str, dict]:
        """One of the extra stock photos in one of its versions: (file, truth record)."""
        k, version = rnd.randrange(len(self.stock_seeds)), rnd.randrange(STOCK_EXTRA_VERSIONS)
        file = stock_file(k, version)
        return file, {"file": file, "base_id": f"stock-{k + 1}", "transforms": ["quality"] if version else [],
                      "params": {"quality": 95 - 20 * version}, "flipped": False, "stock": True, "fault": None,
                      "reused": True}

    def image_jobs(self) -> list[ImageJob]:
        return [ImageJob(stock_file(k, v), seed, {"quality": 95 - 20 * v})
                for k, seed in enumerate(self.stock_seeds) for v in range(STOCK_EXTRA_VERSIONS)]

    def to_meta(self) -> dict:
        return {"switchboards": self.switchboards, "stock_photos": [f"stock-{k + 1}" for k in range(len(self.stock_seeds))]}


def stock_file(k: int, version: int) -> str:
    return f"stock/extra-{k + 1}-{version}.jpg"


def _country_of(e164: str) -> str | None:
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164))


def make_hubs(seed: int, n_ads: int, geo: Geography, stock_seed: int) -> Hubs:
    rnd = random.Random(f"{seed}:hubs")
    switchboards = [random_phone(geo.pick_country(rnd), rnd) for _ in range(3 + n_ads // 3000)]
    return Hubs(seed, switchboards, [stock_seed - 1 - k for k in range(STOCK_EXTRA)])


def make_footers(seed: int, geo: Geography, national: bool) -> dict[str, dict]:
    """Per site: the customer-service number (and email, handle) printed in the footer of every page."""
    rnd = random.Random(f"{seed}:footer")
    footers = {}
    for site, domain in _SITE_DOMAINS.items():
        country = geo.pick_country(rnd)
        language = geo.poster_languages(country, 0.0, rnd)[0]
        phone = random_phone(country, rnd)
        shown = (local_display(phone, country, 0, False) if national
                 else phonenumbers.format_number(phonenumbers.parse(phone), PhoneNumberFormat.INTERNATIONAL))
        email = f"{rnd.choice(('help', 'support', 'contact', 'info'))}@{domain}"
        handle = f"whatsapp:@{domain.split('.')[0]}_help" if rnd.random() < 0.5 else None
        label = phrasebook(language).footer_label
        parts = [f"{label}: {shown}", email] + ([f"WhatsApp: {handle.split(':', 1)[1]}"] if handle else [])
        footers[site] = {"phone": phone, "shown": shown, "email": email, "handle": handle, "label": label,
                         "country": country, "language": language, "text": " · ".join(parts)}
    return footers
