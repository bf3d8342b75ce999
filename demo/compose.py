"""Compose one ad: text, contacts, images, edits, removal and faults, plus its ground-truth record.

`compose_ad` is pure apart from the per-poster and per-world state objects it is handed (which files a
poster already uploaded, how many oversized images exist), so the generator stays a short loop.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from demo import text as T
from demo.contacts import ad_contacts, rotates, show_phone, switchboard_for
from demo.family import Family
from demo.locales import local_price
from demo.phrasebook import Phrasebook, phrasebook
from demo.photos import ImageJob, plan_transforms
from demo.population import COUNTRIES, Place, Poster, Template, in_use, make_template

if TYPE_CHECKING:
    from demo.hubs import Hubs

DAY0 = dt.date(2026, 1, 1)
PAGE_FAULTS = ("truncated_html", "wrong_charset", "missing_fields", "server_error_first", "slow", "redirect_chain")
_PAGE_FAULT_RATE = {"truncated_html": 0.01, "wrong_charset": 0.01, "missing_fields": 0.01,
                    "server_error_first": 0.01, "slow": 0.01, "redirect_chain": 0.02}
_MISSABLE_FIELDS = ("price", "city", "title", "posted")
_MAX_OVERSIZED = 10
STOCK_VERSIONS = 3  # the stock photo exists as this many re-encodings (same picture, different bytes)


@dataclass
class Switches:
    """Generator realism switches; each one is recorded in world.json and its effects in the truth."""

    obfuscation: bool = True
    text_noise: bool = True
    image_variation: bool = True
    hard_negatives: bool = True
    faults: bool = True
    days: int = 60
    controller_share: float = 0.3


@dataclass
class WorldState:
    """What the generator remembers while it walks the ads in posting order."""

    seed: int
    switches: Switches
    stock_seed: int
    family: Family = field(default_factory=Family)
    bases: Callable[[], int] | None = None  # hands out fresh base photos (evasive controllers use a new one per ad)
    hubs: Hubs | None = None  # the extra hard negatives of family worlds
    footers: dict[str, dict] = field(default_factory=dict)  # site -> footer on every page (footer family)
    next_file: int = 0
    oversized: int = 0
    jobs: list[ImageJob] = field(default_factory=list)  # controllers' photos: rendered at the end, grouped by base
    ready: list[ImageJob] = field(default_factory=list)  # others' photos: each base used once, render any time
    stock_files: list[str] = field(default_factory=list)

    def new_file(self) -> str:
        self.next_file += 1
        return f"{self.next_file // 1000:04d}/{self.next_file:07d}.jpg"


@dataclass
class AdPlan:
    number: int
    ad_id: str
    flavour: str
    poster: Poster
    first_day: int


def day_date(day: int) -> str:
    """ISO date of a world day (day 0 = 2026-01-01)."""
    return (DAY0 + dt.timedelta(days=day)).isoformat()


def compose_ad(plan: AdPlan, state: WorldState) -> tuple[dict, dict]:
    """Return (ad record for ads.jsonl, truth record for truth.jsonl); appends image jobs to state.

    Family effects (demo.family) draw from the same per-ad stream, but only when their family is on, so a
    baseline world's ads are what they always were.
    """
    rnd = random.Random(f"{state.seed}:ad:{plan.number}")
    sw, family = state.switches, state.family
    poster = plan.poster
    controller = poster.kind == "controller"
    template = _template(plan, rnd, state)
    book = phrasebook(template.language)
    place = rnd.choice(poster.places)
    currency = COUNTRIES[place.country][0]
    low, high = (poster.price_range if not poster.evasion else None) or T.PRICE_RANGES[template.category]
    slots = {
        "name": rnd.choice(poster.names), "age": rnd.randint(19, 29), "price": rnd.randint(low, high),
        "city": place.city, "dest": rnd.choice(book.destinations), "currency": currency,
        "date": book.short_date(DAY0 + dt.timedelta(days=plan.first_day + rnd.randint(1, 10))),
        "job": rnd.choice(book.jobs), "item": rnd.choice(book.items), "service": rnd.choice(book.services),
    }
    if family.changes_ads:
        slots["price"] = local_price(slots["price"], currency)
    title = T.fill(template.title, slots)
    sentences = [T.fill(s, slots) for s in template.sentences]

    variations: list[str] = []
    if sw.text_noise and rnd.random() < 0.2:
        sentences = T.shuffle_sentences(sentences, rnd)
        variations.append("shuffle")
    boilerplate = rnd.choice(book.boilerplate) if sw.hard_negatives and rnd.random() < 0.12 else None
    if boilerplate:
        sentences.append(boilerplate)

    switchboard = switchboard_for(poster, template.category, place.country, rnd, state)
    own_phone = not (switchboard and rnd.random() < 0.3)  # some ads give only the agency's number
    contacts, contact_parts, body_contact, tail = ad_contacts(poster, place.country, plan.first_day, rnd, state, book,
                                                              own_phone)
    if switchboard:
        shown = show_phone(switchboard, place.country, poster, rnd)
        contact_parts.append(f"{rnd.choice(book.agency_labels)}: {shown}")
        contacts.append({"kind": "phone", "value": switchboard, "shown": shown, "tail": None, "obfuscation": None,
                         "where": "contact"})
    placeholder = None
    has_phone = bool(poster.phones) or rotates(poster)
    if sw.hard_negatives and (not has_phone and rnd.random() < 0.5 or rnd.random() < 0.03):
        placeholder = rnd.choice(book.placeholders)
        contact_parts.append(f"Tel: {placeholder}")

    body = " ".join(sentences)
    if sw.text_noise:
        for name, noise, rate in (("typos", T.add_typos, 0.25), ("emoji", T.add_emoji, 0.3), ("leetspeak", T.leetspeak, 0.1)):
            if rnd.random() < rate:
                body = noise(body, rnd)
                variations.append(name)
    if body_contact:
        body += " " + body_contact
    if tail:
        body += f" {book.rest_of_number}: {tail}"

    images, image_truth = _images(poster, plan.first_day, rnd, state)
    page_faults, missing = _page_faults(rnd, sw)
    removed_day, removed_status = _removal(plan.first_day, sw.days, rnd)
    edits, edit_truth = _edits(plan.first_day, removed_day, sw.days, slots["price"], body, rnd, book)
    shown_place = _shown_place(place, rnd, family)

    ad = {
        "ad_id": plan.ad_id, "flavour": plan.flavour, "category": template.category, "title": title, "body": body,
        "contact": " | ".join(contact_parts), "price": slots["price"], "currency": currency,
        "city": shown_place.city, "region": shown_place.region, "country": shown_place.country,
        "first_day": plan.first_day, "removed_day": removed_day, "removed_status": removed_status,
        "edits": edits, "images": images, "faults": page_faults, "missing_fields": missing,
        "image_faults": {i["file"]: i["fault"] for i in image_truth if i["fault"]},
    }
    truth = {
        "ad_id": plan.ad_id, "site": f"demo-{plan.flavour}", "flavour": plan.flavour,
        "poster_id": poster.poster_id, "poster_kind": poster.kind,
        "controller_id": poster.poster_id if controller else None,
        "phones": sorted({c["value"] for c in contacts if c["kind"] == "phone"}),
        "emails": sorted({c["value"] for c in contacts if c["kind"] == "email"}),
        "handles": sorted({c["value"] for c in contacts if c["kind"] == "handle"}),
        "contacts": contacts, "template_id": template.template_id, "category": template.category,
        "city": place.city, "country": place.country,
        "first_day": plan.first_day, "removed_day": removed_day, "removed_status": removed_status,
        "edits": edit_truth, "text_variations": variations, "images": image_truth,
        "hard_negatives": {"boilerplate": boilerplate, "placeholder_phone": placeholder,
                           "stock_photo": any(i["stock"] for i in image_truth)},
        "faults": page_faults, "missing_fields": missing,
    }
    if family.changes_ads:
        footer = state.footers.get(truth["site"])
        truth |= {
            "language": template.language,
            "evasion": dict(poster.evasion) if poster.evasion else None,
            "footer": {key: footer[key] for key in ("phone", "email", "handle")} if footer else None,
            "shown_location": {"city": bool(shown_place.city), "region": bool(shown_place.region),
                               "country": bool(shown_place.country)},
        }
        truth["hard_negatives"] |= {
            "switchboard": switchboard, "footer_phone": footer["phone"] if footer else None,
            "shared_template": template.template_id if template.template_id.startswith("site-") else None,
            "stock_bases": sorted({i["base_id"] for i in image_truth if i["stock"]}),
        }
    return ad, truth


def _template(plan: AdPlan, rnd: random.Random, state: WorldState) -> Template:
    """The template this ad is written from: the poster's own, fresh for an evasive one, or the site's."""
    poster = plan.poster
    if poster.evasion:  # never the same wording twice
        own = rnd.choice(poster.templates)
        return make_template(f"{poster.poster_id}-a{plan.number}", own.category, rnd, own.language)
    if poster.extra.get("site_template"):
        own = poster.templates[0]
        return state.hubs.site_template(own.language, own.category)
    return rnd.choice(in_use(poster, "templates", poster.templates, plan.first_day))


def _shown_place(place: Place, rnd: random.Random, family: Family) -> Place:
    """What the page says about where: everything, or (no-country) no country or region and sometimes no city."""
    if not family.on("no-country"):
        return place
    return Place("" if rnd.random() < family.no_city_share else place.city, "", "")


def _images(poster: Poster, day: int, rnd: random.Random, state: WorldState) -> tuple[list[str], list[dict]]:
    sw = state.switches
    if poster.kind == "controller":
        count = rnd.randint(1, 3)
    else:
        count = 0 if rnd.random() < 0.15 else rnd.randint(1, 2)
    files: list[str] = []
    truth: list[dict] = []
    for base in _bases(poster, count, day, rnd, state):
        file, record = _upload(base, poster, rnd, state)
        files.append(file)
        truth.append(record)
    if sw.hard_negatives and rnd.random() < 0.04:
        version = rnd.randrange(STOCK_VERSIONS)
        file = f"stock/stock-{version}.jpg"
        files.append(file)
        truth.append({"file": file, "base_id": "stock", "transforms": ["quality"] if version else [],
                      "params": {"quality": 95 - 20 * version}, "flipped": False, "stock": True,
                      "fault": None, "reused": True})
    if state.hubs and sw.hard_negatives and rnd.random() < 0.05:
        file, record = state.hubs.stock_image(rnd)
        if file not in files:
            files.append(file)
            truth.append(record)
    return files, truth


def _bases(poster: Poster, count: int, day: int, rnd: random.Random, state: WorldState) -> list[int]:
    """Which base photos this ad shows: some of the poster's; an evasive one's are fresh (but a kept photo)."""
    if poster.evasion:
        kept = poster.base_photos[:1] if poster.evasion["kept"] == "photo" else []
        return kept + [state.bases() for _ in range(count - len(kept))]
    bases = in_use(poster, "photos", poster.base_photos, day)
    return rnd.sample(bases, k=min(count, len(bases))) if bases else []


def _upload(base: int, poster: Poster, rnd: random.Random, state: WorldState) -> tuple[str, dict]:
    """The file this ad shows for a base photo: an earlier upload again, or a new (varied) file."""
    sw = state.switches
    uploaded: dict[int, list[str]] = poster.extra.setdefault("uploaded", {})
    earlier = uploaded.get(base, [])
    reuse = earlier and (poster.kind == "independent" or not sw.image_variation or rnd.random() < 0.3)
    if reuse:
        file = rnd.choice(earlier)
        return file, poster.extra["image_truth"][file] | {"reused": True}
    variant = bool(earlier)  # the first upload of a base photo is the original
    transforms = plan_transforms(rnd) if variant else {"quality": 90}
    fault = _image_fault(rnd, state)
    file = state.new_file()
    (state.jobs if poster.kind == "controller" else state.ready).append(ImageJob(file, base, transforms, fault))
    record = {"file": file, "base_id": f"b{base}", "transforms": sorted(transforms) if variant else [],
              "params": transforms, "flipped": bool(transforms.get("flip")), "stock": False,
              "fault": fault, "reused": False}
    uploaded.setdefault(base, []).append(file)
    poster.extra.setdefault("image_truth", {})[file] = record
    return file, record


def _image_fault(rnd: random.Random, state: WorldState) -> str | None:
    if not state.switches.faults:
        return None
    roll = rnd.random()
    if roll < 0.002 and state.oversized < _MAX_OVERSIZED:
        state.oversized += 1
        return "oversized"
    if roll < 0.007:
        return "corrupt"
    return None


def _page_faults(rnd: random.Random, sw: Switches) -> tuple[list[str], list[str]]:
    if not sw.faults:
        return [], []
    faults = [name for name in PAGE_FAULTS if rnd.random() < _PAGE_FAULT_RATE[name]]
    missing = [rnd.choice(_MISSABLE_FIELDS)] if "missing_fields" in faults else []
    return faults, missing


def _removal(first_day: int, days: int, rnd: random.Random) -> tuple[int | None, int | None]:
    if rnd.random() < 0.25:
        removed = first_day + rnd.randint(3, 30)
        if removed < days:
            return removed, 410 if rnd.random() < 0.5 else 404
    return None, None


def _edits(first_day: int, removed_day: int | None, days: int, price: int, body: str, rnd: random.Random,
           book: Phrasebook):
    """0-2 edits strictly after posting and before removal; each changes price and/or body."""
    last = (removed_day if removed_day is not None else days) - 1
    if last <= first_day or rnd.random() >= 0.2:
        return [], []
    edit_days = sorted(rnd.sample(range(first_day + 1, last + 1), k=min(rnd.randint(1, 2), last - first_day)))
    edits, truth = [], []
    for day in edit_days:
        changes: dict = {}
        if rnd.random() < 0.6:
            price = max(1, int(price * rnd.choice((0.8, 0.9, 1.1, 1.2))))
            changes["price"] = price
        if not changes or rnd.random() < 0.4:
            body = rnd.choice(book.edit_prefixes) + body
            changes["body"] = body
        edits.append({"day": day, "changes": changes})
        truth.append({"day": day, "fields": sorted(changes)})
    return edits, truth
