"""A real OS process that takes a lease, holds it and reports on stdout (one JSON object per line).

    python tests/lease_holder.py URL PREFIX NAME --ttl S --hold S [--start-at EPOCH] [--shared-by run:ID [--leave]]

Events: ready, acquired, held (with the message), lost, released (or left, with --leave: stopped
renewing a shared lease without giving it back). Exit 0 released or left, 1 held, 3 lost.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from adwatch.config import load_settings
from adwatch.lease import Lease, LeaseHeld, LeaseLost
from adwatch.store import Store, connect


def say(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("prefix")
    parser.add_argument("name")
    parser.add_argument("--ttl", type=float, default=60.0)
    parser.add_argument("--hold", type=float, default=3.0)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("--shared-by", default=None)
    parser.add_argument("--leave", action="store_true")
    args = parser.parse_args()
    store = Store(connect(load_settings(es_url=args.url)), args.prefix)
    lease = Lease(store, args.name, "lease test holder", ttl_s=args.ttl, renew_every_s=min(args.ttl / 4, 0.5),
                  shared_by=args.shared_by)
    say("ready")
    time.sleep(max(0.0, args.start_at - time.time()))
    try:
        lease.acquire()
    except LeaseHeld as exc:
        say("held", message=str(exc))
        return 1
    say("acquired")
    until = time.monotonic() + args.hold
    try:
        while time.monotonic() < until:
            time.sleep(0.1)
            lease.check()
    except LeaseLost as exc:
        say("lost", message=str(exc))
        return 3
    if args.leave:
        lease.leave()
        say("left")
        return 0
    lease.release()
    say("released")
    return 0


if __name__ == "__main__":
    sys.exit(main())
