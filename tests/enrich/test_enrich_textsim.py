"""Text verification score for candidate pairs."""

from enrich.textsim import DEFAULT_TEXT_THRESHOLD, text_similarity

A = "hi gentlemen my name is <name> new in <place> sweet and petite call <phone> real pictures no games"
B = "hi guys my name is <name> new in <place> sweet and petite real pictures no games call <phone>"
C = "selling my honda civic low miles one owner asking <price> call <phone> after six pm"


def test_reworded_template_scores_above_threshold():
    assert text_similarity(A, B) >= DEFAULT_TEXT_THRESHOLD


def test_unrelated_texts_score_below_threshold():
    assert text_similarity(A, C) < DEFAULT_TEXT_THRESHOLD


def test_identical_texts_score_one():
    assert text_similarity(A, A) == 1.0


def test_short_boilerplate_inside_a_long_ad_is_not_a_match():
    assert text_similarity("call <phone> real pictures", A) < DEFAULT_TEXT_THRESHOLD


def test_empty_text_scores_zero():
    assert text_similarity("", A) == 0.0


def test_token_set_scorer_rates_a_contained_text_as_identical():
    assert text_similarity("call <phone> real pictures", A, scorer="token_set") == 1.0
