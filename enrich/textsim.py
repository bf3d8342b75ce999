"""Verification of text candidates: how alike two slot-masked ad texts are, in [0, 1].

Scorer: RapidFuzz `token_sort_ratio` (word order ignored, then edit-distance similarity). Measured
with bench/enrich_textsim.py on synthetic controllers (template copies with synonyms, leetspeak,
reordered and dropped sentences, against ads of other controllers built from the same sentence
pool): best F1 0.996 at 0.74, against 0.991 for `ratio` and 0.993 for `token_set_ratio`.
`token_set_ratio` also scores 1.0 whenever one text's words are a subset of the other's, so a short
boilerplate ad would match every long ad containing it: a hub maker. `partial_ratio` is never used
on whole bodies for the same reason.
"""

from __future__ import annotations

from rapidfuzz import fuzz

DEFAULT_TEXT_THRESHOLD = 0.74
"""Score at or above which a text candidate pair counts as the same template (synthetic measurement)."""


def text_similarity(a_masked: str, b_masked: str) -> float:
    """Similarity of two masked, normalised texts in [0, 1]: token_sort_ratio / 100.

    Inputs should come from `mask_slots(normalise_text(...).text)`; no further processing is done.
    Either text empty gives 0.0 (an empty ad is not evidence of anything). Short texts score high
    easily; the linker should require a minimum length before trusting a text edge.
    """
    if not a_masked or not b_masked:
        return 0.0
    return fuzz.token_sort_ratio(a_masked, b_masked) / 100.0
