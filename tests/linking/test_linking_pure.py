"""Pure linking pieces: cluster ids, hubs by conflicting evidence, bridges, the score table, templates."""

from __future__ import annotations

import random

import pytest

from enrich.clustering import assign_clusters, cluster_id_for
from enrich.comparison import LinkRules
from enrich.evaluation import score
from enrich.facts import AdFacts, ImageKey, text_codes
from enrich.linking import link
from enrich.summary import template_with_slots

CITIES = [f"town{i}" for i in range(40)]
CATEGORIES = ["jobs", "rentals", "goods", "services", "wellness"]
LANGUAGES = ["en", "es", "fr"]


def _photo(value: int) -> ImageKey:
    mirror = f"{~value & (2**64 - 1):016x}"
    return ImageKey(f"{value:016x}", f"{value:016x}", mirror, mirror)


def _phone(rng: random.Random) -> str:
    return f"+1{rng.randrange(2_000_000_000, 9_999_999_999)}"


def _stranger(i: int, rng: random.Random, **extra) -> AdFacts:
    """An unrelated poster's ad: its own phone, photo and text, a random city/category/language."""
    fields = dict(identifiers=(_phone(rng),), images=(_photo(rng.getrandbits(64)),),
                  text_keys=text_codes([f"b00:{rng.getrandbits(60):016x}"]), template=f"own words {i}",
                  city=rng.choice(CITIES), country=rng.choice(["US", "GB", "ES", "FR"]),
                  language=rng.choice(LANGUAGES), category=rng.choice(CATEGORIES))
    fields.update(extra)
    return AdFacts(f"s{i:05d}", "2026-01-01", **fields)


def _background(n: int, seed: int = 1, posters_with_pairs: int = 0) -> list[AdFacts]:
    """n strangers; the first `posters_with_pairs` pairs of them share a phone (honest sellers with two ads)."""
    rng = random.Random(seed)
    ads = [_stranger(i, rng) for i in range(n)]
    for p in range(posters_with_pairs):
        a, b = ads[2 * p], ads[2 * p + 1]
        ads[2 * p + 1] = AdFacts(b.doc_id, b.first_seen, identifiers=a.identifiers, images=b.images,
                                 text_keys=b.text_keys, template=b.template, city=a.city, country=a.country,
                                 language=a.language, category=a.category)
    return ads


def _with(ad: AdFacts, **changes) -> AdFacts:
    fields = {name: getattr(ad, name) for name in AdFacts.__slots__}
    fields.update(changes)
    return AdFacts(**fields)


def _cluster_of(result, doc_id: str) -> tuple[str, ...] | None:
    return next((c.members for c in result.clusters if doc_id in c.members), None)


def test_growing_cluster_keeps_its_id_and_merge_keeps_the_older():
    seen = {"a": "2026-01-01", "b": "2026-01-02", "c": "2026-01-03", "d": "2026-01-04"}
    first = assign_clusters([["a", "b"], ["c", "d"]], seen, {})
    ids = {c.members: c.cluster_id for c in first}
    assert ids[("a", "b")] == cluster_id_for("a") and ids[("c", "d")] == cluster_id_for("c")
    previous = {m: c.cluster_id for c in first for m in c.members}
    (merged,) = assign_clusters([["a", "b", "c", "d", "e"]], {**seen, "e": "2026-02-01"}, previous)
    assert merged.cluster_id == cluster_id_for("a")
    assert merged.merged_from == (cluster_id_for("c"),)


@pytest.mark.parametrize("size", [5, 20, 100, 300])
def test_evasive_controller_keeping_one_number_is_one_cluster(size):
    # Every ad of the controller has fresh text and a fresh photo; only the number is kept. Nothing
    # else links them, which is exactly what an evader looks like: never a reason to call it a hub.
    rng = random.Random(size)
    number = "+34611223344"
    evader = [_stranger(10_000 + i, rng, identifiers=(number,), city=rng.choice(CITIES[:3]), country="ES",
                        language="es", category="jobs") for i in range(size)]
    result = link(_background(2000) + evader)
    members = _cluster_of(result, evader[0].doc_id)
    assert members is not None and set(members) == {ad.doc_id for ad in evader}
    assert number not in result.hubs


def test_rotating_phones_with_one_kept_handle_is_one_cluster():
    rng = random.Random(5)
    evader = [_stranger(10_000 + i, rng, identifiers=(_phone(rng), "telegram:job_agency_77"), city="town1",
                        country="RO", language="ro", category="jobs") for i in range(120)]
    result = link(_background(2000, posters_with_pairs=200) + evader)
    assert set(_cluster_of(result, evader[0].doc_id)) == {ad.doc_id for ad in evader}


