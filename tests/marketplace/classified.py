"""django-classified (PyPI, MIT) as a real third-party marketplace on 127.0.0.1.

A Django project is made with `django-admin startproject` in a temp dir and set up the way its
README says (its app, sorl-thumbnail, the sites framework, its context processor); the demo
world's ads and photos are loaded through the app's own models (one account per ad, one area per
city, one group per category); waitress serves the project's WSGI application.

What the app itself decides, and the crawl has to live with:
- one currency for the whole site (`DCF_CURRENCY`, USD here), so ads the world prices in EUR
  or GBP show their amount in USD;
- a posting date shown only as "Posted: 3 weeks, 2 days ago" (Django's timesince), so the world's
  ads are placed in time as if its last day were today;
- no country field: an area's title carries the place, written as a site admin would
  ("Berlin, Berlin, Deutschland": the country in its own language);
- contact details only to logged-in visitors unless `DCF_LOGIN_TO_CONTACT = False` (set here: the
  crawler never logs in), and media files served by Django's static view (there is no web server
  in front of waitress).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from adwatch.engine import free_port

PROJECT = "classified_site"
SITE = "django-classified"  # crawler/sites/django-classified.yaml
FAST = ("--no-politeness",)

SETTINGS = '''
# --- added for the AdWatch test suite (django-classified's README setup) ---
INSTALLED_APPS += ["django.contrib.sites", "django.contrib.humanize", "sorl.thumbnail", "django_classified"]
SITE_ID = 1
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
TEMPLATES[0]["OPTIONS"]["context_processors"].append("django_classified.context_processors.common_values")
MEDIA_ROOT = BASE_DIR / "media"
MEDIA_URL = "/media/"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
DCF_SITE_NAME = "Loopback Classifieds"
DCF_CURRENCY = "USD"
DCF_LOGIN_TO_CONTACT = False
DCF_ITEM_PER_USER_LIMIT = 1000
'''

URLS = '''from django.conf import settings
from django.urls import include, path, re_path
from django.views.static import serve

urlpatterns = [
    path("", include("django_classified.urls", namespace="django_classified")),
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]
'''

NATIVE_LANGUAGE = {"DE": "de", "ES": "es", "FR": "fr", "IT": "it", "NL": "nl", "PL": "pl", "RO": "ro"}


def area_title(city: str, region: str, country: str) -> str:
    """How a site admin would write the place: the country's name in its own language."""
    from babel import Locale

    name = Locale.parse(NATIVE_LANGUAGE.get(country, "en")).territories[country]
    return ", ".join(dict.fromkeys([city, region, name]))


@dataclass
class ClassifiedSite:
    """A running django-classified project; `items` maps the world's ad ids to item primary keys,
    `shown` each of those ads as the site shows it (what a crawl should store)."""

    root: Path
    url: str
    process: subprocess.Popen
    now: dt.datetime  # the world's last day, as the site shows it
    items: dict[str, int] = field(default_factory=dict)
    shown: dict[str, dict] = field(default_factory=dict)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def create_project(root: Path) -> None:
    """`django-admin startproject`, the app's settings and URLs, `migrate`: all in `root`."""
    root.mkdir(parents=True, exist_ok=True)
    django_admin = Path(sys.executable).with_name("django-admin")
    subprocess.run([str(django_admin), "startproject", PROJECT, str(root)], check=True, capture_output=True)
    settings = root / PROJECT / "settings.py"
    settings.write_text(settings.read_text() + SETTINGS)
    (root / PROJECT / "urls.py").write_text(URLS)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=root, check=True, capture_output=True,
                   env={**os.environ, "DJANGO_SETTINGS_MODULE": f"{PROJECT}.settings"})


def setup_django(root: Path) -> None:
    """Make the project's models usable from this process (the tests edit ads through them)."""
    import django

    sys.path.insert(0, str(root))
    os.environ["DJANGO_SETTINGS_MODULE"] = f"{PROJECT}.settings"
    # Other tests of the session keep Playwright's sync API open, whose event loop counts as
    # running in this thread; our ORM calls are plain synchronous ones, which is what this allows.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    django.setup()


