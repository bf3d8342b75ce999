"""Per-analyst access on a secured node: the explorer reads as whoever signed in, so Elasticsearch's roles decide.

The node is this module's own (security on, file realm, the shipped adwatch/roles.yml plus one role
that may read clusters and runs but not ads, trial license for the researcher's field-level
security), holding the bridge world written by the admin.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from bridge_world import PHOTO_AD, build_bridge_world
from engine_nodes import node_of_its_own
from explorer_server import explorer_command

from adwatch.config import load_settings
from adwatch.engine import Account, Security
from adwatch.store import Store, connect

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "explorer-test-password"
NO_ADS_ROLE = """
# Test only: sees clusters and crawl runs, not one ad.
adwatch_no_ads:
  cluster: [monitor]
  indices:
    - names: ["adwatch-clusters", "adwatch-clusters-*", "adwatch-runs", "adwatch-runs-*"]
      privileges: [read, view_index_metadata]
"""
USERS = {"analyst-user": "adwatch_analyst", "researcher-user": "adwatch_researcher", "no-ads-user": "adwatch_no_ads",
         "admin-user": "adwatch_admin"}


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """(explorer, store as admin) on a secured node holding the bridge world."""
    roles = Path(tempfile.mkdtemp(prefix="adwatch-explorer-roles-")) / "roles.yml"
    roles.write_text((ROOT / "adwatch" / "roles.yml").read_text() + NO_ADS_ROLE)
    roles.parent.chmod(0o755)
    security = Security(superuser=Account("root-user", PASSWORD),
                        users=tuple(Account(user, PASSWORD, (role,)) for user, role in USERS.items()),
                        roles_file=roles, license="trial")
    images = tmp_path_factory.mktemp("secured-images")
    with node_of_its_own("explorer-secured", security) as node:
        url = node.state().url
        admin = Store(connect(load_settings(es_url=url, es_username="admin-user", es_password=PASSWORD)), "adwatch")
        build_bridge_world(admin, images)
        with explorer_command(url, "adwatch", images) as explorer:
            yield explorer, admin


def _sign_in(page, explorer, user: str, password: str = PASSWORD, then: str = "/") -> None:
    page.goto(explorer(then))
    assert "/signin" in page.url
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("form.signin button[type=submit]")


def _a_cluster(admin: Store) -> str:
    return admin.client.search(index=admin.clusters, size=1, sort=[{"size": "desc"}])["hits"]["hits"][0]["_id"]


def test_the_secured_explorer_says_each_analyst_signs_in(secured):
    explorer, _ = secured
    assert "is secured: each analyst signs in with their own user or API key" in explorer.said


def test_an_analyst_signs_in_sees_the_cluster_and_signs_out(secured, page):
    explorer, admin = secured
    cluster_id = _a_cluster(admin)
    _sign_in(page, explorer, "analyst-user", then=f"/cluster/{cluster_id}")
    assert page.inner_text("h1") == f"Cluster {cluster_id}"  # back where they were going
    assert "analyst-user" in page.inner_text("form.who")
    (cookie,) = page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and PASSWORD not in cookie["value"]
    assert page.locator("#ads a").count() > 0
    page.click("form.who button")
    page.goto(explorer(f"/cluster/{cluster_id}"))
    assert "/signin" in page.url


def test_a_user_without_read_on_ads_is_refused_and_told_which_privilege(secured, page):
    explorer, admin = secured
    _sign_in(page, explorer, "no-ads-user", then=f"/cluster/{_a_cluster(admin)}")
    assert page.inner_text("h1") == "Elasticsearch refused"
    said = page.inner_text("p.problem")
    assert "no-ads-user" in said and "adwatch-ads" in said and "read" in said
    response = page.goto(explorer("/ad/demo-html:BA000"))
    assert response.status == 403


def _photo(admin: Store) -> str:
    hit = admin.client.search(index=admin.ads, query={"ids": {"values": [PHOTO_AD]}}, source=["images"])
    return hit["hits"]["hits"][0]["_source"]["images"][0]["sha256"]


def test_the_analyst_gets_the_photo_and_the_researcher_neither_ad_text_nor_photo(secured, page, chromium):
    explorer, admin = secured
    sha256 = _photo(admin)
    _sign_in(page, explorer, "analyst-user", then=f"/ad/{PHOTO_AD}")
    assert page.locator(f"button.photo[data-sha256='{sha256}']").count() == 1
    assert page.request.get(explorer(f"/photo/{sha256}")).status == 200

    researcher = chromium.new_context()
    try:
        tab = researcher.new_page()
        _sign_in(tab, explorer, "researcher-user", then=f"/ad/{PHOTO_AD}")
        assert "BA001" in tab.inner_text("h1")
        assert "Wanted" not in tab.inner_text("main")  # field-level security hides titles, texts and contacts
        assert tab.locator("#contacts").count() == 0 and tab.locator("button.photo").count() == 0
        assert tab.request.get(explorer(f"/photo/{sha256}")).status == 404  # the image store has no roles: we ask
    finally:
        researcher.close()


def test_a_wrong_password_is_refused_on_the_sign_in_page(secured, page):
    explorer, _ = secured
    _sign_in(page, explorer, "analyst-user", password="not-the-password")
    assert "/signin" in page.url
    assert "did not accept these credentials" in page.inner_text("p.problem")
