"""The explorer's pages (Flask + Jinja2): search, cluster, ad, case file, photos, sign-in.

Every request runs as the signed-in analyst (see access.py). Responses are never cached by the
browser (they carry personal data); photos are served by sha256 only, and only to someone whose
credentials read an ad showing them. No page loads anything from another origin.
"""

from __future__ import annotations

import logging
import mimetypes
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from elasticsearch import AuthenticationException, AuthorizationException
from flask import Flask, Response, abort, g, redirect, render_template, request, send_file, url_for

from adwatch import __version__
from adwatch.errors import EngineUnavailable, PermissionDenied, UserError
from adwatch.retry import permission_denied
from dashboards.explorer import casefile, reading, searching
from dashboards.explorer.access import Access, Credentials, SignInRefused
from dashboards.explorer.evidence import refusal_of
from dashboards.explorer.spans import TEXT_FIELDS, anchors, found_contacts, runs

log = logging.getLogger(__name__)

COOKIE = "adwatch_explorer"
PHOTOS_SHOWN = 48  # photos in a cluster's grid before "show all"
UPLOAD_BYTES = 20 * 2**20
EVIDENCE_LABELS = {"identifier": "identifier", "image": "photo", "text": "text"}
CASE_FILES = ("ads.csv", "evidence.csv", "case.json", "manifest.json")
CSP = ("default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")


