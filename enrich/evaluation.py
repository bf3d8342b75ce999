"""Evaluation against a ground truth: pairwise and B-cubed precision / recall / F1.

Pure: predicted labels (ad -> cluster, singletons by their own id) and true labels (ad -> the
entity that posted it) for the same ads in, scores out. Only ads present in both are scored.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class Scores:
    ads: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    predicted_clusters: int  # of size >= 2
    true_clusters: int  # of size >= 2
    largest_predicted: int
    largest_predicted_purity: float
    largest_true: int
    evidence: dict[str, dict] = field(default_factory=dict)  # kind -> {links, precision}


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(predicted: dict[str, str], truth: dict[str, str],
          links: dict[str, list[tuple[str, str]]] | None = None) -> Scores:
    """`predicted` / `truth` map ad -> label; `links` maps evidence kind -> accepted (ad, ad) pairs."""
    ads = sorted(set(predicted) & set(truth))
    pred_groups: dict[str, list[str]] = defaultdict(list)
    true_groups: dict[str, list[str]] = defaultdict(list)
    for ad in ads:
        pred_groups[predicted[ad]].append(ad)
        true_groups[truth[ad]].append(ad)
    overlap = Counter((predicted[ad], truth[ad]) for ad in ads)
    tp = sum(_pairs(n) for n in overlap.values())
    pred_pairs = sum(_pairs(len(g)) for g in pred_groups.values())
    true_pairs = sum(_pairs(len(g)) for g in true_groups.values())
    pp = tp / pred_pairs if pred_pairs else 1.0
    pr = tp / true_pairs if true_pairs else 1.0
    bp = sum(overlap[(predicted[a], truth[a])] / len(pred_groups[predicted[a]]) for a in ads) / max(1, len(ads))
    br = sum(overlap[(predicted[a], truth[a])] / len(true_groups[truth[a]]) for a in ads) / max(1, len(ads))
    largest = max(pred_groups.values(), key=len, default=[])
    purity = max(Counter(truth[a] for a in largest).values()) / len(largest) if largest else 0.0
    evidence = {}
    for kind, pairs in (links or {}).items():
        judged = [(a, b) for a, b in pairs if a in truth and b in truth]
        right = sum(truth[a] == truth[b] for a, b in judged)
        evidence[kind] = {"links": len(judged), "precision": right / len(judged) if judged else 1.0}
    return Scores(
        ads=len(ads), pairwise_precision=pp, pairwise_recall=pr, pairwise_f1=_f1(pp, pr),
        bcubed_precision=bp, bcubed_recall=br, bcubed_f1=_f1(bp, br),
        predicted_clusters=sum(len(g) >= 2 for g in pred_groups.values()),
        true_clusters=sum(len(g) >= 2 for g in true_groups.values()),
        largest_predicted=len(largest), largest_predicted_purity=purity,
        largest_true=max((len(g) for g in true_groups.values()), default=0), evidence=evidence,
    )
