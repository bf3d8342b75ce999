"""What linking knows about one ad, read from its stored document.

Pure: an ad's `_source` (as enriched) in, an `AdFacts` out. The worker loads these from the index;
benchmarks build them from enriched documents without an index, so both link exactly the same facts.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

LINK_FIELDS = ["site", "city", "region", "country", "country_inferred", "language", "category", "first_seen",
               "last_seen", "identifiers", "contacts.normalised", "contacts.placeholder", "minhash_bands",
               "template_text", "images.phash", "images.dhash", "images.phash_flip", "images.dhash_flip",
               "images.low_detail", "cluster_id", "text_pairs", "enrich.status", "enrich.linked"]
"""The ad fields `facts_from_source` and the worker's write-back read."""


@dataclass(frozen=True, slots=True)  # millions of these at scale
class ImageKey:
    phash: str
    dhash: str
    phash_flip: str
    dhash_flip: str


@dataclass(frozen=True, slots=True)  # millions of these at scale
class AdFacts:
    """One ad as linking sees it: identities, text and photo signatures, and its context.

    The context (city, country, language, category) is what hub judgement compares: a controller's
    ads are coherent in it, a stock photo's or a site footer's ads look like any random ads.
    """

    doc_id: str
    first_seen: str
    identifiers: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = ()
    # LSH band keys as `text_codes` (int64 array): a million ads' 64 keys as Python strings, or as
    # Python ints, would take gigabytes.
    text_keys: Sequence[int] = ()
    template: str = ""
    images: tuple[ImageKey, ...] = ()
    site: str = ""
    city: str | None = None
    country: str | None = None
    language: str | None = None
    category: str | None = None
    last_seen: str = ""


_MASK64 = (1 << 64) - 1
_BAND_MIX = 0x9E3779B97F4A7C15  # golden-ratio odd constant: keeps band i's codes apart from band j's


def text_codes(keys: Sequence[str]) -> np.ndarray:
    """LSH band keys ('bNN:<16 hex>') as 64-bit codes, the same in every process and on every machine.

    The hex part already is a 64-bit hash of the band; mixing in the band number keeps equal
    values of different bands apart. Keys of another shape are hashed with blake2b.
    """
    out = np.empty(len(keys), dtype=np.int64)
    for i, key in enumerate(keys):
        band, _, digest = key.partition(":")
        try:
            value = int(digest, 16) ^ ((int(band[1:]) * _BAND_MIX) & _MASK64)
        except ValueError:
            value = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
        out[i] = value - (1 << 64) if value >= 1 << 63 else value
    return out


def _word(value: object) -> str | None:
    """A context value with its spaces tidied, interned (a million ads share a few hundred cities)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return sys.intern(" ".join(value.split()))


def facts_from_source(doc_id: str, src: Mapping) -> AdFacts:
    """AdFacts of an enriched ad document (its `_source`, at least `LINK_FIELDS`)."""
    images = [i for i in src.get("images") or [] if i.get("phash") and not i.get("low_detail")]
    contacts = src.get("contacts") or []
    return AdFacts(
        doc_id=doc_id, first_seen=src.get("first_seen", ""),
        identifiers=tuple(src.get("identifiers") or ()),
        placeholders=tuple(sorted({c["normalised"] for c in contacts if c.get("placeholder")})),
        text_keys=text_codes(src.get("minhash_bands") or []), template=src.get("template_text") or "",
        images=tuple(ImageKey(i["phash"], i["dhash"], i["phash_flip"], i["dhash_flip"]) for i in images),
        site=sys.intern(src.get("site") or ""), city=_word(src.get("city")),
        country=_word(src.get("country") or src.get("country_inferred")),
        language=_word(src.get("language")), category=_word(src.get("category")),
        last_seen=src.get("last_seen") or src.get("first_seen", ""),
    )


def stored_text_scores(doc_id: str, src: Mapping) -> list[tuple[str, str, float]]:
    """(ad, other ad, score) of the text comparisons an earlier run stored on this ad."""
    return [(doc_id, pair["ad"], float(pair["score"])) for pair in src.get("text_pairs") or []]
