"""Blocking: which ads are worth comparing, without comparing all pairs.

Three cheap sources of candidates, each an inverted index from key to ads:
- identifiers: ads sharing a normalised phone / email / handle form a group (no pairs needed);
- text: ads sharing a MinHash-LSH band key;
- images: ads whose perceptual hashes share a multi-index chunk (query side flips one bit per
  chunk and also looks up the mirrored image), so near hashes meet without a distance scan.
Keys held by more than `max_key_ads` ads say little and would explode into pairs; they are
skipped for pair generation and counted, so the cost is visible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from enrich.images import hash_query_keys


@dataclass(frozen=True)
class ImageKey:
    phash: str
    dhash: str
    phash_flip: str
    dhash_flip: str


@dataclass(frozen=True)
class AdFacts:
    """What linking knows about one ad, as loaded from the index."""

    doc_id: str
    first_seen: str
    identifiers: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = ()
    text_keys: tuple[str, ...] = ()
    template: str = ""
    images: tuple[ImageKey, ...] = ()
    image_keys: tuple[str, ...] = ()  # stored multi-index keys of each image's pHash


@dataclass
class Candidates:
    identifier_groups: dict[str, list[str]]
    text_pairs: set[tuple[str, str]]
    image_pairs: set[tuple[str, str]]
    skipped_keys: dict[str, int] = field(default_factory=dict)  # kind -> keys too common to pair


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _pairs_from_index(index: dict[str, list[str]], focus: set[str] | None, max_key_ads: int,
                      skipped: dict[str, int], kind: str) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for members in index.values():
        if len(members) < 2:
            continue
        if len(members) > max_key_ads:
            skipped[kind] = skipped.get(kind, 0) + 1
            continue
        if focus is None:
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    pairs.add(_pair(a, b))
        else:
            for a in members:
                if a in focus:
                    pairs.update(_pair(a, b) for b in members if b != a)
    return pairs


def candidates(ads: Iterable[AdFacts], focus: set[str] | None = None, max_key_ads: int = 200) -> Candidates:
    """Candidate evidence among `ads`; with `focus`, only pairs that touch a focus ad (incremental runs)."""
    by_identifier: dict[str, list[str]] = defaultdict(list)
    by_text: dict[str, list[str]] = defaultdict(list)
    by_image: dict[str, list[str]] = defaultdict(list)
    ad_list = list(ads)
    for ad in ad_list:
        for ident in ad.identifiers:
            by_identifier[ident].append(ad.doc_id)
        for key in ad.text_keys:
            by_text[key].append(ad.doc_id)
        for key in set(ad.image_keys):
            by_image[key].append(ad.doc_id)
    skipped: dict[str, int] = {}
    text_pairs = _pairs_from_index(by_text, focus, max_key_ads, skipped, "text")
    image_pairs = _image_pairs(ad_list, by_image, focus, max_key_ads, skipped)
    groups = {k: v for k, v in by_identifier.items() if len(v) >= 2}
    return Candidates(groups, text_pairs, image_pairs, skipped)


def _image_pairs(ads: list[AdFacts], by_image: dict[str, list[str]], focus: set[str] | None,
                 max_key_ads: int, skipped: dict[str, int]) -> set[tuple[str, str]]:
    # The query side reaches one bit further per chunk and also asks for the mirrored image.
    pairs: set[tuple[str, str]] = set()
    common = {k for k, v in by_image.items() if len(v) > max_key_ads}
    if common:
        skipped["image"] = len(common)
    for ad in ads:
        if focus is not None and ad.doc_id not in focus:
            continue
        for image in ad.images:
            for probe in (image.phash, image.phash_flip):
                for key in hash_query_keys(probe):
                    if key in common:
                        continue
                    for other in by_image.get(key, ()):
                        if other != ad.doc_id:
                            pairs.add(_pair(ad.doc_id, other))
    return pairs
