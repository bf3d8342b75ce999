"""Text blocking against a pair-by-pair reading of its rule, whatever the block size."""

from __future__ import annotations

import random
from itertools import combinations

import numpy as np
import pytest

from enrich.blocking import text_pairs
from enrich.facts import AdFacts


def _ads(n: int, seed: int) -> list[AdFacts]:
    """Ads whose 8 band codes come from a few shared pools: crowded keys, skipped keys, loners."""
    rng = random.Random(seed)
    ads = []
    for i in range(n):
        codes = [band * 1000 + (rng.randrange(3) if band < 2 else rng.randrange(40) if band < 6 else 10_000 + i)
                 for band in range(8)]
        ads.append(AdFacts(doc_id=f"a{i:04d}", first_seen="2026-01-01", text_keys=np.array(codes, dtype=np.int64)))
    return ads


def _by_the_rule(ads: list[AdFacts], max_key_ads: int, per_ad: int) -> set[tuple[int, int]]:
    groups: dict[int, list[int]] = {}
    for i, ad in enumerate(ads):
        for code in set(ad.text_keys.tolist()):
            groups.setdefault(code, []).append(i)
    together: dict[tuple[int, int], int] = {}  # pair -> the pairable keys its ads hold together
    for members in groups.values():
        if 2 <= len(members) <= max_key_ads:
            for pair in combinations(sorted(members), 2):
                together[pair] = together.get(pair, 0) + 1
    candidates = set(together)
    if not per_ad:
        return candidates
    partners: dict[int, list[int]] = {}
    for a, b in candidates:
        partners.setdefault(a, []).append(b)
        partners.setdefault(b, []).append(a)
    kept = set()
    for ad, others in partners.items():
        if len(others) <= per_ad:
            kept |= {(min(ad, o), max(ad, o)) for o in others}
            continue
        for side in ([o for o in others if o > ad], [o for o in others if o < ad]):
            closest = sorted(side, key=lambda o: (-together[min(ad, o), max(ad, o)], o))[:per_ad]
            kept |= {(min(ad, o), max(ad, o)) for o in closest}
    return kept


@pytest.mark.parametrize("per_ad", [0, 3, 15])
@pytest.mark.parametrize("block_entries", [7, 500, 10**9])
def test_pairs_follow_the_rule_in_blocks_of_any_size(per_ad, block_entries):
    ads = _ads(160, seed=per_ad + block_entries)
    got = text_pairs(ads, max_key_ads=40, per_ad=per_ad, block_entries=block_entries)
    pairs = set(zip(got.first.tolist(), got.second.tolist()))
    assert pairs == _by_the_rule(ads, 40, per_ad)
    assert list(zip(got.first.tolist(), got.second.tolist())) == sorted(pairs)  # sorted by (first, second)
    # The 3-value bands make keys of ~53 ads: skipped, for pairs and for how close a pair is.
    sizes = np.unique(np.concatenate([ad.text_keys for ad in ads]), return_counts=True)[1]
    assert got.skipped_keys == int((sizes > 40).sum()) > 0
    assert got.stats["text_candidates"] == len(_by_the_rule(ads, 40, 0))
    if per_ad == 3:
        assert 0 < len(pairs) < got.stats["text_candidates"]  # crowded ads kept their closest only


def test_no_keys_no_pairs():
    ads = [AdFacts(doc_id="a", first_seen="2026-01-01"), AdFacts(doc_id="b", first_seen="2026-01-01")]
    got = text_pairs(ads, max_key_ads=10, per_ad=15)
    assert len(got.first) == 0 and len(got.second) == 0


def test_blocks_chosen_on_dask_workers_give_the_same_pairs():
    """Each block goes to a worker of a real 2-process Dask cluster with the memberships sent once;
    the pairs (and the candidate count) are this process's."""
    from enrich.parallel import Distributed

    ads = _ads(160, seed=11)
    here = text_pairs(ads, max_key_ads=40, per_ad=3, block_entries=50)
    with Distributed(workers=2) as engine:
        seen: list[int] = []

        def counted(func, shared, items):
            for out in engine.map_shared(func, shared, items):
                seen.append(1)
                yield out

        there = text_pairs(ads, max_key_ads=40, per_ad=3, block_entries=50, run_blocks=counted)
    assert len(seen) > 4  # really cut into many blocks, each run on a worker
    assert np.array_equal(there.first, here.first) and np.array_equal(there.second, here.second)
    assert there.stats == here.stats and there.skipped_keys == here.skipped_keys
    assert len(here.first) > 0
