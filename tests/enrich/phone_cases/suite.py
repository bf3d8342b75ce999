"""The phone obfuscation suite: cases per class and language, and how extraction is scored on them.

Cases live in `dev.txt` (tuned on), `held_out.txt` (reported on; two bugs it showed were fixed, with
dev cases added for them) and `fresh.txt` (written last, after all tuning), one per line (format
in the files' headers). Scoring is micro over (case, phone) pairs: a found phone is a true positive
when the case expects it, a false positive otherwise; an expected phone not found is a false
negative. Placeholder phones found are never counted as phones; a case that expects a
placeholder scores one true positive when a flagged placeholder (phone or handle) is found.
Handles are scored the same way, apart, on the cases that list them.
Used by `bench/phone_suite.py` and `tests/enrich/test_phone_suite.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = ("dev", "held_out", "fresh")
TARGET_RECALL, TARGET_PRECISION = 0.97, 0.99
"""Issue 11's target for phones on the suite."""


@dataclass(frozen=True)
class Case:
    part: str
    line: int
    cls: str
    lang: str
    country: str
    fields: dict[str, str]
    phones: frozenset[str]
    placeholder: bool = False
    handles: frozenset[str] | None = None  # None: handles not scored on this case


@dataclass(frozen=True)
class Found:
    """One contact as an extractor reports it (kind, normalised value, placeholder flag)."""

    kind: str
    normalised: str
    placeholder: bool = False


def load_cases(part: str) -> list[Case]:
    """The cases of one part (one of PARTS); a malformed line raises ValueError naming file and line."""
    path = HERE / f"{part}.txt"
    cases = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        columns = [c.strip() for c in raw.split("||")]
        if len(columns) not in (5, 6):
            raise ValueError(f"{path}:{number}: expected 5 or 6 columns separated by '||', got {len(columns)}")
        cls, lang, country, text, phones = columns[:5]
        text = text.replace("\\n", "\n")
        title, _, body = text.rpartition(" // ")
        fields = {"title": title, "body": body} if title else {"body": body}
        handles = None
        if len(columns) == 6:
            handles = frozenset() if columns[5] == "-" else frozenset(columns[5].split())
        cases.append(
            Case(part, number, cls, lang, country, fields,
                 frozenset() if phones in ("-", "placeholder") else frozenset(phones.split()),
                 phones == "placeholder", handles)
        )
    return cases


@dataclass
class Tally:
    """True/false positives and false negatives, phones and handles apart."""

    phone: Counter = field(default_factory=Counter)
    handle: Counter = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.phone.update(other.phone)
        self.handle.update(other.handle)


def score_case(case: Case, found: Iterable[Found]) -> Tally:
    found = list(found)
    tally = Tally()
    got = {f.normalised for f in found if f.kind == "phone" and not f.placeholder}
    tally.phone["tp"] += len(got & case.phones)
    tally.phone["fp"] += len(got - case.phones)
    tally.phone["fn"] += len(case.phones - got)
    if case.placeholder:
        flagged = any(f.placeholder for f in found)
        tally.phone["tp" if flagged else "fn"] += 1
    if case.handles is not None:
        handles = {f.normalised for f in found if f.kind == "handle" and not f.placeholder}
        tally.handle["tp"] += len(handles & case.handles)
        tally.handle["fp"] += len(handles - case.handles)
        tally.handle["fn"] += len(case.handles - handles)
    return tally


def recall_precision(counts: Counter) -> tuple[float, float]:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return (tp / (tp + fn) if tp + fn else 1.0), (tp / (tp + fp) if tp + fp else 1.0)


def score(cases: list[Case], extract: Callable[[Case], list[Found]]) -> dict[tuple[str, str], Tally]:
    """Tallies keyed by ('all', 'all'), ('class', name), ('lang', code), ('part', name)."""
    tallies: dict[tuple[str, str], Tally] = {}
    for case in cases:
        tally = score_case(case, extract(case))
        for key in (("all", "all"), ("class", case.cls), ("lang", case.lang), ("part", case.part)):
            tallies.setdefault(key, Tally()).add(tally)
    return tallies
