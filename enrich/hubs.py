"""Hub judgement: a key shared by many ads is not evidence when those ads *conflict*.

A placeholder phone, a stock photo, a site's customer-service number or an agency switchboard
would chain thousands of unrelated ads into one component. What gives them away is conflicting
evidence, never the mere absence of other links (an evasive controller that varies its text and
photos but keeps one number looks exactly like "no other links", and must be linked):

- placeholder: a dummy identity ("000-000-0000", written as a phone or a handle);
- general: the key's ads are as varied in city, country, language and category as a random
  sample of the same size drawn from every ad (a controller's ads are far more coherent: a few
  cities, one or two categories, its own languages). `generality` is the mean, over the
  dimensions that vary at all among ads, of (distinct values - 1) / (expected distinct - 1);
- conflicting: the key's ads carry many different established identities (other phones, emails,
  handles that are themselves shared by several ads) and are not clearly coherent in context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from enrich.comparison import LinkRules
from enrich.facts import AdFacts
from enrich.scoring import Key, Memberships

CONTEXT = ("city", "country", "language", "category")
"""The ad facts hub judgement compares (see enrich.facts.AdFacts)."""


@dataclass(frozen=True)
class Hub:
    key: str
    ads: int
    reason: str  # placeholder | general | conflicting
    generality: float | None = None
    conflicts: int = 0

    def explain(self) -> str:
        if self.reason == "placeholder":
            why = "a placeholder, not anyone's contact"
        elif self.reason == "general":
            why = (f"its ads are as varied as any {self.ads} ads (cities, countries, languages, categories; "
                   f"generality {self.generality:.2f})")
        else:
            why = f"its ads carry {self.conflicts} different identities shared elsewhere"
        return f"hub {self.key} on {self.ads} ads: {why}; not used"


class Context:
    """The ads' context as integer codes per dimension (-1: unknown) and how often each value occurs."""

    def __init__(self, ads: Sequence[AdFacts]) -> None:
        self.codes: dict[str, np.ndarray] = {}
        self.shares: dict[str, np.ndarray] = {}
        for dim in CONTEXT:
            values: dict[str, int] = {}
            codes = np.fromiter((-1 if (v := getattr(ad, dim)) is None else values.setdefault(v.casefold(), len(values))
                                 for ad in ads), dtype=np.int64, count=len(ads))
            self.codes[dim] = codes
            counts = np.bincount(codes[codes >= 0], minlength=len(values)).astype(np.float64)
            self.shares[dim] = counts / counts.sum() if counts.sum() else counts
        self._expected = {dim: lru_cache(maxsize=4096)(self._expected_distinct(dim)) for dim in CONTEXT}

    def _expected_distinct(self, dim: str):
        shares = self.shares[dim]

        def expected(n: int) -> float:
            # Distinct values in n ads drawn at random: sum over values of P(value drawn at least once).
            return float(np.sum(1.0 - (1.0 - shares) ** n))

        return expected

    def generality(self, keys: Sequence[Key]) -> np.ndarray:
        """Per key: how much its ads vary in context next to random ads (NaN: nothing to judge by)."""
        total = np.zeros(len(keys))
        dims = np.zeros(len(keys))
        if not keys:
            return total
        owner = np.repeat(np.arange(len(keys)), [len(k.members) for k in keys])
        members = np.concatenate([k.members for k in keys])
        for dim in CONTEXT:
            code = self.codes[dim][members]
            known = code >= 0
            with_value = np.bincount(owner[known], minlength=len(keys))
            pairs = np.unique(np.stack([owner[known], code[known]], axis=1), axis=0) if known.any() else np.zeros((0, 2), np.int64)
            distinct = np.bincount(pairs[:, 0], minlength=len(keys)) if len(pairs) else np.zeros(len(keys), np.int64)
            expected = np.array([self._expected[dim](int(n)) for n in with_value])
            informative = expected >= 2.0  # random ads of this size would differ here at all
            ratio = np.clip((distinct - 1) / np.maximum(expected - 1, 1e-9), 0.0, 1.5)
            total += np.where(informative, ratio, 0.0)
            dims += informative
        return np.where(dims > 0, total / np.maximum(dims, 1), np.nan)


def conflicts(n_ads: int, keys: Sequence[Key], candidates: Sequence[int], excluded: set[int]) -> np.ndarray:
    """Per candidate key: distinct established identities among its ads, other than itself.

    An ad stands for one identity, its smallest identity key that is neither the candidate nor
    excluded (a hub); ads with no other shared identity stand for none (they add no conflict).
    """
    identity = [i for i, k in enumerate(keys) if k.identity and i not in excluded]
    holds = Memberships.of(n_ads, [keys[i] for i in identity])
    ids = np.array(identity, dtype=np.int64)
    # Each ad's two smallest identity keys: the candidate may be one of them.
    counts = np.diff(holds.starts)
    first = np.full(n_ads, -1, np.int64)
    second = np.full(n_ads, -1, np.int64)
    has = counts >= 1
    first[has] = ids[holds.keys[holds.starts[:-1][has]]]
    has2 = counts >= 2
    second[has2] = ids[holds.keys[holds.starts[:-1][has2] + 1]]
    out = np.zeros(len(candidates), np.int64)
    for row, index in enumerate(candidates):
        members = keys[index].members
        stands = np.where(first[members] == index, second[members], first[members])
        out[row] = len(np.unique(stands[stands >= 0]))
    return out


def judge(ads: Sequence[AdFacts], keys: Sequence[Key], rules: LinkRules, context: Context | None = None) -> dict[int, Hub]:
    """Hubs among `keys` (by index into `keys`)."""
    hubs: dict[int, Hub] = {}
    for i, key in enumerate(keys):
        if key.placeholder:
            hubs[i] = Hub(key.name, len(key.members), "placeholder")
    big = [i for i, k in enumerate(keys) if i not in hubs and len(k.members) >= rules.hub_min_ads]
    if not big:
        return hubs
    context = context or Context(ads)
    generality = context.generality([keys[i] for i in big])
    undecided = []
    for i, g in zip(big, generality.tolist()):
        if g == g and g >= rules.hub_generality:  # g == g: not NaN
            hubs[i] = Hub(keys[i].name, len(keys[i].members), "general", g)
        elif g != g or g >= rules.hub_generality_low:
            undecided.append((i, g))
    if undecided:
        found = conflicts(len(ads), keys, [i for i, _ in undecided], set(hubs))
        for (i, g), c in zip(undecided, found.tolist()):
            if c >= rules.hub_min_conflicts:
                hubs[i] = Hub(keys[i].name, len(keys[i].members), "conflicting", None if g != g else g, c)
    return hubs
