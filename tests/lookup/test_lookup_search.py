"""`adwatch search` on the shared enriched world: answers checked against the world's own files."""

from __future__ import annotations

import re
from collections import Counter

import phonenumbers
import pytest
from PIL import Image, ImageOps

from dashboards.lookup import SearchRequest, email_keys, handle_keys, read_phone, read_photo, search_ads

EVERYTHING = 10_000  # a limit above the world's size: the whole answer, not the first page
DIGIT_WORDS = "zero one two three four five six seven eight nine".split()


def found(store, **request) -> set[str]:
    result = search_ads(store, SearchRequest(limit=EVERYTHING, **request))
    assert result.total == len(result.matches)
    return {m.doc_id for m in result.matches}


def phone_forms(e164: str) -> dict[str, tuple[str, str | None]]:
    """The phone as an analyst might type it: (text, --country)."""
    number = phonenumbers.parse(e164)
    region = phonenumbers.region_code_for_number(number)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    spoken = " ".join(DIGIT_WORDS[int(d)] for d in re.sub(r"\D", "", national))
    digits = str(number.national_number)
    dotted = ".".join(digits[i:i + 3] for i in range(0, len(digits), 3))
    return {"national": (national, region), "spoken": (spoken, region),
            "international, no country": (f"00{number.country_code} {dotted}", None)}


@pytest.mark.parametrize("form", ["national", "spoken", "international, no country"])
def test_phone_in_another_format_finds_exactly_the_ads_whose_truth_lists_it(enriched_world, world_truth, busiest_phone,
                                                                            form):
    store, phone = enriched_world[0], busiest_phone
    typed, country = phone_forms(phone)[form]
    readings = read_phone(store, typed, country)
    assert phone in readings
    expected = {ad for ad, record in world_truth.items() if phone in record["phones"]}
    assert len(expected) >= 2
    assert found(store, phones=tuple(readings)) == expected


def test_phone_and_site_filters_combine(enriched_world, world_truth, busiest_phone):
    store, phone = enriched_world[0], busiest_phone
    expected = {ad for ad, record in world_truth.items() if phone in record["phones"] and record["site"] == "demo-js"}
    assert found(store, phones=(phone,), site="demo-js") == expected


def test_handle_without_platform_finds_it_on_every_platform(enriched_world, world_truth):
    store = enriched_world[0]
    counts = Counter(h.split(":", 1)[1] for record in world_truth.values() for h in record["handles"])
    name = min(counts, key=lambda n: (-counts[n], n))  # e.g. '@happydream421'
    expected = {ad for ad, record in world_truth.items() if any(h.endswith(":" + name) for h in record["handles"])}
    assert found(store, handles=tuple(handle_keys(name))) == expected


def test_spelled_out_email_finds_the_ads_listing_it(enriched_world, world_truth):
    store = enriched_world[0]
    counts = Counter(e for record in world_truth.values() for e in record["emails"])
    email = min(counts, key=lambda e: (-counts[e], e))
    local, domain = email.split("@")
    spelled = f"{local.upper()} (at) {domain.replace('.', ' dot ')}"
    expected = {ad for ad, record in world_truth.items() if email in record["emails"]}
    assert found(store, emails=tuple(email_keys(spelled))) == expected


# ------------------------------------------------------------------ photos


def shared_photo(world_ads, world_truth) -> tuple[str, str]:
    """(file, base photo id) of the world photo most ads carry: a real photo, not stock, not damaged."""
    damaged = {name for ad in world_ads.values() for name in ad["image_faults"]}
    counts = Counter(name for ad in world_ads.values() for name in ad["images"]
                     if not name.startswith("stock/") and name not in damaged)
    name = min(counts, key=lambda n: (-counts[n], n))
    base = next(i["base_id"] for record in world_truth.values() for i in record["images"] if i["file"] == name)
    return name, base


def resized_and_reencoded(image: Image.Image) -> Image.Image:
    return image.resize((image.width // 2, image.height // 2), Image.Resampling.BILINEAR)


@pytest.mark.parametrize("transform", [resized_and_reencoded, ImageOps.mirror], ids=["resized", "mirrored"])
def test_photo_search_finds_every_ad_carrying_the_photo(enriched_world, world_ads, world_truth, tmp_path, transform):
    store, world, _ = enriched_world
    name, base = shared_photo(world_ads, world_truth)
    probe = tmp_path / "probe.jpg"
    with Image.open(world / "images" / name) as original:
        transform(original.convert("RGB")).save(probe, "JPEG", quality=70)
    hits = found(store, photo=read_photo(probe))
    carriers = {ad for ad, record in world_ads.items() if name in record["images"]}
    assert len(carriers) >= 2
    assert carriers <= hits
    # Anything else found shows the same base photo (another variation of it), per the truth.
    for ad in hits:
        assert base in {i["base_id"] for i in world_truth[ad]["images"]}, ad


# ------------------------------------------------------------------ full text


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def ad_words(ad: dict) -> set[str]:
    return words(" ".join(ad[f] or "" for f in ("title", "body", "contact")))


def distinctive_phrase(world_ads, world_truth) -> tuple[str, str]:
    """(ad, three consecutive words of its body) whose words all appear in at most three ads."""
    vocabulary = {ad: ad_words(record) for ad, record in world_ads.items()}
    for ad in sorted(world_ads):
        if world_truth[ad]["text_variations"]:
            continue
        plain = [w for w in (t.strip(".,!?:;") for t in world_ads[ad]["body"].split()) if w.isalpha() and len(w) > 3]
        for i in range(len(plain) - 2):
            phrase = {w.lower() for w in plain[i:i + 3]}
            if sum(phrase <= v for v in vocabulary.values()) <= 3:
                return ad, " ".join(plain[i:i + 3])
    raise AssertionError("the world has no distinctive phrase")


def test_distinctive_phrase_finds_the_ads_holding_its_words(enriched_world, world_ads, world_truth):
    store = enriched_world[0]
    ad, phrase = distinctive_phrase(world_ads, world_truth)
    hits = found(store, text=phrase)
    holding = {other for other, record in world_ads.items() if words(phrase) <= ad_words(record)}
    assert ad in hits and holding <= hits
    # Any other hit can only come from folding leetspeak back to the words.
    assert all("leetspeak" in world_truth[other]["text_variations"] for other in hits - holding)


def test_plain_word_finds_the_ad_that_wrote_it_in_leetspeak(enriched_world, world_ads, world_truth):
    store = enriched_world[0]
    unleet = str.maketrans({"4": "a", "3": "e", "1": "i", "0": "o", "5": "s", "7": "t"})  # demo.text._LEET reversed
    for ad in sorted(world_ads):
        if "leetspeak" not in world_truth[ad]["text_variations"]:
            continue
        raw = ad_words(world_ads[ad])
        leet = [t for t in raw if re.fullmatch(r"[a-z]*[0-9][a-z0-9]*", t) and re.search("[a-z]", t)
                and t.translate(unleet).isalpha() and t.translate(unleet) not in raw]
        if leet:
            break
    else:
        raise AssertionError("no leetspeak ad in the world")
    plain = leet[0].translate(unleet)
    assert ad in found(store, text=plain)
