"""One ad's enrichment: from the crawled document (and its image bytes) to the fields linking needs.

Pure: the worker reads the document and the image files, this turns them into fields, the
worker writes them back. Nothing here raises for bad input; problems become `errors` on the ad,
and the ad stays searchable with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from enrich.country import infer_country
from enrich.identifiers import extract_ad_contacts
from enrich.images import ImageError, ImageMemo, hash_band_keys
from enrich.language import detect_language
from enrich.normalise import normalise_text
from enrich.signatures import lsh_band_keys, text_signature
from enrich.slots import mask_slots

ENRICH_VERSION = "2"  # 2: language, inferred country (phones read with it), multilingual slots
TEXT_FIELDS = ("title", "body", "contact_text")
PROFILE_FIELDS = [*TEXT_FIELDS, "country", "country_source", "city", "region", "images"]
"""The crawled fields `profile_ad` reads (what the worker fetches for it)."""
# Images whose bytes could not be read are recorded with this reason.
MISSING_FILE = "missing-file"
# One per process: the photos a process has hashed, so reused ones are decoded once (enrich.images).
_PHOTOS = ImageMemo()


@dataclass
class Profile:
    """Fields to write on the ad (partial document) and the problems met on the way."""

    fields: dict
    errors: list[dict] = field(default_factory=list)


def profile_ad(doc: dict, image_bytes: dict[str, bytes | None]) -> Profile:
    """Enrichment fields for an ad document; `image_bytes` maps image path -> bytes (None: unreadable)."""
    errors: list[dict] = []
    texts = {name: doc.get(name) for name in TEXT_FIELDS}
    language = detect_language("\n".join(t for t in (texts["title"], texts["body"]) if isinstance(t, str) and t))
    guess = infer_country(doc, language.language if language else None)
    # The crawler's country is never overwritten; the inference only fills in when the page is silent.
    contacts = extract_ad_contacts(texts, guess.country)
    joined = "\n".join(t for t in texts.values() if isinstance(t, str) and t)
    norm = normalise_text(joined)
    for note in norm.notes:
        if note.startswith(("truncated", "invalid-utf8", "not-text")):
            errors.append({"stage": "text", "reason": note})
    places = [normalise_text(doc.get(k) or "").text for k in ("city", "region")]
    template = mask_slots(norm.text, known_places=[p for p in places if p])
    signature = text_signature(template)
    images = [_image_fields(img, image_bytes, errors) for img in doc.get("images", [])]
    # Placeholder phones stay searchable; linking treats them as hubs, never as evidence.
    identifiers = sorted({c.normalised for c in contacts if c.kind != "url"})
    fields = {
        "contacts": [{"kind": c.kind, "value": c.value[:500], "normalised": c.normalised, "field": c.field,
                      "start": c.span[0], "end": c.span[1], "placeholder": c.placeholder} for c in contacts],
        "identifiers": identifiers,
        "text_norm": norm.text,
        "template_text": template,
        "minhash_bands": [] if signature.empty else lsh_band_keys(signature),
        "images": images,
        "language": language.language if language else None,
        "country_inferred": guess.country if guess.how not in ("page", "site") else None,
        "country_how": guess.how,
    }
    return Profile(fields, errors)


def _image_fields(img: dict, image_bytes: dict[str, bytes | None], errors: list[dict]) -> dict:
    out = dict(img)
    if img.get("error") or not img.get("path"):
        return out  # the crawler already recorded why there are no bytes
    data = image_bytes.get(img["path"])
    if data is None:
        out["error"] = MISSING_FILE
        errors.append({"stage": "image", "reason": f"{MISSING_FILE}: {img['path']}"})
        return out
    hashes = _PHOTOS.hashes(data)
    if isinstance(hashes, ImageError):
        out["error"] = hashes.reason
        errors.append({"stage": "image", "reason": f"{hashes.reason}: {img['path']}"})
        return out
    out.update(phash=hashes.phash, dhash=hashes.dhash, phash_flip=hashes.phash_flip, dhash_flip=hashes.dhash_flip,
               width=hashes.width, height=hashes.height, low_detail=hashes.low_detail,
               hash_bands=[] if hashes.low_detail else hash_band_keys(hashes.phash))
    return out
