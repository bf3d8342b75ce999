"""Hub detection: an identifier or photo shared by many otherwise-unrelated ads is not evidence.

A placeholder phone, a stock photo or an agency switchboard would chain thousands of unrelated
ads into one giant component. We look at each shared key's ads, smallest keys first, against the
partition built so far from everything else: a key whose ads fall into many separate groups joins
strangers, so it is a hub and dropped (and shown as such); otherwise it joins its ads.
"""

from __future__ import annotations

from dataclasses import dataclass

from enrich.clustering import UnionFind
from enrich.comparison import LinkRules


@dataclass(frozen=True)
class Hub:
    key: str
    ads: int
    groups: int

    def explain(self) -> str:
        return f"hub {self.key}: shared by {self.ads} ads in {self.groups} otherwise unrelated groups; not used"


def resolve_groups(uf: UnionFind, groups: dict[str, set[str]], rules: LinkRules,
                   always_hub: set[str] = frozenset()) -> dict[str, Hub]:
    """Union the non-hub groups into `uf` (in place); return the hubs by key.

    `always_hub` keys (placeholder phones by pattern) are hubs whatever their spread.
    """
    hubs: dict[str, Hub] = {}
    for key in sorted(groups, key=lambda k: (len(groups[k]), k)):
        members = groups[key]
        roots = {uf.find(m) for m in members}
        if key in always_hub:
            hubs[key] = Hub(key, len(members), len(roots))
            continue
        if (len(members) >= rules.hub_min_ads and len(roots) >= rules.hub_min_groups
                and len(roots) >= rules.hub_group_share * len(members)):
            hubs[key] = Hub(key, len(members), len(roots))
            continue
        uf.union_all(members)
    return hubs