def test_stock_photo_on_unrelated_ads_is_a_hub_that_joins_nothing():
    ads = _background(3000, posters_with_pairs=300)
    stock = _photo(0x9F3A5C7E12345678)
    rng = random.Random(7)
    chosen = rng.sample(range(600, 3000), 120)
    for i in chosen:
        ads[i] = _with(ads[i], images=ads[i].images + (stock,))
    result = link(ads)
    (hub,) = [h for h in result.hubs.values() if h.key.startswith("photo:")]
    assert hub.reason == "general" and hub.ads == 120
    assert all(_cluster_of(result, ads[i].doc_id) is None for i in chosen)
    record = next(r for r in result.links[ads[chosen[0]].doc_id] if r["evidence"] == "image")
    assert record["suppressed"] and record["suppressed_by"] == "hub" and "hub photo:" in record["detail"]


def test_site_footer_number_on_every_ad_is_a_hub():
    footer = "+18005550199"
    ads = [_with(ad, identifiers=ad.identifiers + (footer,)) for ad in _background(1500, posters_with_pairs=100)]
    result = link(ads)
    assert footer in result.hubs
    assert max(len(c.members) for c in result.clusters) == 2  # only the honest sellers' pairs


def test_placeholder_numbers_never_link_even_between_two_ads():
    ads = [AdFacts("x", "2026-01-01", identifiers=("+10000000000",), placeholders=("+10000000000",)),
           AdFacts("y", "2026-01-02", identifiers=("+10000000000",), placeholders=("+10000000000",))]
    result = link(ads)
    assert result.clusters == [] and result.hubs["+10000000000"].reason == "placeholder"
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


def _network(tag: str, size: int, phone: str, rng: random.Random) -> list[AdFacts]:
    city = rng.choice(CITIES)
    return [AdFacts(f"{tag}{i:03d}", "2026-01-01", identifiers=(phone,), city=city, country="ES", language="es",
                    category="jobs") for i in range(size)]


def test_one_weak_key_does_not_join_two_networks_and_the_refused_bridge_is_shown():
    rng = random.Random(3)
    a, b = _network("a", 80, "+34600000001", rng), _network("b", 60, "+34600000002", rng)
    # A misread "handle" on three ads of each network: alone it would merge them.
    false = "whatsapp:seis"
    for net in (a, b):
        for i in range(3):
            net[i] = _with(net[i], identifiers=net[i].identifiers + (false,))
    result = link(a + b)
    assert sorted(len(c.members) for c in result.clusters) == [60, 80]
    (bridge,) = result.bridges
    assert bridge["key"] == false and sorted(p["ads"] for p in bridge["parts"]) == [60, 80]
    record = next(r for r in result.links["a000"] if r.get("suppressed_by") == "bridge")
    assert "bridge whatsapp:seis refused" in record["detail"]


def test_a_key_on_most_ads_of_both_groups_joins_them():
    rng = random.Random(4)
    a, b = _network("a", 40, "+34600000001", rng), _network("b", 40, "+34600000002", rng)
    handle = "telegram:same_controller"
    joined = [_with(ad, identifiers=ad.identifiers + (handle,)) if i % 3 else ad for i, ad in enumerate(a + b)]
    result = link(joined)
    assert [len(c.members) for c in result.clusters] == [80] and not result.bridges


def test_two_independent_keys_corroborate_a_merge():
    rng = random.Random(6)
    a, b = _network("a", 50, "+34600000001", rng), _network("b", 50, "+34600000002", rng)
    a[0] = _with(a[0], identifiers=a[0].identifiers + ("telegram:one",))
    b[0] = _with(b[0], identifiers=b[0].identifiers + ("telegram:one",))
    a[1] = _with(a[1], identifiers=a[1].identifiers + ("me@example.org",))
    b[1] = _with(b[1], identifiers=b[1].identifiers + ("me@example.org",))
    result = link(a + b)
    assert [len(c.members) for c in result.clusters] == [100] and not result.bridges


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


def test_a_crowded_chunk_bucket_leaves_the_pair_to_the_next_chunk():
    from enrich.photos import near_pairs, photo_table

    rng = random.Random(1)
    top = 0xABCD << 48  # ten strangers share the first 16 bits: that bucket is too crowded to expand
    ads = [AdFacts(f"s{i}", "", images=(_photo(top | rng.getrandbits(48)),)) for i in range(10)]
    near = top | 0x123456789ABC
    ads += [AdFacts("x", "", images=(_photo(near),)), AdFacts("y", "", images=(_photo(near ^ 1),))]
    matches = near_pairs(photo_table(ads), LinkRules(max_key_ads=5))
    assert list(zip(matches.first.tolist(), matches.second.tolist())) == [(10, 11)]


