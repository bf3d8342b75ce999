"""The case file of a cluster: its ads and its evidence, raw, for the analyst who may see them (pure).

Unlike the researcher exports (`adwatch export`: pseudonyms, suppressed counts), a case file holds
what the analyst's own credentials read: ad texts, contacts, URLs, photo hashes, every accepted
link and every refusal with its reason. Files: `ads.csv` (one row per ad), `evidence.csv` (one
row per accepted link between two ads and per ad a hub or refused bridge touched), `case.json`
(the cluster document, the ads and the evidence, whole) and `manifest.json` (who exported what,
when, from which index, and each file's SHA-256); the zip holds all four. CSV cells a
spreadsheet would run as a formula (`=`, `+`, `-`, `@` ...) are written with a leading
apostrophe (defusedcsv): ad text is written by strangers. `case.json` keeps every value as is.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence

from defusedcsv import csv

from adwatch import __version__
from dashboards.explorer.evidence import EvidenceGraph

AD_COLUMNS = ["doc_id", "site", "ad_id", "url", "first_seen", "last_seen", "removed_at", "status", "category",
              "title", "body", "contact_text", "price", "currency", "city", "region", "country",
              "country_inferred", "language", "phones", "emails", "handles", "photos", "links"]
EVIDENCE_COLUMNS = ["ad_a", "ad_b", "evidence", "score", "detail", "refused_by", "key", "would_join_cluster"]
NOTE = ("Raw data an analyst may see: ad texts and contacts of people who may be victims. Keep it where your "
        "organisation's case rules say; researchers get `adwatch export` instead (pseudonymised).")


def _joined(values) -> str:
    return ";".join(str(v) for v in values if v not in (None, ""))


def ad_row(doc_id: str, ad: dict) -> dict:
    contacts = ad.get("contacts") or []

    def of(kind: str) -> str:
        return _joined(dict.fromkeys(c.get("normalised") or c.get("value") for c in contacts if c.get("kind") == kind))

    row = {name: ad.get(name) for name in AD_COLUMNS}
    row.update(doc_id=doc_id, phones=of("phone"), emails=of("email"), handles=of("handle"),
               photos=_joined(image.get("sha256") for image in ad.get("images") or []),
               links=len(ad.get("links") or []))
    return row


def evidence_rows(graph: EvidenceGraph, clusters_of: dict[str, str]) -> list[dict]:
    rows = [{"ad_a": e.a, "ad_b": e.b, "evidence": e.evidence, "score": e.score, "detail": e.detail}
            for e in graph.edges]
    for refusal in graph.refusals:
        joins = _joined(sorted({clusters_of.get(ad, "") for ad in refusal.outside}))
        for ad in sorted(refusal.ads):
            rows.append({"ad_a": ad, "ad_b": "", "evidence": refusal.kind, "score": None, "detail": refusal.detail,
                         "refused_by": refusal.kind, "key": refusal.key, "would_join_cluster": joins})
    return rows


def _csv(columns: Sequence[str], rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return out.getvalue().encode("utf-8")


def case_files(cluster: dict, ads: list[tuple[str, dict]], graph: EvidenceGraph, clusters_of: dict[str, str],
               exported_by: str, source: str, exported_at: str) -> dict[str, bytes]:
    """name -> bytes of the case file's four files; `ads` oldest first, `source` names index and cluster."""
    evidence = evidence_rows(graph, clusters_of)
    case = {"cluster": cluster, "ads": [{"doc_id": doc_id, **ad} for doc_id, ad in ads], "evidence": evidence,
            "refusals": [{"kind": r.kind, "key": r.key, "detail": r.detail, "ads": sorted(r.ads),
                          "key_ads": r.key_ads or None,
                          "would_join_clusters": sorted({clusters_of.get(a, "") for a in r.outside} - {""})}
                         for r in graph.refusals]}
    files = {"ads.csv": _csv(AD_COLUMNS, [ad_row(doc_id, ad) for doc_id, ad in ads]),
             "evidence.csv": _csv(EVIDENCE_COLUMNS, evidence),
             "case.json": (json.dumps(case, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")}
    manifest = {"cluster_id": cluster.get("cluster_id"), "exported_at": exported_at,
                "exported_by": exported_by or "(open cluster: no sign-in)", "source": source,
                "adwatch_version": __version__, "ads": len(ads), "evidence_rows": len(evidence), "note": NOTE,
                "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                          for name, data in files.items()}}
    files["manifest.json"] = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8")
    return files


def zipped(files: dict[str, bytes], folder: str) -> bytes:
    """The files in one zip, under `folder/`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"{folder}/{name}", data)
    return out.getvalue()
