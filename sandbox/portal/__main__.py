"""`python -m sandbox.portal serve|load|submissions`.

- `serve --port N --data PATH --token T [--faults JSON|FILE] [--control] [--host 127.0.0.1]`:
  the API on loopback (uvicorn). The token may come from `SANDBOX_PORTAL_TOKEN` instead.
- `load --from PORTAL_DIR --data PATH`: add the generator's submissions to the store
  (existing references keep their status).
- `submissions --data PATH [--json]`: every submission with its status (for checking a
  demo or a test by hand).

`--data` is the SQLite file, e.g. `runs/sandbox/portal.sqlite`. Exit code 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from sandbox.portal.faults import Faults, load_faults
from sandbox.portal.store import PortalStore

TOKEN_ENV = "SANDBOX_PORTAL_TOKEN"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox.portal", description="The sandbox e-forms portal.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the submissions API")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--host", default="127.0.0.1", help="listen address (default loopback)")
    serve.add_argument("--data", type=Path, required=True, help="the portal's SQLite file")
    serve.add_argument("--token", default=None, help=f"API token (default: ${TOKEN_ENV})")
    serve.add_argument("--faults", default=None, help="faults as inline JSON or a JSON/YAML file")
    serve.add_argument("--control", action="store_true", help="enable the /_control endpoints")
    load = commands.add_parser("load", help="load a generator portal folder into the store")
    load.add_argument("--from", dest="source", type=Path, required=True, help="the generator's --portal-dir")
    load.add_argument("--data", type=Path, required=True, help="the portal's SQLite file")
    listing = commands.add_parser("submissions", help="list every submission with its status")
    listing.add_argument("--data", type=Path, required=True, help="the portal's SQLite file")
    listing.add_argument("--json", action="store_true", help="one JSON document instead of lines")
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sandbox.portal.app import create_app

    token = args.token or os.environ.get(TOKEN_ENV, "")
    if not token:
        print(f"error: give --token or set {TOKEN_ENV}", file=sys.stderr)
        return 2
    try:
        faults = load_faults(args.faults) if args.faults else Faults()
    except (ValueError, OSError) as exc:
        print(f"error: --faults: {exc}", file=sys.stderr)
        return 2
    app = create_app(PortalStore(args.data), token, faults, control=args.control)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _load(args: argparse.Namespace) -> int:
    try:
        added, kept = PortalStore(args.data).load_dir(args.source)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"portal {args.data}: {added} submissions added, {kept} already there")
    return 0


def _submissions(args: argparse.Namespace) -> int:
    if not args.data.exists():
        print(f"error: no portal store at {args.data}", file=sys.stderr)
        return 2
    subs = PortalStore(args.data).all()
    rows = [{"reference": s.reference, "form": s.form, "submitted_at": s.submitted_at, "status": s.status,
             "acknowledged_by": s.acknowledged_by, "external_reference": s.external_reference,
             "attachments": len(s.attachments)} for s in subs]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(f"{row['reference']}  {row['form']:<8} {row['submitted_at']}  {row['status']:<8} "
                  f"{row['external_reference'] or ''}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _parser().parse_args(argv)
    handlers = {"serve": _serve, "load": _load, "submissions": _submissions}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
