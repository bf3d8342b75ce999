"""Verification of text candidates: how alike two normalised ad texts are, in [0, 1].

Default scorer: the mean of RapidFuzz `token_sort_ratio` and `token_set_ratio`. Measured with
`bench/enrich_textsim.py` on the pairs MinHash blocking produces (same poster = match), best F1 and
its threshold, and F1 at one shared threshold:

    scorer                 demo world seed 11 (8k ads)   synthetic controllers (6k)   F1 at 0.86 (world / synth)
    ratio                  0.737 at 0.84                 0.976 at 0.63                -
    token_sort_ratio       0.933 at 0.84                 0.979 at 0.79                0.921 / 0.848
    token_set_ratio        0.972 at 0.92                 0.943 at 0.87                0.827 / 0.908
    mean(sort, set)        0.961 at 0.88                 0.978 at 0.82                0.947 / 0.961

The mean is never far from the best on either corpus, where each single scorer loses on one of them.
It also tempers `token_set_ratio`'s flaw: that scores 1.0 whenever one text's words are a subset of
the other's, so a short boilerplate ad would match every long ad containing it (a hub maker);
`token_sort_ratio` keeps such a pair low. `partial_ratio` is never offered, for the same reason.
Cost: ~19 us per pair (both scorers), against ~10 us for one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from rapidfuzz import fuzz

DEFAULT_TEXT_THRESHOLD = 0.86
"""Default-scorer score at or above which a pair counts as one template (best shared F1 over both corpora)."""

Scorer = Literal["sort_set_mean", "token_sort", "token_set", "ratio"]


def _sort_set_mean(a: str, b: str) -> float:
    return (fuzz.token_sort_ratio(a, b) + fuzz.token_set_ratio(a, b)) / 2


_SCORERS: dict[str, Callable[[str, str], float]] = {
    "sort_set_mean": _sort_set_mean,
    "token_sort": fuzz.token_sort_ratio,
    "token_set": fuzz.token_set_ratio,
    "ratio": fuzz.ratio,
}


def text_similarity(a_text: str, b_text: str, scorer: Scorer = "sort_set_mean") -> float:
    """Similarity of two normalised (usually slot-masked) texts in [0, 1]; RapidFuzz score / 100.

    Inputs should come from `normalise_text` (and `mask_slots`); no further processing is done.
    Either text empty gives 0.0 (an empty ad is not evidence of anything). Short texts score high
    easily; the linker should require a minimum length before trusting a text edge.
    """
    if not a_text or not b_text:
        return 0.0
    return _SCORERS[scorer](a_text, b_text) / 100.0
