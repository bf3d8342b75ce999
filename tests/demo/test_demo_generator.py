"""The generated world against its own ground truth."""

from __future__ import annotations

import itertools
import json
import random
import re
import statistics
from collections import defaultdict

import imagehash
import phonenumbers
from PIL import Image, ImageOps

from demo.generator import generate_world
from demo.photos import TRANSFORMS
from demo.population import controller_sizes
from demo.text import OBFUSCATIONS, PLACEHOLDER_PHONES

TEXT_VARIATIONS = {"typos", "emoji", "leetspeak", "shuffle"}


def _phash(path) -> imagehash.ImageHash:
    with Image.open(path) as img:
        return imagehash.phash(img)


def test_same_seed_gives_byte_identical_truth(tmp_path):
    first = generate_world(tmp_path / "a", 150, 5)
    second = generate_world(tmp_path / "b", 150, 5)
    other = generate_world(tmp_path / "c", 150, 6)
    truth = [(tmp_path / name / "truth.jsonl").read_bytes() for name in ("a", "b", "c")]
    assert first.n_ads == second.n_ads == 150
    assert truth[0] == truth[1]
    assert (tmp_path / "a" / "ads.jsonl").read_bytes() == (tmp_path / "b" / "ads.jsonl").read_bytes()
    assert truth[0] != truth[2]


def test_controller_sizes_are_heavy_tailed():
    sizes = controller_sizes(30_000, random.Random(1))  # the controller share of a 100k-ad world
    small = sum(2 <= size <= 5 for size in sizes)
    assert min(sizes) >= 2 and sum(sizes) <= 30_000
    assert small / len(sizes) > 0.5, "most controllers should post 2-5 ads"
    assert sum(size >= 100 for size in sizes) >= 3, "a few controllers should post hundreds"


def test_world_controller_sizes_follow_truth(truth):
    per_controller = defaultdict(int)
    for record in truth:
        if record["controller_id"]:
            per_controller[record["controller_id"]] += 1
    sizes = sorted(per_controller.values())
    assert min(sizes) >= 2
    assert statistics.median(sizes) <= 5
    assert max(sizes) >= 10 * statistics.median(sizes) / 2
    independent = [r for r in truth if r["poster_kind"] == "independent"]
    assert all(r["controller_id"] is None for r in independent)
    assert len(independent) > len(truth) / 2, "independent posters make up most ads"


def test_every_phone_obfuscation_appears_in_the_ad_text(truth, ads):
    seen = set()
    for record in truth:
        ad = ads[record["ad_id"]]
        text = ad["body"] + " " + ad["contact"]
        for contact in record["contacts"]:
            kind = contact["obfuscation"]
            if contact["kind"] != "phone" or kind is None:
                continue
            seen.add(kind)
            assert contact["shown"] in text, (record["ad_id"], contact)
            if kind == "split":
                assert contact["tail"] and contact["tail"] in text
            if kind == "words":
                assert not re.search(r"\d", contact["shown"].lstrip("+"))
            if kind == "letters":
                assert "0" not in contact["shown"] and "1" not in contact["shown"]
            if kind == "emoji":
                assert "\u20e3" in contact["shown"]
    assert seen == set(OBFUSCATIONS)


def test_every_text_variation_appears_and_is_recorded(truth):
    recorded = set(itertools.chain.from_iterable(r["text_variations"] for r in truth))
    assert recorded == TEXT_VARIATIONS


def test_truth_phones_are_valid_e164(truth):
    phones = {p for r in truth for p in r["phones"]}
    assert phones
    for phone in phones:
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone


def test_controllers_reuse_phones_across_cities(truth):
    cities_per_phone = defaultdict(set)
    for record in truth:
        if record["controller_id"]:
            for phone in record["phones"]:
                cities_per_phone[(record["controller_id"], phone)].add(record["city"])
    assert any(len(cities) >= 3 for cities in cities_per_phone.values())


def test_variants_of_a_base_photo_are_near_and_different_bases_far(world_dir, truth):
    originals, variants = {}, []
    for record in truth:
        for image in record["images"]:
            if image["stock"] or image["fault"] or image["reused"]:
                continue
            if image["transforms"]:
                variants.append(image)
            else:
                originals[image["base_id"]] = image["file"]
    hashes = {base: _phash(world_dir / "images" / file) for base, file in originals.items()}
    near = [(_phash(world_dir / "images" / v["file"]) - hashes[v["base_id"]]) for v in variants
            if not v["flipped"] and v["base_id"] in hashes]
    assert len(near) >= 50
    assert sum(d <= 10 for d in near) / len(near) >= 0.97, sorted(near)[-10:]
    assert max(near) <= 20, "even the worst variant stays nearer than unrelated photos (~32)"
    far = [a - b for a, b in itertools.combinations(hashes.values(), 2)]
    assert len(hashes) >= 100
    assert sum(d > 20 for d in far) / len(far) >= 0.99
    assert statistics.mean(far) > 28


