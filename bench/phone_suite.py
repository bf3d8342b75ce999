"""Benchmark: phones (and handles) on the obfuscation suite, per class, per language, dev vs held-out.

Usage: python bench/phone_suite.py [--baseline-ref REF] [--show N]
Three extractors side by side on tests/enrich/phone_cases/{dev,held_out,fresh}.txt:
  * matcher: phonenumbers' PhoneNumberMatcher alone (leniency VALID), on each field;
  * baseline: AdWatch's extract_ad_contacts as of --baseline-ref (default: the commit before the
    multilingual work), loaded from `git show` into a temporary package in a subprocess;
  * current: this working tree.
Prints recall and precision (micro over (case, phone) pairs) with tp/fp/fn, the ratio to the
issue 11 targets (recall 0.97, precision 0.99), handle figures where cases list handles, and the
current extractor's misses. The dev part is what the extractor was tuned on; held-out was reported on
(two bugs it showed were fixed, with dev cases for them); fresh was written after all tuning.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "enrich"))

from phone_cases.suite import (  # noqa: E402
    PARTS,
    TARGET_PRECISION,
    TARGET_RECALL,
    Case,
    Found,
    load_cases,
    recall_precision,
    score,
    score_case,
)

BASELINE_REF = "c683daa"
"""main before issue 11's extraction work (English-only number words, no handle validity)."""
_BASELINE_FILES = ("__init__.py", "contact.py", "digit_runs.py", "normalise.py", "phones.py", "identifiers.py")


def current(cases: list[Case]) -> list[list[Found]]:
    from enrich.identifiers import extract_ad_contacts

    return [[Found(c.kind, c.normalised, c.placeholder) for c in extract_ad_contacts(case.fields, case.country)]
            for case in cases]


def matcher(cases: list[Case]) -> list[list[Found]]:
    import phonenumbers

    out = []
    for case in cases:
        found = []
        for text in case.fields.values():
            for match in phonenumbers.PhoneNumberMatcher(text, case.country, leniency=phonenumbers.Leniency.VALID):
                found.append(Found("phone", phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)))
        out.append(found)
    return out


_RUN_BASELINE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from enrich.identifiers import extract_ad_contacts
cases = json.load(sys.stdin)
print(json.dumps([[(c.kind, c.normalised, c.placeholder) for c in extract_ad_contacts(f, country)] for f, country in cases]))
"""


def baseline(cases: list[Case], ref: str) -> list[list[Found]]:
    """The extractor as of git `ref`, run in a subprocess that imports it from a temporary copy."""
    with tempfile.TemporaryDirectory(prefix="adwatch-phone-baseline-") as tmp:
        package = Path(tmp) / "enrich"
        package.mkdir()
        for name in _BASELINE_FILES:
            shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:enrich/{name}"], capture_output=True, text=True)
            if shown.returncode != 0:
                raise SystemExit(f"git show {ref}:enrich/{name} failed ({shown.stderr.strip()}); give --baseline-ref a commit of this repository.")
            (package / name).write_text(shown.stdout, encoding="utf-8")
        done = subprocess.run([sys.executable, "-c", _RUN_BASELINE, tmp], input=json.dumps([(c.fields, c.country) for c in cases]),
                              capture_output=True, text=True, check=True)
    return [[Found(*row) for row in rows] for rows in json.loads(done.stdout)]


_PART_NOTES = {
    ("part", "dev"): " (tuned on)",
    ("part", "held_out"): " (reported; 2 bugs it showed fixed)",
    ("part", "fresh"): " (written after tuning)",
}


def _figures(counts) -> str:
    recall, precision = recall_precision(counts)
    positives = counts["tp"] + counts["fn"]
    shown_recall = f"{recall:.3f}" if positives else "  -  "
    return f"R {shown_recall} P {precision:.3f} ({counts['tp']:3d}/{counts['fp']:2d}/{counts['fn']:2d})"


def report(cases: list[Case], results: dict[str, list[list[Found]]], show: int) -> None:
    names = list(results)
    tallies = {name: score(cases, lambda case, found=dict(zip(map(id, cases), results[name])): found[id(case)])
               for name in names}
    header = "".join(f"{name:>32s}" for name in names)
    print(f"{'phones (recall, precision, tp/fp/fn)':52s}{header}")
    keys = [("all", "all")] + [("part", p) for p in PARTS]
    keys += sorted(k for k in tallies[names[-1]] if k[0] == "class")
    keys += sorted(k for k in tallies[names[-1]] if k[0] == "lang")
    for key in keys:
        label = "overall" if key[0] == "all" else f"{key[0]} {key[1]}" + _PART_NOTES.get(key, "")
        row = "".join(f"{_figures(tallies[n][key].phone) if key in tallies[n] else '':>32s}" for n in names)
        print(f"  {label:50s}{row}")
    print("handles (cases that list them)")
    for key in [("all", "all")] + [("part", p) for p in PARTS]:
        row = "".join(f"{_figures(tallies[n][key].handle):>32s}" for n in names)
        print(f"  {'overall' if key[0] == 'all' else key[1]:50s}{row}")
    print(f"ratio to targets (recall {TARGET_RECALL}, precision {TARGET_PRECISION}):")
    for part in ("all",) + PARTS:
        key = ("all", "all") if part == "all" else ("part", part)
        cells = []
        for n in names:
            recall, precision = recall_precision(tallies[n][key].phone)
            cells.append(f"x{recall / TARGET_RECALL:.3f} / x{precision / TARGET_PRECISION:.3f}")
        print(f"  {part:50s}" + "".join(f"{c:>32s}" for c in cells))
    misses = [(case, found) for case, found in zip(cases, results[names[-1]])
              if (t := score_case(case, found)).phone["fp"] or t.phone["fn"] or t.handle["fp"] or t.handle["fn"]]
    print(f"{names[-1]}: {len(misses)} of {len(cases)} cases not right" + (":" if misses and show else ""))
    for case, found in misses[:show]:
        got = sorted(f"{f.kind}:{f.normalised}{' (placeholder)' if f.placeholder else ''}" for f in found)
        print(f"  {case.part}:{case.line} {case.cls} {case.lang} {case.country} want {sorted(case.phones)}"
              f"{' placeholder' if case.placeholder else ''} handles {sorted(case.handles) if case.handles is not None else '-'}; got {got}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-ref", default=BASELINE_REF, help="git commit of the baseline extractor")
    parser.add_argument("--show", type=int, default=40, help="misses of the current extractor to print")
    args = parser.parse_args()
    cases = [case for part in PARTS for case in load_cases(part)]
    print(f"suite: {len(cases)} cases ({', '.join(f'{p} {sum(c.part == p for c in cases)}' for p in PARTS)}); "
          f"{len({c.cls for c in cases})} classes, {len({c.lang for c in cases})} languages")
    results = {"matcher": matcher(cases), f"baseline {args.baseline_ref}": baseline(cases, args.baseline_ref),
               "current": current(cases)}
    report(cases, results, args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
