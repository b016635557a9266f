"""`make demo`: one TONK bot cycle against the sandbox, on the embedded default.

Generates seeded sample TONK inputs (a second demo makes the same ones): portal e-mails,
PDF forms, scans and a non-application into the embedded Maildir, and portal submissions
(two of them also by e-mail: one item each) into the sandbox portal. Starts the sandbox
case system and the sandbox portal on free loopback ports, runs `softbot run tonk` as a
user would (the robot reads the Maildir and the portal configured in config/softbot.yaml;
the demo points the portal source at its port and sets the portal token variable), stops
the sandbox, and tells where to look. Exits with softbot's exit code.

The sandbox is the outside world: this module starts the robot as a separate command and
imports nothing of it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROBOT_USER = "robot-tonk"
ROBOT_PASSWORD = "demo-wachtwoord"  # the sandbox's own demo account, not a real secret
PORTAL_TOKEN = "demo-portaaltoken"  # the sandbox portal's demo token, not a real secret


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"demo: the sandbox {what} stopped at start (exit {process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers (e.g. 401 without a token): it is up
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"demo: the sandbox {what} did not answer at {url} within {timeout:.0f} s")


def demo_sources(config: Path, bot: str, maildir: Path, url: str) -> tuple[list[dict[str, object]], str | None]:
    """The bot's sources from the settings file, the first Maildir at `maildir` and every portal at `url`;
    and the portal's token variable. Read as plain YAML: the sandbox imports nothing of the robot."""
    import yaml

    data = yaml.safe_load(config.read_text(encoding="utf-8")) if config.exists() else {}
    sources = list(((data or {}).get("bots") or {}).get(bot, {}).get("sources") or [])
    token_env = None
    maildir_done = False
    for source in sources:
        if source.get("kind") == "portal":
            source["base_url"] = url
            token_env = source.get("token_env")
        elif source.get("kind") == "maildir" and not maildir_done:
            source["path"] = str(maildir)
            maildir_done = True
    return sources, token_env


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=25, help="sample applications to deliver (default 25)")
    parser.add_argument("--seed", type=int, default=2021, help="generator seed (same seed, same mails)")
    parser.add_argument("--pdf-forms", type=int, default=3, help="PDF application forms by e-mail (default 3)")
    parser.add_argument("--scans", type=int, default=1, help="scanned forms by e-mail, for a human (default 1)")
    parser.add_argument("--duplicates", type=int, default=2,
                        help="portal submissions that also arrive by e-mail (default 2)")
    parser.add_argument("--portal-faults", default=None,
                        help='faults of the sandbox portal as JSON, e.g. \'{"error_rate": 0.1}\' (default none)')
    parser.add_argument("--data-dir", type=Path, default=Path("runs/data"), help="the robot's data directory")
    parser.add_argument("--sandbox-dir", type=Path, default=Path("runs/sandbox"), help="the sandbox's own files")
    args = parser.parse_args(argv)

    python = sys.executable
    args.sandbox_dir.mkdir(parents=True, exist_ok=True)
    maildir = args.data_dir / "mailbox" / "tonk"
    maildir.parent.mkdir(parents=True, exist_ok=True)
    case_db = args.sandbox_dir / "casesystem.db"
    portal_dir = args.sandbox_dir / "portal"
    portal_db = args.sandbox_dir / "portal.sqlite"
    expected = args.sandbox_dir / "expected.json"
    port, portal_port = free_port(), free_port()
    url, portal_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{portal_port}"
    config = Path(os.environ.get("SOFTBOT_CONFIG", "config/softbot.yaml"))
    sources, token_env = demo_sources(config, "tonk", maildir, portal_url)

    print(f"demo: {args.count} sample TONK applications (seed {args.seed}), {args.pdf_forms} PDF forms and "
          f"{args.scans} scans by e-mail into {maildir}, about half the applications through the portal")
    subprocess.run([python, "-m", "sandbox.samples", "generate", "--count", str(args.count), "--seed",
                    str(args.seed), "--maildir", str(maildir), "--portal-dir", str(portal_dir),
                    "--pdf-forms", str(args.pdf_forms), "--scans", str(args.scans), "--duplicates",
                    str(args.duplicates), "--expect", str(expected)], check=True)
    subprocess.run([python, "-m", "sandbox.portal", "load", "--from", str(portal_dir), "--data", str(portal_db)],
                   check=True)

    print(f"demo: starting the sandbox case system at {url} (database {case_db})")
    server = subprocess.Popen([python, "-m", "sandbox.casesystem", "serve", "--port", str(port), "--db",
                               str(case_db), "--users", f"{ROBOT_USER}:{ROBOT_PASSWORD}"],
                              stdout=subprocess.DEVNULL, stderr=open(args.sandbox_dir / "casesystem.log", "ab"))
    portal_args = [python, "-m", "sandbox.portal", "serve", "--port", str(portal_port), "--data", str(portal_db)]
    if args.portal_faults:
        portal_args += ["--faults", args.portal_faults]
    print(f"demo: starting the sandbox portal at {portal_url} (submissions {portal_db})")
    portal = subprocess.Popen(portal_args, env={**os.environ, "SANDBOX_PORTAL_TOKEN": PORTAL_TOKEN},
                              stdout=subprocess.DEVNULL, stderr=open(args.sandbox_dir / "portal.log", "ab"))
    try:
        wait_until_up(f"{url}/inloggen", server, "case system")
        wait_until_up(f"{portal_url}/api/v1/submissions", portal, "portal")
        env = {**os.environ, "SOFTBOT_BOTS__TONK__CASESYSTEM__URL": url,
               "SOFTBOT_BOTS__TONK__CASESYSTEM__USERNAME": ROBOT_USER,
               "SOFTBOT_CASESYSTEM_PASSWORD": ROBOT_PASSWORD,
               "SOFTBOT_DATA_DIR": str(args.data_dir)}
        if token_env:  # the configured sources, with the demo's Maildir and the portal at the port it chose
            env["SOFTBOT_BOTS__TONK__SOURCES"] = json.dumps(sources)
            env[token_env] = PORTAL_TOKEN
        else:
            print(f"demo: {config} configures no portal source for tonk: the portal is started but not read")
        print("demo: softbot run tonk")
        softbot = Path(python).with_name("softbot")
        code = subprocess.run([str(softbot), "run", "tonk"], env=env).returncode
    finally:
        stop(server)
        stop(portal)
    print()
    print("demo: the sandbox is stopped. To look at what the robot registered and acknowledged:")
    print(f"  {python} -m sandbox.casesystem cases --json --db {case_db}")
    print(f"  {python} -m sandbox.portal submissions --data {portal_db}")
    print(f"  {Path(python).with_name('softbot')} queue list --state failed      # the exception queue")
    print(f"  expected outcomes per sample (from the generator): {expected}")
    return code


if __name__ == "__main__":
    sys.exit(main())
