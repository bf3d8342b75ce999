"""Hub judgement: a key shared by many ads is not evidence when those ads *conflict*.

A placeholder phone, a stock photo, a site's customer-service number or an agency switchboard
would chain thousands of unrelated ads into one component. What gives them away is conflicting
evidence, never the mere absence of other links (an evasive controller that varies its text and
photos but keeps one number looks exactly like "no other links", and must be linked):

- placeholder: a dummy identity ("000-000-0000", written as a phone or a handle);
- general: the key's ads are as varied in city, country, language and category as a random
  sample of the same size of ads like them (a controller's ads are far more coherent: a few
  cities, one or two categories, its own languages). See `Context.generality`;
- conflicting: the key's ads carry many different identities (other phones, emails, handles: many
  established ones, shared by several ads, or many per ad) and are not clearly coherent in context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from enrich.comparison import LinkRules
from enrich.facts import AdFacts
from enrich.scoring import TEMPLATE, Key, Memberships

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
            why = f"its ads carry {self.conflicts} different identities of their own"
        return f"hub {self.key} on {self.ads} ads: {why}; not used"


class Context:
    """The ads' context as integer codes per dimension (-1: unknown), and how often each value occurs."""

    def __init__(self, ads: Sequence[AdFacts]) -> None:
        self.codes: dict[str, np.ndarray] = {}
        self.shares: dict[str, np.ndarray] = {}
        for dim in CONTEXT:
            values: dict[str, int] = {}
            codes = np.fromiter(
                (-1 if (v := getattr(ad, dim)) is None else values.setdefault(v.casefold(), len(values)) for ad in ads),
                dtype=np.int64, count=len(ads))
            counts = np.bincount(codes[codes >= 0], minlength=len(values)).astype(np.float64)
            self.codes[dim] = codes
            self.shares[dim] = counts / counts.sum() if counts.sum() else counts
        self._expected: dict[tuple[str, int], float] = {}

    def expected(self, dim: str, n: int) -> float:
        """Distinct values of `dim` among n random ads: the sum over values of P(drawn at least once)."""
        if (dim, n) not in self._expected:
            self._expected[(dim, n)] = float(np.sum(1.0 - (1.0 - self.shares[dim]) ** n))
        return self._expected[(dim, n)]

    def generality(self, keys: Sequence[Key]) -> np.ndarray:
        """Per key: how much its ads vary in context next to random ads (NaN: nothing to judge by).

        The mean, over the dimensions that would vary among random ads of that size at all, of
        (distinct values - 1) / (expected distinct - 1), clipped to [0, 1.5]."""
        out = np.full(len(keys), np.nan)
        for row, key in enumerate(keys):
            ratios = []
            for dim in CONTEXT:
                codes = self.codes[dim][key.members]
                known = codes[codes >= 0]
                if not len(known):
                    continue
                expected = self.expected(dim, len(known))
                if expected < 2.0:  # random ads of this size would hardly differ here
                    continue
                ratios.append(min(1.5, max(0.0, (len(np.unique(known)) - 1) / (expected - 1))))
            if ratios:
                out[row] = sum(ratios) / len(ratios)
        return out


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


def identity_spread(ads: Sequence[AdFacts], keys: Sequence[Key], candidates: Sequence[int],
                    excluded: set[str]) -> np.ndarray:
    """Per candidate key: distinct identities (phones, emails, handles; shared or not) on its ads,
    other than the key itself and the excluded ones (hubs, placeholders)."""
    code: dict[str, int] = {}
    starts = np.zeros(len(ads) + 1, dtype=np.int64)
    flat: list[int] = []
    for i, ad in enumerate(ads):
        flat += [code.setdefault(x, len(code)) for x in ad.identifiers if x not in ad.placeholders and x not in excluded]
        starts[i + 1] = len(flat)
    codes = np.array(flat, dtype=np.int64)
    out = np.zeros(len(candidates), np.int64)
    for row, index in enumerate(candidates):
        members = keys[index].members
        taken = np.concatenate([codes[starts[m]:starts[m + 1]] for m in members.tolist()]) if len(members) else codes[:0]
        own = code.get(keys[index].name, -1)
        out[row] = len(np.unique(taken[taken != own]))
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
        judged = g == g  # not NaN: there was context to judge by
        if judged and g >= rules.hub_generality:
            hubs[i] = Hub(keys[i].name, len(keys[i].members), "general", g)
        elif not (judged and g < rules.hub_generality_low) or keys[i].kind == TEMPLATE:
            undecided.append((i, g))  # not clearly coherent (templates: whatever their context)
    if undecided:
        found = conflicts(len(ads), keys, [i for i, _ in undecided], set(hubs))
        spread = identity_spread(ads, keys, [i for i, _ in undecided], {keys[h].name for h in hubs})
        for (i, g), c, d in zip(undecided, found.tolist(), spread.tolist()):
            if _conflicting(keys[i].kind, g, c, d, len(keys[i].members), rules):
                hubs[i] = Hub(keys[i].name, len(keys[i].members), "conflicting", None if g != g else g, max(c, d))
    return hubs


def _conflicting(kind: str, g: float, established: int, identities: int, n: int, rules: LinkRules) -> bool:
    """Whether a key's ads carry too many different identities to be one poster's.

    Identities and photos must also not look coherent (an evader rotating every other contact is
    coherent; an agency number its unrelated posters print is not, mostly). Alike texts that name
    many different contacts are boilerplate however coherent their ads look: a site's suggested
    template is written for one language and category."""
    coherent = g == g and g < rules.hub_generality_low
    many = identities >= rules.hub_identity_share * n
    if kind == TEMPLATE:
        return many or (established >= rules.hub_min_conflicts and not coherent)
    return not coherent and (established >= rules.hub_min_conflicts or (many and g == g))
