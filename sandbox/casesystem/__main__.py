"""`python -m sandbox.casesystem serve|cases`: run the sandbox case system, or print its cases.

    python -m sandbox.casesystem serve --port 8010 [--db runs/sandbox/casesystem.db]
        [--faults faults.yaml] [--users robot-tonk:demo-wachtwoord] [--control]
        [--layout alternate] [--slow-ms 300] [--error-rate 0.1 --seed 7]
        [--session-expiry-requests 8] [--search-delay-ms 1500]
    python -m sandbox.casesystem cases --json [--db runs/sandbox/casesystem.db]

Users: `--users name:password[,name:password]`, else `$SANDBOX_CASESYSTEM_USERS`, else the demo
account `robot-tonk:demo-wachtwoord`. `--port 0` takes a free port; the first line printed is
`Zaaksysteem: http://127.0.0.1:<port>/` either way. Flags override the faults file.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path
from typing import Any

from sandbox.casesystem.settings import (
    DEFAULT_DB,
    Faults,
    FaultsFileError,
    SandboxConfig,
    ValidationFault,
    load_faults,
    users_from_env_or_default,
)

_FAULT_FLAGS = ("slow_ms", "error_rate", "seed", "session_expiry_requests", "layout", "search_delay_ms")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox.casesystem", description="Sandbox zaaksysteem")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the case system on loopback")
    serve.add_argument("--host", default="127.0.0.1", help="listen address (loopback by default)")
    serve.add_argument("--port", type=int, default=8010, help="port; 0 takes a free one")
    serve.add_argument("--db", type=Path, default=DEFAULT_DB, help="SQLite database")
    serve.add_argument("--faults", type=Path, help="YAML/JSON faults file")
    serve.add_argument("--users", help="name:password[,name:password]")
    serve.add_argument("--control", action="store_true", help="enable GET/POST /_sandbox/faults (tests)")
    serve.add_argument("--slow-ms", type=int)
    serve.add_argument("--error-rate", type=float)
    serve.add_argument("--seed", type=int)
    serve.add_argument("--session-expiry-requests", type=int)
    serve.add_argument("--layout", choices=["default", "alternate"])
    serve.add_argument("--search-delay-ms", type=int)
    serve.add_argument("--validation-error", metavar="FIELD", help="refuse every form that has FIELD")
    cases = sub.add_parser("cases", help="print every zaak with its fields, persons and documents")
    cases.add_argument("--json", action="store_true", required=True, help="as JSON (the only format)")
    cases.add_argument("--db", type=Path, default=DEFAULT_DB)
    return parser


def _faults(args: argparse.Namespace) -> Faults:
    base = load_faults(args.faults) if args.faults else Faults()
    changes: dict[str, Any] = {k: getattr(args, k) for k in _FAULT_FLAGS if getattr(args, k) is not None}
    if args.validation_error:
        changes["validation_error"] = ValidationFault(field=args.validation_error)
    return Faults.model_validate({**base.model_dump(), **changes})


def serve(args: argparse.Namespace) -> int:
    """Bind the socket first (so `--port 0` can print the real port), then run uvicorn on it."""
    import uvicorn

    from sandbox.casesystem.app import create_app

    config = SandboxConfig(db_path=args.db, users=users_from_env_or_default(args.users), faults=_faults(args),
                           control=args.control)
    app = create_app(config)
    # IPPROTO_TCP given, so asyncio sets TCP_NODELAY on each connection (it checks the protocol): else
    # Nagle holds a response's body until the browser's delayed ACK, 40 ms on every request
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)  # connections wait in the backlog until uvicorn serves: no refusal right after the line
    host, port = sock.getsockname()[:2]
    print(f"Zaaksysteem: http://{host}:{port}/", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])
    return 0


def cases(args: argparse.Namespace) -> int:
    """Print every zaak as JSON (a list, oldest first). Exit 2 when the database does not exist."""
    from sandbox.casesystem.store import CaseStore

    if not args.db.exists():
        print(f"no case system database at {args.db}", file=sys.stderr)
        return 2
    config = SandboxConfig(db_path=args.db)
    store = CaseStore(config.db_path, config.files_dir, config.number_year)
    json.dump(store.all_cases(), sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for a bad faults file or users flag)."""
    args = _parser().parse_args(argv)
    try:
        return serve(args) if args.command == "serve" else cases(args)
    except (FaultsFileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