def load_world(world: Path, flavour: str = "html", day: int | None = None
               ) -> tuple[dict[str, int], dict[str, dict], dt.datetime]:
    """The world's live `flavour` ads on `day` (default: its last) as django-classified items, with
    their photos; returns world ad id -> item pk, world ad id -> the ad as shown, and the moment
    the world's `day` is made to be (now)."""
    from django_classified.models import Group, Section

    from demo.text import CATEGORY_LABELS

    section = Section.objects.create(title="Classifieds")
    for label in CATEGORY_LABELS.values():
        Group.objects.create(title=label, section=section)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    items: dict[str, int] = {}
    shown: dict[str, dict] = {}
    for ad, live, images_dir, day_shown in _live_ads(world, flavour, day):
        items[ad.ad_id], shown[ad.ad_id] = _create_item(ad, live, images_dir, now - dt.timedelta(days=day_shown))
    return items, shown, now


def add_items(world: Path, flavour: str, count: int) -> dict[int, str]:
    """`count` more of the world's live `flavour` ads posted now (ads the site does not have yet):
    item pk -> title."""
    from django_classified.models import Item

    have = set(Item.objects.values_list("description", flat=True))
    added = {}
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    for ad, live, images_dir, _ in _live_ads(world, flavour, None):
        if len(added) == count:
            break
        if live.body in have:
            continue
        pk, _shown = _create_item(ad, live, images_dir, now - dt.timedelta(days=live.updated_day))
        added[pk] = live.title
    return added


def _live_ads(world: Path, flavour: str, day: int | None):
    """(ad, its state on `day`, the images dir, `day` shifted so the world's day 0 is `day` days ago)."""
    from demo.views import LiveAd, live_state
    from demo.world import load_world as read_world

    loaded = read_world(world)
    day = loaded.days - 1 if day is None else day
    for ad in loaded.ads:
        live = live_state(ad, day)
        if ad.flavour == flavour and isinstance(live, LiveAd):
            yield ad, live, loaded.images_dir, day


def _create_item(ad, live, images_dir: Path, day0: dt.datetime) -> tuple[int, dict]:
    """One item through the app's models: its poster's account and profile (the contact), its area
    and group, its photos; posted and updated on the world's days counted from `day0`."""
    from django.contrib.auth.models import User
    from django.core.files import File
    from django_classified.models import Area, Group, Image, Item, Profile

    from demo.text import CATEGORY_LABELS

    title = area_title(ad.city, ad.region, ad.country)
    area = Area.objects.filter(title=title).first() or Area.objects.create(
        title=title, slug=f"area-{Area.objects.count() + 1}")
    user = User.objects.create(username=f"poster-{ad.ad_id.lower()}")
    Profile.objects.create(user=user, phone=ad.contact or None)
    item = Item.objects.create(user=user, group=Group.objects.get(title=CATEGORY_LABELS[ad.category]), area=area,
                               title=live.title, description=live.body, price=live.price, is_active=True)
    for name in ad.images:
        with (images_dir / name).open("rb") as photo:
            Image.objects.create(item=item, file=File(photo, name=Path(name).name))
    posted = day0 + dt.timedelta(days=ad.first_day)
    Item.objects.filter(pk=item.pk).update(posted=posted, updated=day0 + dt.timedelta(days=live.updated_day))
    shown = {"title": live.title, "body": live.body, "price": live.price, "currency": ad.currency, "city": ad.city,
             "country": ad.country, "posted": posted, "category": CATEGORY_LABELS[ad.category],
             "contact": ad.contact,
             "photos": [hashlib.sha256((images_dir / n).read_bytes()).hexdigest() for n in ad.images]}
    return item.pk, shown


def serve(root: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """waitress serving the project's WSGI application on 127.0.0.1; returns once it answers."""
    port = port or free_port()
    log = (root / "waitress.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", "4",
         f"{PROJECT}.wsgi:application"],
        cwd=root, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": f"{PROJECT}.settings", "PYTHONPATH": str(root)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/robots.txt", timeout=5) as reply:
                reply.read()
            return process, url
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"waitress did not serve {root}; see {root / 'waitress.log'}")
            time.sleep(0.2)


def start(root: Path, world: Path) -> ClassifiedSite:
    create_project(root)
    setup_django(root)
    items, shown, now = load_world(world)
    process, url = serve(root)
    return ClassifiedSite(root, url, process, now, items, shown)