def test_every_image_transform_appears_and_is_recorded(truth):
    recorded = {name for r in truth for i in r["images"] if not i["stock"] for name in i["transforms"]}
    assert recorded == set(TRANSFORMS)


def test_flipped_variants_are_recorded(world_dir, truth):
    flipped = [(i, r) for r in truth for i in r["images"] if i["flipped"] and not i["fault"]]
    assert flipped
    originals = {i["base_id"]: i["file"] for r in truth for i in r["images"] if not i["transforms"] and not i["stock"]}
    for image, _ in flipped[:10]:
        with Image.open(world_dir / "images" / image["file"]) as img:
            unflipped = imagehash.phash(ImageOps.mirror(img))
        assert unflipped - _phash(world_dir / "images" / originals[image["base_id"]]) <= 12


def test_placeholder_phones_are_shared_by_unrelated_posters(truth):
    users = defaultdict(set)
    for record in truth:
        placeholder = record["hard_negatives"]["placeholder_phone"]
        if placeholder:
            users[placeholder].add((record["poster_kind"], record["poster_id"]))
    assert set(users) == set(PLACEHOLDER_PHONES)
    for placeholder, posters in users.items():
        assert len(posters) >= 2, placeholder
    kinds = {kind for posters in users.values() for kind, _ in posters}
    assert kinds == {"controller", "independent"}
    assert all(p not in r["phones"] for r in truth for p in ("+10000000000", "+11234567890"))


def test_stock_photo_is_shared_across_controllers_and_posters(world_dir, truth):
    users = {(r["poster_kind"], r["poster_id"]) for r in truth if r["hard_negatives"]["stock_photo"]}
    assert sum(kind == "controller" for kind, _ in users) >= 2
    assert sum(kind == "independent" for kind, _ in users) >= 2
    stock = sorted({i["file"] for r in truth for i in r["images"] if i["stock"]})
    hashes = [_phash(world_dir / "images" / name) for name in stock]
    assert all(a - b <= 6 for a, b in itertools.combinations(hashes, 2))


def test_boilerplate_phrases_are_shared_by_unrelated_posters(truth, ads):
    users = defaultdict(set)
    for record in truth:
        phrase = record["hard_negatives"]["boilerplate"]
        if phrase:
            if not record["text_variations"]:  # noise may reach the phrase too, as it would on a real site
                assert phrase in ads[record["ad_id"]]["body"]
            users[phrase].add(record["poster_id"])
    assert users and all(len(posters) >= 2 for posters in users.values())


def test_truth_matches_ads_file(truth, ads):
    assert [r["ad_id"] for r in truth] == list(ads)
    assert {r["ad_id"][0] for r in truth} == {"H", "J"}
    for record in truth:
        assert record["site"] == f"demo-{record['flavour']}"
        assert record["ad_id"][0] == ("H" if record["flavour"] == "html" else "J")


def test_switches_turn_variations_off_and_are_recorded(tmp_path):
    generate_world(tmp_path, 200, 3, obfuscation=False, text_noise=False, hard_negatives=False, faults=False,
                   image_variation=False)
    meta = json.loads((tmp_path / "world.json").read_text())
    assert meta["switches"]["obfuscation"] is False and meta["switches"]["faults"] is False
    for line in (tmp_path / "truth.jsonl").read_text().splitlines():
        record = json.loads(line)
        assert all(c["obfuscation"] is None for c in record["contacts"])
        assert record["text_variations"] == [] and record["faults"] == []
        assert record["hard_negatives"] == {"boilerplate": None, "placeholder_phone": None, "stock_photo": False}
        assert all(not i["transforms"] and not i["fault"] for i in record["images"])


def test_controller_ads_share_wording_that_unrelated_posters_do_not(truth, ads):
    def words(ad_id: str) -> set[str]:
        return set(re.findall(r"[a-z]+", ads[ad_id]["body"].lower()))

    def jaccard(a: str, b: str) -> float:
        x, y = words(a), words(b)
        return len(x & y) / len(x | y)

    rnd = random.Random(0)
    by_template = defaultdict(list)
    for record in truth:
        by_template[record["template_id"]].append(record)
    same = [jaccard(a["ad_id"], b["ad_id"]) for group in by_template.values() if len(group) > 1
            for a, b in [rnd.sample(group, 2)] if not a["text_variations"] and not b["text_variations"]]
    by_category = defaultdict(list)
    for record in truth:
        by_category[record["category"]].append(record)
    unrelated = []
    for group in by_category.values():
        for _ in range(200):
            a, b = rnd.sample(group, 2)
            if a["poster_id"] != b["poster_id"]:
                unrelated.append(jaccard(a["ad_id"], b["ad_id"]))
    assert statistics.mean(same) > 0.7
    assert statistics.mean(unrelated) < 0.45
    assert sum(j > 0.7 for j in unrelated) / len(unrelated) < 0.05
