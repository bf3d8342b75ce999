"""The explorer's pure parts: the evidence graph from stored link records, identifier spans, the case file."""

from __future__ import annotations

import csv
import io
import json

from dashboards.explorer.casefile import case_files
from dashboards.explorer.evidence import evidence_graph
from dashboards.explorer.graph import AdNode, draw
from dashboards.explorer.spans import anchors, found_contacts, runs

BRIDGE = ("bridge telegram:x refused: alone it would join 6 ads (as s:b0; on 1) with 6 ads (as s:a0; on 1); "
          "no other evidence joins them")
HUB = "hub +18005550199 on 1500 ads: its ads are as varied as any 1500 ads (generality 0.91); not used"


def _links() -> dict[str, list[dict]]:
    return {
        "s:a0": [{"ad": "s:a1", "evidence": "identifier", "score": 1.0, "detail": "+44 shared by 3 ads"},
                 {"ad": "s:a1", "evidence": "text", "score": 0.95, "detail": "template text 95% alike"},
                 {"ad": "s:b0", "evidence": "identifier", "score": 0.0, "suppressed": True, "suppressed_by": "bridge",
                  "detail": BRIDGE},
                 {"ad": "s:a2", "evidence": "identifier", "score": 0.0, "suppressed": True, "suppressed_by": "hub",
                  "detail": HUB}],
        "s:a1": [{"ad": "s:a0", "evidence": "identifier", "score": 1.0, "detail": "+44 shared by 3 ads"},
                 {"ad": "s:a0", "evidence": "text", "score": 0.93, "detail": "template text 93% alike"},
                 {"ad": "s:zz", "evidence": "image", "score": 1.0, "detail": "photo pHash 0 dHash 0 bits apart"}],
        "s:a2": [{"ad": "s:a0", "evidence": "image", "score": 0.9, "suppressed": True, "suppressed_by": "hub",
                  "detail": f"photo pHash 2 dHash 3 bits apart; {HUB}"}],
    }


def test_link_records_become_one_edge_per_pair_and_type_keeping_the_strongest():
    graph = evidence_graph(_links())
    assert [(e.a, e.b, e.evidence, e.score) for e in graph.edges] == [
        ("s:a0", "s:a1", "identifier", 1.0), ("s:a0", "s:a1", "text", 0.95)]  # s:zz is no member: not drawn


def test_a_hub_is_one_node_touching_every_member_it_weakened_with_its_own_sentence():
    (hub,) = evidence_graph(_links()).hubs
    assert hub.key == "+18005550199" and hub.key_ads == 1500 and hub.ads == {"s:a0", "s:a2"}
    assert hub.detail == HUB  # the pair's photo distance is not part of the hub's sentence


def test_a_refused_bridge_names_its_key_parts_and_the_ads_outside_it_would_join():
    (bridge,) = evidence_graph(_links()).bridges
    assert bridge.key == "telegram:x" and bridge.ads == {"s:a0"} and bridge.outside == {"s:b0"}
    assert [(p.ads, p.sample, p.covered) for p in bridge.parts] == [(6, "s:b0", 1), (6, "s:a0", 1)]


def test_the_drawing_places_every_ad_hub_bridge_and_other_cluster_inside_the_picture():
    graph = evidence_graph(_links())
    ads = {d: AdNode(d, "s", d[2:], "Leeds", "2026-03-01", "t") for d in ("s:a0", "s:a1", "s:a2")}
    drawing = draw("c1", graph, ads, {"s:b0": "c2"})
    kinds = sorted(s.kind for s in drawing.shapes)
    assert kinds == ["ad", "ad", "ad", "bridge", "cluster", "hub"]
    assert next(s.href for s in drawing.shapes if s.kind == "cluster") == "/cluster/c2"
    assert all(0 <= s.x <= drawing.width and 0 <= s.y <= drawing.height for s in drawing.shapes)
    assert sorted(line.evidence for line in drawing.lines) == ["bridge", "bridge", "hub", "hub", "identifier", "text"]
    assert draw("c1", graph, ads, {"s:b0": "c2"}) == drawing  # the same cluster looks the same every time


def test_identifier_spans_are_highlighted_and_overlapping_ones_become_one_run():
    text = "Call 0612345678 on WhatsApp +31612345678 or mail x@y.org"
    contacts = [{"kind": "phone", "value": "0612345678", "normalised": "+31612345678", "field": "body",
                 "start": 5, "end": 15},
                {"kind": "phone", "value": "+31612345678", "normalised": "+31612345678", "field": "body",
                 "start": 28, "end": 40},
                {"kind": "handle", "value": "WhatsApp +31612345678", "normalised": "whatsapp:+31612345678",
                 "field": "body", "start": 19, "end": 40},
                {"kind": "email", "value": "x@y.org", "normalised": "x@y.org", "field": "contact_text",
                 "start": 0, "end": 7},
                {"kind": "phone", "value": "555", "normalised": "555", "field": "body", "start": 50, "end": 99}]
    parts = runs(text, contacts, "body")
    assert "".join(run.text for run in parts) == text
    assert [(run.text, run.contacts) for run in parts if run.contacts] == [
        ("0612345678", (0,)), ("WhatsApp +31612345678", (2, 1))]
    assert anchors([parts]) == {0: "span-0", 2: "span-2", 1: "span-2"}
    listed = found_contacts({"body": text, "contacts": contacts})
    assert (listed[0].before, listed[0].span, listed[0].after[:3]) == ("Call ", "0612345678", " on")
    assert listed[4].field == "" and listed[4].start is None  # offsets past the text: listed, not highlighted


def test_case_file_csv_defuses_formulas_while_the_json_keeps_values_as_they_are():
    ad = {"site": "s", "ad_id": "a0", "title": "=HYPERLINK(\"http://x\")", "body": "hi",
          "contacts": [{"kind": "phone", "value": "0612345678", "normalised": "+31612345678"}], "images": []}
    files = case_files({"cluster_id": "c1"}, [("s:a0", ad)], evidence_graph({"s:a0": []}), {}, "analyst-user",
                       "test", "2026-12-01T00:00:00+00:00")
    (row,) = csv.DictReader(io.StringIO(files["ads.csv"].decode()))
    assert row["title"] == "'=HYPERLINK(\"http://x\")" and row["phones"] == "'+31612345678"
    case = json.loads(files["case.json"])
    assert case["ads"][0]["title"] == ad["title"] and case["ads"][0]["doc_id"] == "s:a0"
    assert json.loads(files["manifest.json"])["exported_by"] == "analyst-user"
