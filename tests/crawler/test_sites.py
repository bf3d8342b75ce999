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


def problem(tmp_path, name: str, text: str) -> str:
    with pytest.raises(SiteError) as err:
        load_site(write(tmp_path, name, text))
    assert str(tmp_path / f"{name}.yaml") in str(err.value)
    return str(err.value)


def test_a_field_rule_names_its_key_and_what_to_write(tmp_path):
    base = GOOD.format(name="h")
    two_groups = problem(tmp_path, "h", base.replace('title: "css:h1"', "title: {select: 'css:h1', re: '(a)(b)'}"))
    assert "detail.title.re" in two_groups and "(?:...)" in two_groups
    no_source = problem(tmp_path, "h", base.replace('title: "css:h1"', "title: {re: '(a)'}"))
    assert "detail.title" in no_source and "exactly one source" in no_source and "write e.g." in no_source
    typo = problem(tmp_path, "h", base.replace('title: "css:h1"', "title: {select: 'css:h1', spilt: ','}"))
    assert "detail.title.spilt" in typo and "did you mean split?" in typo
    bad_path = problem(tmp_path, "h", base.replace('title: "css:h1"', "title: {data: 'offers..price'}"))
    assert "detail.title.data" in bad_path and "'offers.price'" in bad_path


def test_moved_and_unknown_keys_say_what_to_write_instead(tmp_path):
    moved = problem(tmp_path, "i", GOOD.format(name="i") + "country: US\n")
    assert "write defaults: {country: US}" in moved
    typo = problem(tmp_path, "i", GOOD.format(name="i") + "politness: {delay_s: 1}\n")
    assert "did you mean politeness?" in typo


def test_defaults_must_be_codes_and_zones_and_say_which(tmp_path):
    text = GOOD.format(name="j") + "defaults: {country: United States, currency: euro, timezone: Mars/Base}\n"
    message = problem(tmp_path, "j", text)
    assert "write US" in message and "defaults.currency" in message and "defaults.timezone" in message


def test_structured_off_needs_selectors_for_the_required_fields(tmp_path):
    text = GOOD.format(name="k").replace('  title: "css:h1"\n', "") + "structured: off\n"
    assert "detail.title is needed with structured: off" in problem(tmp_path, "k", text)
    assert load_site(write(tmp_path, "k", GOOD.format(name="k").replace('  title: "css:h1"\n', ""))).detail.title is None


def test_browser_actions_never_type_and_need_elements(tmp_path):
    text = GOOD.format(name="m") + ("render: browser\nbrowser:\n  wait_for: '#app'\n  actions:\n"
                                    "    detail: [{fill: 'css:input'}, {click: 'css:a::attr(href)'}, {scroll: 2, wait_ms: 5}]\n")
    message = problem(tmp_path, "m", text)
    assert "never types into pages" in message and "drop the ::text" in message and "exactly one of" in message


def test_a_value_of_the_wrong_type_says_what_to_write(tmp_path):
    message = problem(tmp_path, "n", GOOD.format(name="n") + "politeness: {delay_s: soon, concurrency: 99}\n")
    assert "politeness.delay_s" in message and "write a number" in message
    assert "politeness.concurrency" in message and "write a smaller number" in message
