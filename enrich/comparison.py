"""Comparison: turn candidate pairs into scored evidence, or drop them.

Thresholds live in `LinkRules` (config, with measured defaults): an image pair is evidence when
its closest pair of photos is near in pHash AND in dHash (the second hash keeps two different
photos that collide in one hash apart), mirrored photos included; a text pair when RapidFuzz's
similarity (enrich.textsim's default scorer) on slot-masked text clears the bar and the texts are long enough to mean it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from enrich.blocking import AdFacts, ImageKey
from enrich.images import hamming
from enrich.textsim import text_similarity


@dataclass(frozen=True)
class LinkRules:
    image_phash_max: int = 10
    image_dhash_max: int = 14
    text_min: float = 0.92  # enrich.textsim's default scorer; lower lets boilerplate chain posters (README)
    text_min_words: int = 12
    # Keys held by more ads than this are not expanded into pairs (see blocking).
    max_key_ads: int = 200
    # Hubs: an identifier or photo shared by at least `hub_min_ads` ads that fall into at least
    # `hub_min_groups` otherwise-unrelated groups, and in at least `hub_group_share` x its ads groups
    # (a controller's own number spans a few fragments of its ads; a placeholder, one group per ad)
    # is dropped as evidence.
    hub_min_ads: int = 6
    hub_min_groups: int = 4
    hub_group_share: float = 0.5


def rules_from(config: dict) -> LinkRules:
    """LinkRules with the config file's `linking:` overrides; a bad key or value is a ConfigError naming it."""
    from adwatch.config import ConfigError

    known = {f.name: f.type for f in fields(LinkRules)}
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise ConfigError(f"linking: unknown threshold(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
    values = {}
    for name, value in config.items():
        cast = float if known[name] in ("float", float) else int
        try:
            values[name] = cast(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"linking.{name} must be a number ({cast.__name__}), got {value!r}.") from exc
        if values[name] < 0:
            raise ConfigError(f"linking.{name} must not be negative, got {value!r}.")
    return LinkRules(**values)


@dataclass(frozen=True, slots=True)  # millions of these at scale
class Evidence:
    a: str
    b: str
    kind: str  # identifier | text | image
    score: float
    detail: str
    photos: tuple[int, int] | None = None  # for image evidence: which photo of a matched which of b


def image_distance(x: ImageKey, y: ImageKey) -> tuple[int, int]:
    """(pHash, dHash) Hamming distances of two photos, the mirrored orientation taken when closer."""
    straight = (hamming(x.phash, y.phash), hamming(x.dhash, y.dhash))
    mirrored = (hamming(x.phash, y.phash_flip), hamming(x.dhash, y.dhash_flip))
    return min(straight, mirrored, key=lambda d: d[0] + d[1])


def compare_images(a: AdFacts, b: AdFacts, rules: LinkRules) -> Evidence | None:
    best: tuple[int, int] | None = None
    photos = (0, 0)
    for i, x in enumerate(a.images):
        for j, y in enumerate(b.images):
            d = image_distance(x, y)
            if d[0] <= rules.image_phash_max and d[1] <= rules.image_dhash_max and (best is None or sum(d) < sum(best)):
                best, photos = d, (i, j)
    if best is None:
        return None
    score = 1.0 - best[0] / 64
    return Evidence(a.doc_id, b.doc_id, "image", round(score, 3), f"photo pHash {best[0]} dHash {best[1]} bits apart",
                    photos)


def compare_texts(a: AdFacts, b: AdFacts, rules: LinkRules) -> Evidence | None:
    if min(len(a.template.split()), len(b.template.split())) < rules.text_min_words:
        return None
    score = text_similarity(a.template, b.template)
    if score < rules.text_min:
        return None
    return Evidence(a.doc_id, b.doc_id, "text", round(score, 3), text_detail(score))


def text_detail(score: float) -> str:
    return f"template text {score:.0%} alike"
