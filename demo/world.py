"""The world on disk: file names, format version, and loading with errors a person can act on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FORMAT_VERSION = 1
WORLD_FILE, ADS_FILE, TRUTH_FILE, IMAGES_DIR = "world.json", "ads.jsonl", "truth.jsonl", "images"


class WorldError(Exception):
    """A world directory is missing, incomplete or corrupt; the message names the path and the fix."""


@dataclass(slots=True)
class AdRecord:
    """One line of ads.jsonl: everything the server needs to render an ad on any day."""

    ad_id: str
    flavour: str  # "html" | "js"
    category: str
    title: str
    body: str
    contact: str
    price: int
    currency: str
    city: str
    region: str
    country: str  # ISO 3166 alpha-2
    first_day: int
    removed_day: int | None
    removed_status: int | None  # 404 | 410 once removed
    edits: list[dict]  # [{day, changes: {price?, body?}}], in day order
    images: list[str]  # file names under images/
    faults: list[str]  # page faults, see demo.compose.PAGE_FAULTS
    missing_fields: list[str]
    image_faults: dict[str, str]  # file -> "corrupt" | "oversized"


@dataclass
class World:
    path: Path
    meta: dict
    ads: list[AdRecord]

    @property
    def days(self) -> int:
        return int(self.meta["days"])

    @property
    def images_dir(self) -> Path:
        return self.path / IMAGES_DIR


def _fix(path: Path) -> str:
    return f"create it with: adwatch demo generate --ads 1000 --seed 1 --out {path}"


def read_meta(path: str | Path) -> dict:
    """Read and check world.json; raises WorldError naming the path."""
    root = Path(path)
    if not root.is_dir():
        raise WorldError(f"world directory {root} does not exist; {_fix(root)}")
    meta_path = root / WORLD_FILE
    if not meta_path.is_file():
        raise WorldError(f"{meta_path} is missing, so {root} is not a finished demo world; {_fix(root)}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WorldError(f"{meta_path} is not valid JSON ({err}); regenerate the world: {_fix(root)}") from err
    if not isinstance(meta, dict) or meta.get("version") != FORMAT_VERSION or not meta.get("complete"):
        raise WorldError(f"{meta_path} is not a complete version-{FORMAT_VERSION} world; {_fix(root)}")
    return meta


def load_world(path: str | Path) -> World:
    """Load world.json and ads.jsonl (the truth is not needed to serve); raises WorldError naming the path."""
    root = Path(path)
    meta = read_meta(root)
    ads_path = root / ADS_FILE
    ads = [AdRecord(**record) for record in _records(ads_path, root)]
    if len(ads) != meta.get("n_ads"):
        raise WorldError(f"{ads_path} has {len(ads)} ads but {root / WORLD_FILE} says {meta.get('n_ads')}; {_fix(root)}")
    return World(root, meta, ads)


def read_ads(path: str | Path) -> dict[str, dict]:
    """The raw ads.jsonl records of a world (JSON objects, as on disk) keyed by ad_id, in ad order."""
    root = Path(path)
    read_meta(root)
    return {record["ad_id"]: record for record in _records(root / ADS_FILE, root)}


def _records(ads_path: Path, root: Path):
    """Parsed lines of ads.jsonl; a bad line is a WorldError naming the file and line."""
    if not ads_path.is_file():
        raise WorldError(f"{ads_path} is missing; {_fix(root)}")
    with ads_path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise WorldError(f"{ads_path} line {number} is not valid JSON ({err}); {_fix(root)}") from err
            if not isinstance(record, dict) or set(record) != _AD_FIELDS:
                raise WorldError(f"{ads_path} line {number} does not have the ad fields of format version "
                                 f"{FORMAT_VERSION}; {_fix(root)}")
            yield record


_AD_FIELDS = set(AdRecord.__dataclass_fields__)


# Keys family worlds add to every truth record, with what they mean in a baseline world (whose truth.jsonl
# stays byte-identical to what it always was, so it does not carry them; nor does a plain partial sample of it).
FAMILY_TRUTH_DEFAULTS = {
    "language": "en", "evasion": None, "footer": None,
    "shown_location": {"city": True, "region": True, "country": True},
}
FAMILY_HARD_NEGATIVE_DEFAULTS = {"switchboard": None, "footer_phone": None, "shared_template": None, "stock_bases": None}


def read_truth(path: str | Path) -> list[dict]:
    """All truth records of a world, in ad order; records of baseline worlds get the family keys' defaults."""
    truth_path = Path(path) / TRUTH_FILE
    if not truth_path.is_file():
        raise WorldError(f"{truth_path} is missing; {_fix(Path(path))}")
    with truth_path.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    for record in records:
        for key, value in FAMILY_TRUTH_DEFAULTS.items():
            record.setdefault(key, dict(value) if isinstance(value, dict) else value)
        negatives = record["hard_negatives"]
        for key, value in FAMILY_HARD_NEGATIVE_DEFAULTS.items():
            negatives.setdefault(key, value)
        if negatives["stock_bases"] is None:
            negatives["stock_bases"] = sorted({i["base_id"] for i in record["images"] if i["stock"]})
    return records


def evidence_keys(record: dict) -> set[str]:
    """What a truth record says this ad shares with others of its poster: the poster's own contacts
    ("phone:+E164", "email:...", "handle:..."), base photos ("photo:b123") and text template ("template:id").

    Hard negatives are left out: placeholder phones (never in `phones`), agency switchboards, stock photos,
    the site footer and site-suggested templates. Two ads of one poster "share evidence" when their keys meet.
    """
    negatives = record["hard_negatives"]
    keys = {f"phone:{p}" for p in record["phones"] if p != negatives.get("switchboard")}
    keys |= {f"email:{e}" for e in record["emails"]} | {f"handle:{h}" for h in record["handles"]}
    keys |= {f"photo:{i['base_id']}" for i in record["images"] if not i["stock"] and not i["fault"]}
    if not negatives.get("shared_template"):
        keys.add(f"template:{record['template_id']}")
    return keys


def day_changes(truth: list[dict], day: int) -> dict[str, set[str]]:
    """What a crawler should see change on `day` versus day - 1: ad ids that are new, edited, removed."""
    changes: dict[str, set[str]] = {"new": set(), "edited": set(), "removed": set()}
    for record in truth:
        if record["first_day"] == day:
            changes["new"].add(record["ad_id"])
        if record["removed_day"] == day:
            changes["removed"].add(record["ad_id"])
        elif any(edit["day"] == day for edit in record["edits"]):
            changes["edited"].add(record["ad_id"])
    return changes
