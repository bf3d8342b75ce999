"""Verification of text candidates: how alike two normalised ad texts are, in [0, 1].

Default scorer: RapidFuzz `token_sort_ratio` (word order ignored, then edit-distance similarity).
Measured with `bench/enrich_textsim.py` on the pairs MinHash blocking produces (same poster = match):

    scorer              synthetic controllers (6k ads)     demo world seed 11 (8k ads, masked text)
    ratio               F1 0.976 at 0.63, 6 us/pair        F1 0.391 at 0.90
    token_sort_ratio    F1 0.979 at 0.79, 21 us/pair       F1 0.437 at 0.89
    token_set_ratio     F1 0.943 at 0.87, 25 us/pair       F1 0.533 at 0.95

In the demo world independent posters draw sentences from the same small pools as controllers, so
text alone cannot tell them apart (on unmasked normalised text token_set_ratio reaches F1 0.60):
text edges there must be weighed with identifier and image evidence. `token_set_ratio` scores 1.0
whenever one text's words are a subset of the other's, so a short boilerplate ad would match every
long ad containing it — a hub maker; it is available but not the default. `partial_ratio` is never
offered, for the same reason.
"""

from __future__ import annotations

from typing import Literal

from rapidfuzz import fuzz

DEFAULT_TEXT_THRESHOLD = 0.79
"""token_sort_ratio score at or above which a candidate pair counts as one template (best F1 on synthetic controllers)."""

Scorer = Literal["token_sort", "token_set", "ratio"]
_SCORERS = {"token_sort": fuzz.token_sort_ratio, "token_set": fuzz.token_set_ratio, "ratio": fuzz.ratio}


def text_similarity(a_text: str, b_text: str, scorer: Scorer = "token_sort") -> float:
    """Similarity of two normalised (usually slot-masked) texts in [0, 1]; RapidFuzz score / 100.

    Inputs should come from `normalise_text` (and `mask_slots`); no further processing is done.
    Either text empty gives 0.0 (an empty ad is not evidence of anything). Short texts score high
    easily; the linker should require a minimum length before trusting a text edge.
    """
    if not a_text or not b_text:
        return 0.0
    return _SCORERS[scorer](a_text, b_text) / 100.0
