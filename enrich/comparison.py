"""Comparison: score candidate pairs; the scores form a table that later stages cut.

Text pairs are scored with RapidFuzz (enrich.textsim's default scorer, the mean of token_sort and
token_set ratios) on slot-masked text, all at once in C++ (`rapidfuzz.process.cpdist`). Every
candidate pair that scores at least `TEXT_SCORE_FLOOR` is kept in the score table, whatever the
current threshold, so a threshold change re-cuts clusters without comparing again (the worker
stores the table on the ads). Photos are compared in enrich.photos (popcounts over every
candidate at once) against `LinkRules`' distances.

Thresholds live in `LinkRules` (the config file's `linking:` section, with measured defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from enrich.arrays import distinct
from enrich.facts import AdFacts, ImageKey
from enrich.images import hamming

TEXT_SCORE_FLOOR = 0.75
"""Text scores below this are not stored: no threshold worth trying is that low (README)."""


@dataclass(frozen=True)
class LinkRules:
    image_phash_max: int = 10
    image_dhash_max: int = 14
    text_min: float = 0.92  # enrich.textsim's default scorer; lower lets boilerplate chain posters (README)
    text_min_words: int = 12
    # Keys held by more ads than this are not expanded into pairs; each ad keeps its closest
    # candidates (most band keys shared) up to this many (see blocking).
    max_key_ads: int = 200
    text_candidates_per_ad: int = 15
    # Hubs (enrich.hubs): a key shared by at least `hub_min_ads` ads is a hub when its ads look like
    # any random ads of the index (generality >= hub_generality), or when they carry at least
    # `hub_min_conflicts` distinct established identities, or `hub_identity_share` distinct
    # identities per ad, and are not clearly coherent (generality >= hub_generality_low; template
    # keys need no incoherence for the second).
    hub_min_ads: int = 4
    hub_generality: float = 0.6
    hub_generality_low: float = 0.3
    hub_min_conflicts: int = 4
    hub_identity_share: float = 0.5
    # Bridges (enrich.bridges): a key that alone joins two parts of at least `bridge_min_ads` ads,
    # each with identities of its own, is refused unless it covers `bridge_cover` of both parts.
    bridge_min_ads: int = 3
    bridge_cover: float = 0.5


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
    if values.get("text_min", TEXT_SCORE_FLOOR) < TEXT_SCORE_FLOOR:
        raise ConfigError(f"linking.text_min must be at least {TEXT_SCORE_FLOOR} (scores below it are not "
                          f"stored), got {values['text_min']!r}.")
    return LinkRules(**values)


@dataclass(frozen=True)
class TextScores:
    """Scored text pairs (ad indices, first < second) at or above TEXT_SCORE_FLOOR: the score table."""

    first: np.ndarray
    second: np.ndarray
    score: np.ndarray  # float32 in [0, 1]

    @classmethod
    def empty(cls) -> "TextScores":
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))

    def __len__(self) -> int:
        return len(self.first)

    def cut(self, threshold: float) -> "TextScores":
        keep = self.score >= threshold
        return TextScores(self.first[keep], self.second[keep], self.score[keep])

    @classmethod
    def concat(cls, parts: list["TextScores"]) -> "TextScores":
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(np.concatenate([p.first for p in parts]), np.concatenate([p.second for p in parts]),
                   np.concatenate([p.score for p in parts]))


def score_text_pairs(ads: list[AdFacts], first: np.ndarray, second: np.ndarray, min_words: int,
                     chunk: int = 500_000) -> TextScores:
    """Score candidate pairs (ad indices); keep those at or above the floor (`score_templates`)."""
    return score_templates([ad.template for ad in ads], first, second, min_words, chunk)


def score_templates(templates: list[str], first: np.ndarray, second: np.ndarray, min_words: int,
                    chunk: int = 500_000, threads: int = -1) -> TextScores:
    """Score candidate pairs (indices into `templates`); keep those at or above the floor. Texts
    shorter than `min_words` words never link, so their pairs are dropped before scoring.
    `threads`: RapidFuzz's worker threads (-1: every core; 1 inside an engine's worker process).

    token_sort_ratio is RapidFuzz's ratio of the texts with their words sorted: the words of each
    ad that takes part are sorted once, not once per pair (5x cheaper). Same scores as
    enrich.textsim's default scorer."""
    from rapidfuzz import fuzz, process

    words = np.fromiter((len(t.split()) for t in templates), dtype=np.int64, count=len(templates))
    long_enough = (words[first] >= min_words) & (words[second] >= min_words)
    first, second = first[long_enough], second[long_enough]
    sorted_words = {i: " ".join(sorted(templates[i].split())) for i in distinct(np.r_[first, second]).tolist()}
    kept: list[TextScores] = []
    for lo in range(0, len(first), chunk):
        a, b = first[lo:lo + chunk].tolist(), second[lo:lo + chunk].tolist()
        left = [templates[i] for i in a]
        right = [templates[j] for j in b]
        sort = process.cpdist([sorted_words[i] for i in a], [sorted_words[j] for j in b], scorer=fuzz.ratio,
                              workers=threads, dtype=np.float32)
        subset = process.cpdist(left, right, scorer=fuzz.token_set_ratio, workers=threads, dtype=np.float32)
        a, b = first[lo:lo + chunk], second[lo:lo + chunk]
        score = (sort + subset) / 200.0
        keep = score >= TEXT_SCORE_FLOOR
        kept.append(TextScores(a[keep], b[keep], score[keep].astype(np.float32)))
    return TextScores.concat(kept)


def image_distance(x: ImageKey, y: ImageKey) -> tuple[int, int]:
    """(pHash, dHash) Hamming distances of two photos, the mirrored orientation taken when closer."""
    straight = (hamming(x.phash, y.phash), hamming(x.dhash, y.dhash))
    mirrored = (hamming(x.phash, y.phash_flip), hamming(x.dhash, y.dhash_flip))
    return min(straight, mirrored, key=lambda d: d[0] + d[1])


def text_detail(score: float) -> str:
    return f"template text {score:.0%} alike"
