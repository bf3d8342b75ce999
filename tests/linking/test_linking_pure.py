"""Pure linking pieces: cluster ids, hubs, scoring, templates."""

from __future__ import annotations

from enrich.blocking import AdFacts
from enrich.clustering import UnionFind, assign_clusters, cluster_id_for
from enrich.comparison import LinkRules
from enrich.evaluation import score
from enrich.hubs import resolve_groups
from enrich.linking import link
from enrich.summary import template_with_slots


def test_growing_cluster_keeps_its_id_and_merge_keeps_the_older():
    seen = {"a": "2026-01-01", "b": "2026-01-02", "c": "2026-01-03", "d": "2026-01-04"}
    first = assign_clusters([["a", "b"], ["c", "d"]], seen, {})
    ids = {c.members: c.cluster_id for c in first}
    assert ids[("a", "b")] == cluster_id_for("a") and ids[("c", "d")] == cluster_id_for("c")
    previous = {m: c.cluster_id for c in first for m in c.members}
    (merged,) = assign_clusters([["a", "b", "c", "d", "e"]], {**seen, "e": "2026-02-01"}, previous)
    assert merged.cluster_id == cluster_id_for("a")
    assert merged.merged_from == (cluster_id_for("c"),)


def test_shared_key_across_unrelated_groups_is_a_hub_and_joins_nothing():
    uf = UnionFind()
    for pair in [("a1", "a2"), ("b1", "b2"), ("c1", "c2"), ("d1", "d2")]:
        uf.union(*pair)
    groups = {"phone:+15550000000": {"a1", "b1", "c1", "d1", "e1", "f1"},  # six strangers
              "phone:+15551112222": {"a1", "a2"}}  # one poster's own number
    hubs = resolve_groups(uf, groups, LinkRules(hub_min_ads=6, hub_min_groups=4))
    assert set(hubs) == {"phone:+15550000000"} and hubs["phone:+15550000000"].groups == 6
    assert uf.find("a1") != uf.find("b1")


def test_placeholder_numbers_never_link_even_between_two_ads():
    ads = [AdFacts("x", "2026-01-01", identifiers=("+10000000000",), placeholders=("+10000000000",)),
           AdFacts("y", "2026-01-02", identifiers=("+10000000000",), placeholders=("+10000000000",))]
    result = link(ads)
    assert result.clusters == [] and "+10000000000" in result.hubs
    assert all(record["suppressed"] for record in result.links["x"])


def test_shared_phone_links_and_explains():
    ads = [AdFacts("x", "2026-01-01", identifiers=("+447700900123",)),
           AdFacts("y", "2026-01-02", identifiers=("+447700900123",)),
           AdFacts("z", "2026-01-03", identifiers=("+447700900999",))]
    result = link(ads)
    (cluster,) = result.clusters
    assert cluster.members == ("x", "y")
    assert result.links["x"][0] == {"ad": "y", "evidence": "identifier", "score": 1.0,
                                    "detail": "+447700900123 shared by 2 ads"}


def test_scores_on_a_hand_counted_example():
    truth = {"1": "A", "2": "A", "3": "A", "4": "B", "5": "B"}
    predicted = {"1": "x", "2": "x", "3": "y", "4": "y", "5": "z"}
    s = score(predicted, truth)
    # true pairs: 12 13 23 45 (4); predicted pairs: 12 34 (2); right: 12 (1)
    assert (s.pairwise_precision, s.pairwise_recall) == (0.5, 0.25)
    # B-cubed precision: 1,1,.5,.5,1 -> .8; recall: 2/3,2/3,1/3,1/2,1/2 -> 8/15
    assert round(s.bcubed_precision, 6) == 0.8 and round(s.bcubed_recall, 6) == round(8 / 15, 6)


def test_template_keeps_shared_words_and_names_the_slots():
    texts = ["hi i am <name> new in town call me", "hi i am <name> new in paris call me now",
             "hi i am <name> new in rome call me"]
    template, slots = template_with_slots(texts, texts[1])
    assert template == "hi i am <name> new in <*> call me <*>"
    assert {s["name"] for s in slots} == {"<name>", "<*>"}
    assert "paris" in next(s for s in slots if s["name"] == "<*>")["values"]


TEXT = "call me anytime sweet new girl in town relaxing massage outcall incall available all night long"


def _photo(value: int):
    from enrich.blocking import ImageKey

    mirror = f"{~value & (2**64 - 1):016x}"
    return ImageKey(f"{value:016x}", f"{value:016x}", mirror, mirror)


def test_a_crowded_chunk_bucket_leaves_the_pair_to_the_next_chunk():
    import random

    from enrich.photos import near_pairs, photo_table

    rng = random.Random(1)
    top = 0xABCD << 48  # ten strangers share the first 16 bits: that bucket is too crowded to expand
    ads = [AdFacts(f"s{i}", "", images=(_photo(top | rng.getrandbits(48)),)) for i in range(10)]
    near = top | 0x123456789ABC
    ads += [AdFacts("x", "", images=(_photo(near),)), AdFacts("y", "", images=(_photo(near ^ 1),))]
    matches = near_pairs(photo_table(ads), LinkRules(max_key_ads=5))
    assert list(zip(matches.first.tolist(), matches.second.tolist())) == [(10, 11)]


def test_a_hub_photo_does_not_suppress_a_text_link_between_the_same_ads():
    from enrich.blocking import text_codes

    base = 0x9F3A5C7E12345678
    keys = text_codes(["k1", "k2"])
    ads = [AdFacts(f"a{i}", "2026-01-01", text_keys=keys, template=TEXT, images=(_photo(base),)) for i in range(2)]
    ads += [AdFacts(f"a{i}", "2026-01-01", template=f"unrelated {i}", images=(_photo(base ^ (1 << (i * 5))),))
            for i in range(2, 9)]
    result = link(ads)
    assert result.hubs and [c.members for c in result.clusters] == [("a0", "a1")]
    text = [r for r in result.links["a0"] if r["evidence"] == "text"]
    assert text and not text[0].get("suppressed")


def test_an_edited_ad_loses_its_old_text_links_in_an_incremental_run():
    from enrich.blocking import text_codes

    keys = text_codes(["b1", "b2"])
    ads = [AdFacts("a", "", text_keys=keys, template=TEXT), AdFacts("b", "", text_keys=keys, template=TEXT)]
    stored = [e for e in link(ads).pair_evidence if e.kind == "text"]
    edited = [ads[0], AdFacts("b", "", text_keys=keys, template="a used bicycle in good shape for sale, cheap, "
                                                                 "pick up today near the station, cash only please")]
    assert [c.members for c in link(edited, focus={"b"}, stored=stored).clusters] == \
           [c.members for c in link(edited).clusters] == []


def test_a_big_text_cluster_survives_an_incremental_run_on_its_stored_text_evidence():
    from enrich.blocking import text_codes

    keys = text_codes(["t1", "t2"])
    ads = [AdFacts(f"ad{i:03d}", "2026-01-01", text_keys=keys, template=TEXT) for i in range(80)]
    first = link(ads)
    stored = [e for e in first.pair_evidence if e.kind == "text"]  # what the worker keeps in text_links
    later = link(ads + [AdFacts("zz", "2026-02-01", template="something else entirely")], focus={"zz"},
                 stored=stored)
    assert [len(c.members) for c in later.clusters] == [len(c.members) for c in first.clusters] == [80]