def create_app(access: Access, image_dir: Path) -> Flask:
    """The WSGI application for one cluster and index prefix; photos come from `image_dir`."""
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=UPLOAD_BYTES)
    app.jinja_env.globals.update(access=access, version=__version__, evidence_labels=EVIDENCE_LABELS)
    image_dir = Path(image_dir)

    @app.before_request
    def signed_in():
        if request.endpoint in ("static", "signin"):
            return None
        g.analyst = access.analyst(request.cookies.get(COOKIE))
        if g.analyst is None:
            return redirect(url_for("signin", next=request.full_path.rstrip("?")))
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    # ---------------------------------------------------------------- errors a person can act on

    def failed(status: int, title: str, message: str):
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(reading.Missing)
    def missing(exc):
        return failed(404, "Not found", str(exc))

    @app.errorhandler(UserError)
    def bad_input(exc):
        return failed(400, "Cannot do that", str(exc))

    @app.errorhandler(PermissionDenied)
    def denied(exc):
        return failed(403, "Elasticsearch refused", str(exc))

    @app.errorhandler(AuthorizationException)
    def refused(exc):
        return denied(permission_denied(exc, access.url, f"reading for {request.path}"))

    @app.errorhandler(AuthenticationException)
    def expired(exc):
        # The credentials stopped working (password changed, key revoked): sign in again.
        access.sign_out(request.cookies.get(COOKIE))
        return redirect(url_for("signin", next=request.full_path.rstrip("?"), expired=1))

    @app.errorhandler(EngineUnavailable)
    def unavailable(exc):
        return failed(503, "Elasticsearch does not answer", str(exc))

    @app.errorhandler(404)
    def no_page(exc):
        return failed(404, "Not found", "There is no such page, or no such photo for you: start again from the search.")

    @app.errorhandler(405)
    def wrong_method(exc):
        return failed(405, "Not like that", "That address does not take this kind of request; use the links and forms.")

    @app.errorhandler(413)
    def too_big(exc):
        return failed(413, "Photo too large", f"Uploads are limited to {UPLOAD_BYTES // 2**20} MiB; give a smaller "
                                              "photo.")

    # ---------------------------------------------------------------- signing in

    @app.route("/signin", methods=["GET", "POST"])
    def signin():
        target = _local(request.values.get("next"))
        if access.open:
            return redirect(target)
        problem = "Your session ended; sign in again." if request.args.get("expired") else ""
        if request.method == "POST":
            form = request.form
            try:
                token, analyst = access.sign_in(Credentials(form.get("username", ""), form.get("password", ""),
                                                            form.get("api_key", "")))
            except SignInRefused as exc:
                return render_template("signin.html", next=target, problem=str(exc),
                                       username=form.get("username", "")), 401
            log.info("explorer: %s signed in", analyst.name)
            response = redirect(target)
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure, path="/")
            return response
        return render_template("signin.html", next=target, problem=problem, username="")

    @app.post("/signout")
    def signout():
        access.sign_out(request.cookies.get(COOKIE))
        response = redirect(url_for("signin"))
        response.delete_cookie(COOKIE, path="/")
        return response

    # ---------------------------------------------------------------- pages

    @app.get("/")
    def home():
        store = g.analyst.store
        return render_template("home.html", largest=reading.largest_clusters(store), form={},
                               counts={"ads": store.count(store.ads), "clusters": store.count(store.clusters)})

    @app.route("/search", methods=["GET", "POST"])
    def search():
        store = g.analyst.store
        form = request.values
        photo, photo_name = None, ""
        upload = request.files.get("photo")
        if upload is not None and upload.filename:
            photo, photo_name = searching.read_upload(upload.read(), upload.filename), upload.filename
        elif form.get("photo_of"):
            sha256 = form["photo_of"]
            path = _shown_photo(sha256)
            photo, photo_name = searching.read_stored_photo(path, sha256), f"photo {sha256[:12]}"
        if searching.is_empty(form, photo):
            return redirect(url_for("home"))
        query, readings = searching.search(store, form, photo)
        results = searching.grouped(store, query, form.get("phone", "").strip(), readings, reading.clusters_by_id)
        return render_template("search.html", form=form, results=results, photo_name=photo_name)

    @app.get("/cluster/<cluster_id>")
    def cluster(cluster_id: str):
        try:
            page = reading.load_cluster_page(g.analyst.store, cluster_id)
        except reading.ClusterMoved as moved:
            return redirect(url_for("cluster", cluster_id=moved.survivor, merged=cluster_id))
        every_photo = request.args.get("photos") == "all"
        photos = page.photos if every_photo else page.photos[:PHOTOS_SHOWN]
        g.analyst.saw_photos(p.sha256 for p in photos)
        return render_template("cluster.html", page=page, doc=page.doc, photos=photos,
                               merged=request.args.get("merged", ""), every_photo=every_photo)

    @app.get("/cluster/<cluster_id>/case.zip")
    def case_zip(cluster_id: str):
        files = _case_files(cluster_id)
        return Response(casefile.zipped(files, f"case-{cluster_id}"), mimetype="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="case-{cluster_id}.zip"'})

    @app.get("/cluster/<cluster_id>/case/<name>")
    def case_file(cluster_id: str, name: str):
        if name not in CASE_FILES:
            abort(404)
        data = _case_files(cluster_id)[name]
        kind = "text/csv" if name.endswith(".csv") else "application/json"
        return Response(data, mimetype=kind, headers={
            "Content-Disposition": f'attachment; filename="case-{cluster_id}-{name}"'})

    def _case_files(cluster_id: str) -> dict[str, bytes]:
        store = g.analyst.store
        try:
            page = reading.load_cluster_page(store, cluster_id)
        except reading.ClusterMoved as moved:
            raise reading.Missing(f"Cluster {cluster_id} was merged into {moved.survivor}; export that one.") from None
        full = reading.ads_by_id(store, [ad.doc_id for ad in page.members], {"excludes": reading.AD_NOT_SHOWN})
        ads = [(ad.doc_id, full[ad.doc_id]) for ad in page.members if ad.doc_id in full]
        log.info("explorer: case file of %s (%d ads) for %s", cluster_id, len(ads), g.analyst.name or "open access")
        return casefile.case_files(page.doc, ads, page.graph, page.clusters_of, g.analyst.name,
                                   f"{access.url} index {store.ads} / {store.clusters}",
                                   datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @app.get("/ad/<path:doc_id>")
    def ad(doc_id: str):
        store = g.analyst.store
        source = reading.load_ad(store, doc_id)
        others = reading.linked_ads(store, source)
        photos = [reading.Photo(image["sha256"], (doc_id,), i) for i, image in enumerate(source.get("images") or [])
                  if image.get("sha256") and not image.get("error")]
        g.analyst.saw_photos(p.sha256 for p in photos)
        texts = [(name, runs(source.get(name) or "", source.get("contacts") or [], name))
                 for name in TEXT_FIELDS if source.get(name)]
        links = [(link, refusal_of(link)) for link in source.get("links") or []]
        return render_template("ad.html", doc_id=doc_id, ad=source, texts=texts, contacts=found_contacts(source),
                               links=links, others=others, photo_items=photos,
                               anchors=anchors([parts for _, parts in texts]))

    @app.get("/photo/<sha256>")
    def photo(sha256: str):
        path = _shown_photo(sha256)
        response = send_file(path, mimetype=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                             max_age=0, conditional=False, etag=False)
        return response

    def _shown_photo(sha256: str) -> Path:
        """The photo's file, when this analyst may see an ad showing it; 404 otherwise (the same answer)."""
        path = reading.photo_file(image_dir, sha256)
        if path is None:
            abort(404)
        analyst = g.analyst
        if not analyst.was_shown(sha256):
            if not reading.may_see_photo(analyst.store, sha256):
                abort(404)
            analyst.saw_photos([sha256])
        return path

    return app


def _local(target: str | None) -> str:
    """A path on this site to go to after signing in ('/' for anything else: no open redirects)."""
    parts = urlsplit(target or "/")
    if parts.scheme or parts.netloc or not (target or "/").startswith("/") or (target or "").startswith("//"):
        return "/"
    return target or "/"
