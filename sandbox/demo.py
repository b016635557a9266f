"""`make demo`: one TONK bot cycle against the sandbox, on the embedded default.

Starts the sandbox case system on a free loopback port, delivers 25 sample TONK
applications (seeded, so a second demo delivers the same ones) into the embedded
Maildir, runs `softbot run tonk` as a user would, stops the sandbox, and tells where
to look. Exits with softbot's exit code.

The sandbox is the outside world: this module starts the robot as a separate
command and imports nothing of it.
"""

from __future__ import annotations

import argparse
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"demo: the sandbox case system stopped at start (exit {process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"demo: the sandbox case system did not answer at {url} within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=25, help="sample applications to deliver (default 25)")
    parser.add_argument("--seed", type=int, default=2021, help="generator seed (same seed, same mails)")
    parser.add_argument("--data-dir", type=Path, default=Path("runs/data"), help="the robot's data directory")
    parser.add_argument("--sandbox-dir", type=Path, default=Path("runs/sandbox"), help="the sandbox's own files")
    args = parser.parse_args(argv)

    python = sys.executable
    args.sandbox_dir.mkdir(parents=True, exist_ok=True)
    maildir = args.data_dir / "mailbox" / "tonk"
    maildir.parent.mkdir(parents=True, exist_ok=True)
    case_db = args.sandbox_dir / "casesystem.db"
    expected = args.sandbox_dir / "expected.json"
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    print(f"demo: delivering {args.count} sample TONK applications (seed {args.seed}) into {maildir}")
    subprocess.run([python, "-m", "sandbox.samples", "generate", "--count", str(args.count), "--seed",
                    str(args.seed), "--maildir", str(maildir), "--expect", str(expected)], check=True)

    print(f"demo: starting the sandbox case system at {url} (database {case_db})")
    server = subprocess.Popen([python, "-m", "sandbox.casesystem", "serve", "--port", str(port), "--db",
                               str(case_db), "--users", f"{ROBOT_USER}:{ROBOT_PASSWORD}"],
                              stdout=subprocess.DEVNULL, stderr=open(args.sandbox_dir / "casesystem.log", "ab"))
    try:
        wait_until_up(f"{url}/inloggen", server)
        env = {**os.environ, "SOFTBOT_BOTS__TONK__CASESYSTEM__URL": url,
               "SOFTBOT_BOTS__TONK__CASESYSTEM__USERNAME": ROBOT_USER,
               "SOFTBOT_CASESYSTEM_PASSWORD": ROBOT_PASSWORD,
               "SOFTBOT_DATA_DIR": str(args.data_dir)}
        print("demo: softbot run tonk")
        softbot = Path(python).with_name("softbot")
        code = subprocess.run([str(softbot), "run", "tonk"], env=env).returncode
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    print()
    print("demo: the sandbox case system is stopped. To look at what the robot registered:")
    print(f"  {python} -m sandbox.casesystem cases --json --db {case_db}")
    print(f"  {Path(python).with_name('softbot')} queue list --state failed      # the exception queue")
    print(f"  expected outcomes per sample (from the generator): {expected}")
    return code


if __name__ == "__main__":
    sys.exit(main())