def test_a_hub_photo_does_not_suppress_a_text_link_between_the_same_ads():
    rng = random.Random(2)
    base = 0x9F3A5C7E12345678
    keys = text_codes(["b01:00000000000000a1", "b02:00000000000000a2"])
    ads = [AdFacts(f"a{i}", "2026-01-01", text_keys=keys, template=TEXT, images=(_photo(base),), city="town1",
                   category="jobs") for i in range(2)]
    # The same photo on forty strangers' ads in every city and category: a stock photo.
    ads += [AdFacts(f"z{i:02d}", "2026-01-01", identifiers=(_phone(rng),), template=f"unrelated {i}",
                    images=(_photo(base ^ (1 << (i % 60))),), city=CITIES[i], category=CATEGORIES[i % 5],
                    language=LANGUAGES[i % 3], country=["US", "GB", "ES", "FR"][i % 4]) for i in range(40)]
    result = link(ads)
    assert result.hubs and [c.members for c in result.clusters] == [("a0", "a1")]
    text = [r for r in result.links["a0"] if r["evidence"] == "text"]
    assert text and not text[0].get("suppressed")


def _text_ads(n: int, template: str = TEXT) -> list[AdFacts]:
    keys = text_codes(["b03:00000000000000b1", "b04:00000000000000b2"])
    return [AdFacts(f"ad{i:03d}", "2026-01-01", text_keys=keys, template=template) for i in range(n)]


def test_an_edited_ad_loses_its_old_text_links_in_an_incremental_run():
    ads = _text_ads(2)
    stored = link(ads).text_scores.triples()
    edited = [ads[0], _with(ads[1], template="a used bicycle in good shape for sale, cheap, pick up today near "
                                             "the station, cash only please")]
    assert [c.members for c in link(edited, focus={"ad001"}, stored=stored).clusters] == \
           [c.members for c in link(edited).clusters] == []


def test_an_incremental_run_reads_old_scores_and_compares_only_new_pairs():
    ads = _text_ads(80)
    first = link(ads)
    later = link(ads + [AdFacts("zz", "2026-02-01", template="something else entirely")], focus={"zz"},
                 stored=first.text_scores.triples())
    assert [len(c.members) for c in later.clusters] == [len(c.members) for c in first.clusters] == [80]
    assert later.stats["text_pairs_compared"] == 0 and later.stats["text_pairs_reused"] > 0


def test_a_threshold_change_recuts_the_stored_table_like_a_full_comparison():
    rng = random.Random(9)
    words = TEXT.split()
    ads = []
    for i in range(60):
        varied = [w if rng.random() > 0.25 else f"v{rng.randrange(30)}" for w in words]
        ads.append(AdFacts(f"ad{i:03d}", "2026-01-01", text_keys=text_codes(["b05:00000000000000c1"]),
                           template=" ".join(varied)))
    table = link(ads).text_scores.triples()
    for text_min in (0.8, 0.9, 0.95):
        rules = LinkRules(text_min=text_min)
        recut = link(ads, rules, focus=set(), stored=table)
        assert recut.stats["text_pairs_compared"] == 0
        assert [c.members for c in recut.clusters] == [c.members for c in link(ads, rules).clusters]


def test_an_evaders_kept_handle_still_joins_its_ads_when_a_few_sit_in_other_groups():
    # 200 ads share only a handle; five of them are also (wrongly) in another network's group and two
    # in a third's: the handle is thin there, and is refused there only, not for its own ads.
    rng = random.Random(11)
    handle = "telegram:keeps_this_one"
    evader = [AdFacts(f"e{i:03d}", "2026-01-01", identifiers=(handle,), city="town1", category="jobs")
              for i in range(200)]
    other, third = _network("o", 120, "+34600000009", rng), _network("t", 40, "+34600000008", rng)
    for i in range(5):
        other[i] = _with(other[i], identifiers=other[i].identifiers + (handle,))
    for i in range(2):
        third[i] = _with(third[i], identifiers=third[i].identifiers + (handle,))
    result = link(_background(1500) + evader + other + third)
    assert set(_cluster_of(result, "e000")) == {ad.doc_id for ad in evader}
    assert len(_cluster_of(result, "o000")) == 120 and len(_cluster_of(result, "t000")) == 40
    (bridge,) = result.bridges
    assert bridge["key"] == handle
