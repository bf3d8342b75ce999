"""`adwatch dashboards export|import` and `adwatch export clusters|timeseries`.

`dashboards export` needs no Elasticsearch and no Kibana: it writes the saved objects generated
from the panel definitions. `dashboards import` sends the same objects to Kibana's Saved Objects
import API (`POST [/s/<space>]/api/saved_objects/_import?overwrite=true`, multipart, `kbn-xsrf`
header) with an API key or basic auth; it is written to Kibana's documented API but no test runs it
against a real Kibana (the suite has none), only its error path for an unreachable Kibana.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from rich.console import Console

from adwatch.config import load_settings
from adwatch.errors import UserError
from adwatch.files import write_atomically

out = Console()


def _write_out(path: Path, text: str) -> None:
    if not path.parent.is_dir():
        raise UserError(f"--out {path}: the directory {path.parent} does not exist; create it first.")
    write_atomically(path, text)


def _ndjson(prefix: str | None) -> tuple[str, str, int]:
    from dashboards.kibana import saved_objects, to_ndjson

    prefix = prefix or load_settings().index_prefix
    objects = saved_objects(prefix)
    return prefix, to_ndjson(objects), len(objects)


def _dashboards_export(args: argparse.Namespace) -> int:
    prefix, text, count = _ndjson(args.prefix)
    _write_out(args.out, text)
    out.print(f"Wrote {count} Kibana saved objects for index prefix {prefix!r} to {args.out}. Import them with "
              f"`adwatch dashboards import --kibana URL` or Kibana's Stack Management > Saved objects > Import.")
    return 0


def import_saved_objects(kibana: str, ndjson: str, space: str | None = None, api_key: str | None = None,
                         user: str | None = None, password: str | None = None, timeout_s: float = 60.0) -> dict:
    """POST the objects to Kibana's Saved Objects import API (overwrite); returns Kibana's JSON answer."""
    base = kibana.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise UserError(f"--kibana {kibana!r} is not an http(s) URL, e.g. http://127.0.0.1:5601.")
    space_path = f"/s/{urllib.parse.quote(space, safe='')}" if space and space != "default" else ""
    url = f"{base}{space_path}/api/saved_objects/_import?overwrite=true"
    boundary = f"adwatch-{uuid.uuid4().hex}"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"adwatch.ndjson\"\r\n"
            f"Content-Type: application/ndjson\r\n\r\n").encode() + ndjson.encode() + f"\r\n--{boundary}--\r\n".encode()
    headers = {"kbn-xsrf": "true", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    elif user:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password or ''}".encode()).decode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        hint = " Check --api-key or --user/--password." if exc.code in (401, 403) else ""
        raise UserError(f"Kibana at {base} refused the import ({exc.code}): {detail}.{hint}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(f"Cannot reach Kibana at {base} ({reason}). Is it running (docker compose up -d)? "
                        "Nothing was imported.") from exc


def _dashboards_import(args: argparse.Namespace) -> int:
    if args.file:
        try:
            text, prefix = args.file.read_text(encoding="utf-8"), None
        except OSError as exc:
            raise UserError(f"--file {args.file}: cannot read it ({exc.strerror}).") from exc
        count = sum(1 for line in text.splitlines() if line.strip())
    else:
        prefix, text, count = _ndjson(args.prefix)
    answer = import_saved_objects(args.kibana, text, args.space, args.api_key, args.user, args.password)
    if not answer.get("success"):
        problems = "; ".join(f"{e.get('type')} {e.get('id')}: {e.get('error', {}).get('type')}"
                             for e in answer.get("errors", [])[:5])
        raise UserError(f"Kibana imported {answer.get('successCount', 0)} of {count} objects; problems: {problems}")
    where = f" (space {args.space})" if args.space else ""
    source = f"from {args.file}" if args.file else f"for index prefix {prefix!r}"
    out.print(f"Imported {answer.get('successCount', count)} saved objects {source} into Kibana at "
              f"{args.kibana}{where}.")
    return 0


def _export(args: argparse.Namespace) -> int:
    from dashboards.exports import ExportOptions, export

    options = ExportOptions(args.kind, args.format, args.out, args.since, args.until, args.min_size, args.k,
                            args.include_text)
    result = export(load_settings(), options)
    out.print(f"Wrote {result.rows} rows to {result.path} (sha256 {result.sha256[:16]}...); "
              f"manifest {result.manifest}.")
    return 0


def register(sub) -> None:
    dashboards = sub.add_parser("dashboards", help="Kibana dashboards generated from the panel definitions")
    commands = dashboards.add_subparsers(dest="dashboards_command", required=True, metavar="COMMAND")
    export_cmd = commands.add_parser("export", help="write the Kibana saved objects (data views, searches, Lens, "
                                                    "dashboards) as NDJSON; needs neither Kibana nor Elasticsearch")
    export_cmd.add_argument("--out", type=Path, required=True, help="file to write, e.g. adwatch-kibana.ndjson")
    export_cmd.add_argument("--prefix", help="index prefix the data views point at (default: index_prefix setting)")
    export_cmd.set_defaults(func=_dashboards_export)
    import_cmd = commands.add_parser("import", help="send the saved objects to Kibana's import API (overwrite)")
    import_cmd.add_argument("--kibana", required=True, help="Kibana base URL, e.g. http://127.0.0.1:5601")
    import_cmd.add_argument("--space", help="Kibana space id (default space when omitted)")
    import_cmd.add_argument("--api-key", default=os.environ.get("ADWATCH_KIBANA_API_KEY"),
                            help="Kibana API key (default: $ADWATCH_KIBANA_API_KEY)")
    import_cmd.add_argument("--user", default=os.environ.get("ADWATCH_KIBANA_USER"),
                            help="basic-auth user (default: $ADWATCH_KIBANA_USER)")
    import_cmd.add_argument("--password", default=os.environ.get("ADWATCH_KIBANA_PASSWORD"),
                            help="basic-auth password (default: $ADWATCH_KIBANA_PASSWORD; prefer the variable)")
    import_cmd.add_argument("--prefix", help="index prefix (default: index_prefix setting)")
    import_cmd.add_argument("--file", type=Path, help="import this NDJSON file instead of generating the objects")
    import_cmd.set_defaults(func=_dashboards_import)

    export_data = sub.add_parser("export", help="researcher exports: cluster statistics or daily time series, "
                                                "pseudonymised, small counts suppressed, with a manifest")
    export_data.add_argument("kind", choices=["clusters", "timeseries"])
    export_data.add_argument("--format", required=True, choices=["csv", "parquet", "json"])
    export_data.add_argument("--out", type=Path, required=True, help="file to write; <out>.manifest.json beside it")
    export_data.add_argument("--since", help="first day, YYYY-MM-DD (inclusive)")
    export_data.add_argument("--until", help="end day, YYYY-MM-DD (exclusive)")
    export_data.add_argument("--min-size", type=int, help="clusters: leave out clusters with fewer ads (default 2)")
    export_data.add_argument("--k", type=int, default=5, help="suppress counts under k (default 5)")
    export_data.add_argument("--include-text", action="store_true",
                             help="clusters: add templates, URLs, site and city names (free text; not by default)")
    export_data.set_defaults(func=_export)
