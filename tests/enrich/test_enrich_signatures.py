"""MinHash signatures and LSH band keys: near-duplicates meet, unrelated texts do not."""

import pytest

from enrich.signatures import estimate_jaccard, lsh_band_keys, text_signature, word_shingles

TEMPLATE = (
    "hi gentlemen my name is <name> <age> new in <place> for a few days only sweet and petite girl next door "
    "ready to make your day <price> half hour <price> full hour no rush call or text <phone> real pictures "
    "no games no drama incall and outcall available discreet clean and classy"
)
VARIANT = (
    "hello guys my name is <name> <age> just arrived in <place> for a few days only sweet and petite girl next "
    "door ready to make your day <price> half hour <price> full hour no rush text <phone> real pictures "
    "no games no drama incall and outcall available discreet clean and classy"
)
UNRELATED = (
    "selling my 2012 honda civic low miles new tyres one owner full service history asking <price> "
    "call <phone> after six pm no time wasters cash only can deliver within <num> miles"
)


def test_near_duplicate_templates_share_a_band_key():
    assert set(lsh_band_keys(text_signature(TEMPLATE))) & set(lsh_band_keys(text_signature(VARIANT)))


def test_unrelated_texts_share_no_band_key():
    assert not set(lsh_band_keys(text_signature(TEMPLATE))) & set(lsh_band_keys(text_signature(UNRELATED)))


def test_signature_estimates_jaccard_of_shingle_sets():
    a, b = word_shingles(TEMPLATE), word_shingles(VARIANT)
    true_jaccard = len(a & b) / len(a | b)
    estimate = estimate_jaccard(text_signature(TEMPLATE), text_signature(VARIANT))
    assert abs(estimate - true_jaccard) < 0.1


def test_band_keys_are_stable_strings_with_band_index():
    keys = lsh_band_keys(text_signature(TEMPLATE))
    assert keys == lsh_band_keys(text_signature(TEMPLATE))
    assert len(keys) == 64
    assert keys[3].startswith("b03:") and len(keys[3]) == 4 + 16


def test_identical_texts_share_every_band_key():
    assert lsh_band_keys(text_signature(TEMPLATE)) == lsh_band_keys(text_signature(TEMPLATE))


def test_empty_text_has_no_band_keys():
    assert lsh_band_keys(text_signature("")) == []


def test_different_band_settings_never_share_keys():
    four_rows = set(lsh_band_keys(text_signature(TEMPLATE, num_perm=128, bands=32)))
    two_rows = set(lsh_band_keys(text_signature(TEMPLATE, num_perm=128, bands=64)))
    assert not {k.split(":")[1] for k in four_rows} & {k.split(":")[1] for k in two_rows}


def test_num_perm_must_divide_into_bands():
    with pytest.raises(ValueError, match="multiple of bands"):
        text_signature(TEMPLATE, num_perm=100, bands=32)


def test_short_text_is_one_shingle():
    assert word_shingles("hello") == {"hello"}


def test_band_keys_do_not_change_between_releases():
    # Keys are stored in the index; a change here silently stops old and new ads from meeting.
    keys = lsh_band_keys(text_signature("new in town call me for a good time"))
    assert keys[:2] == ["b00:0bab660bc7786267", "b01:6d6cab1c0cee3de0"]
