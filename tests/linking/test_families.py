"""Linking on every world family, scored against the truth: floors just under the issue's targets.

The worlds are small (1,500 ads; the partial one a 10 % sample of a 15,000-ad world) and their
seed (7) was never used to choose a threshold: the defaults were tuned on seed 1 (README). Ads
are enriched exactly as the worker does, without an index (tests/world_index.enriched_docs);
tests/linking/test_worker.py covers the same path through the real node.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from world_index import enriched_docs

from demo.generator import generate_world
from demo.world import evidence_keys, read_meta, read_truth
from enrich.evaluation import score
from enrich.facts import facts_from_source
from enrich.linking import link

SEED = 7
PAIRWISE_F1_FLOOR = 0.93  # target 0.95 on 20k-ad worlds (README)
BCUBED_F1_FLOOR = 0.93
EVIDENCE_RECALL_FLOOR = 0.88  # target 0.90: true pairs that share any evidence, on a partial crawl
FAMILIES = {
    "baseline": dict(n_ads=1500),
    "multilingual": dict(n_ads=1500, family="multilingual"),
    "evasive": dict(n_ads=1500, family="evasive"),
    "footer": dict(n_ads=1500, family="footer"),
    "no-country": dict(n_ads=1500, family="no-country"),
    "partial": dict(n_ads=15000, family="partial"),
    "everything": dict(n_ads=1500, family="multilingual,evasive,footer,no-country"),
    "planted": dict(n_ads=1500, family="multilingual", evasive_sizes=[5, 20, 100, 300]),
}


class Linked:
    def __init__(self, world: Path, images: Path) -> None:
        docs = enriched_docs(world, images)
        self.truth_records = read_truth(world)
        self.truth = {f"{t['site']}:{t['ad_id']}": t["poster_id"] for t in self.truth_records}
        self.result = link([facts_from_source(doc_id, src) for doc_id, src in docs.items()])
        self.cluster_of = {m: c.cluster_id for c in self.result.clusters for m in c.members}
        self.scores = score({ad: self.cluster_of.get(ad, ad) for ad in self.truth}, self.truth)
        self.meta = read_meta(world)


_cache: dict[str, Linked] = {}


@pytest.fixture(scope="session")
def linked(tmp_path_factory):
    def get(name: str) -> Linked:
        if name not in _cache:
            world = tmp_path_factory.mktemp(f"family-{name}")
            generate_world(world, seed=SEED, **FAMILIES[name])
            _cache[name] = Linked(world, tmp_path_factory.mktemp(f"family-{name}-images"))
        return _cache[name]

    return get


@pytest.mark.parametrize("name", ["baseline", "multilingual", "evasive", "footer", "no-country", "everything"])
def test_clusters_meet_the_floors_on_every_family(linked, name):
    s = linked(name).scores
    assert s.pairwise_f1 >= PAIRWISE_F1_FLOOR and s.bcubed_f1 >= BCUBED_F1_FLOOR, s
    assert s.largest_predicted_purity >= 0.95, s


def test_a_partial_crawl_keeps_the_pairs_that_share_evidence(linked):
    world = linked("partial")
    by_poster = defaultdict(list)
    for t in world.truth_records:
        by_poster[t["poster_id"]].append((f"{t['site']}:{t['ad_id']}", evidence_keys(t)))
    pairs = [(a, b) for ads in by_poster.values() for (a, ka), (b, kb) in itertools.combinations(ads, 2) if ka & kb]
    kept = sum(1 for a, b in pairs if a in world.cluster_of and world.cluster_of[a] == world.cluster_of.get(b))
    assert len(pairs) > 100 and kept / len(pairs) >= EVIDENCE_RECALL_FLOOR, (kept, len(pairs))


def test_planted_evasive_controllers_are_one_cluster_each(linked):
    world = linked("planted")
    planted = world.meta["family"]["counts"]["planted_evasive"]
    assert sorted(planted.values()) == [5, 20, 100, 300]
    for poster in planted:
        ads = [f"{t['site']}:{t['ad_id']}" for t in world.truth_records if t["poster_id"] == poster]
        clusters = Counter(world.cluster_of.get(ad) for ad in ads)
        assert len(clusters) == 1 and None not in clusters, (poster, len(ads), clusters.most_common(3))


def test_a_site_footer_number_is_a_hub_not_evidence(linked):
    world = linked("footer")
    footers = {t["hard_negatives"]["footer_phone"] for t in world.truth_records} - {None}
    assert footers and all(f in world.result.hubs for f in footers), (footers, sorted(world.result.hubs)[:10])
