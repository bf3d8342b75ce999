"""Site definitions: the shipped ones validate; a bad one names the file, the key and the problem."""

from __future__ import annotations

import pytest

from crawler.sites import SiteError, expand_placeholders, known_sites, load_site

GOOD = """
site: {name}
start_urls: ["${{ADWATCH_DEMO_URL}}/html/"]
allowed_domains: ["127.0.0.1"]
listing:
  entry: "css:li.listing-item"
  link: "css:a.item-link::attr(href)"
detail:
  ad_id: "xpath://div/@data-ad-id"
  title: "css:h1"
  body: "css:div.body"
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_shipped_definitions_validate():
    assert {"demo-html"} <= set(known_sites())
    for name in known_sites():
        assert load_site(name).site == name


def test_demo_url_placeholder_defaults_to_loopback_and_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("ADWATCH_DEMO_URL", raising=False)
    assert load_site(write(tmp_path, "a", GOOD.format(name="a"))).start_urls == ["http://127.0.0.1:8765/html/"]
    monkeypatch.setenv("ADWATCH_DEMO_URL", "http://127.0.0.1:9999/")
    assert load_site(write(tmp_path, "a", GOOD.format(name="a"))).start_urls == ["http://127.0.0.1:9999/html/"]


def test_unset_placeholder_without_default_is_an_error():
    with pytest.raises(SiteError, match="NOPE_NOT_SET"):
        expand_placeholders("${NOPE_NOT_SET}/x", env={})


def test_missing_key_names_file_and_key_and_what_to_write(tmp_path):
    path = write(tmp_path, "b", GOOD.format(name="b").replace('  link: "css:a.item-link::attr(href)"\n', ""))
    with pytest.raises(SiteError) as err:
        load_site(path)
    assert str(path) in str(err.value) and "listing.link" in str(err.value) and "write e.g. link:" in str(err.value)


def test_bad_selector_is_rejected_on_load(tmp_path):
    path = write(tmp_path, "c", GOOD.format(name="c").replace("xpath://div/@data-ad-id", "xpath://div[@"))
    with pytest.raises(SiteError) as err:
        load_site(path)
    assert "detail.ad_id" in str(err.value) and "invalid xpath selector" in str(err.value)


def test_unknown_key_is_rejected(tmp_path):
    path = write(tmp_path, "d", GOOD.format(name="d") + "politness: {delay_s: 1}\n")
    with pytest.raises(SiteError, match="politness"):
        load_site(path)


def test_start_url_outside_allowed_domains_is_rejected(tmp_path):
    path = write(tmp_path, "e", GOOD.format(name="e").replace('["127.0.0.1"]', '["example.org"]'))
    with pytest.raises(SiteError, match="outside allowed_domains"):
        load_site(path)


def test_browser_render_requires_wait_for(tmp_path):
    path = write(tmp_path, "f", GOOD.format(name="f") + "render: browser\n")
    with pytest.raises(SiteError, match="wait_for"):
        load_site(path)


def test_file_name_and_site_key_must_agree(tmp_path):
    with pytest.raises(SiteError, match="make them match"):
        load_site(write(tmp_path, "g", GOOD.format(name="other")))


def test_unknown_site_lists_the_known_ones():
    with pytest.raises(SiteError, match="demo-html"):
        load_site("no-such-site")
