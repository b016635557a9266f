"""`python -m sandbox.samples generate --count 25 --seed 2021 --maildir PATH --expect FILE`.

Options: `--eml-dir PATH` (.eml files), `--portal-dir PATH` (portal submissions for
`python -m sandbox.portal load`), `--pdf-forms N`, `--scans M`, `--others K`,
`--faulty-share F`, `--portal-share F`, `--duplicates D`. With only `--portal-dir` as
destination every application goes to the portal; with a mailbox as well, the
`--portal-share` (default 0.5) does. Exit code 2 on bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from sandbox.samples.generator import iter_samples
from sandbox.samples.writers import ExpectationWriter, MaildirWriter, write_eml, write_portal_submission


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox.samples",
                                     description="Generate sample TONK applications with expected outcomes.")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="generate samples into a Maildir, .eml folder and/or portal folder")
    gen.add_argument("--count", type=int, default=25, help="portal applications (default 25)")
    gen.add_argument("--seed", type=int, default=2021, help="random seed (default 2021)")
    gen.add_argument("--faulty-share", type=float, default=0.2, help="share of faulty applications (default 0.2)")
    gen.add_argument("--others", type=int, default=1, help="mails that are not TONK applications (default 1)")
    gen.add_argument("--pdf-forms", type=int, default=0, help="channel-3 mails with a filled AcroForm PDF")
    gen.add_argument("--scans", type=int, default=0, help="channel-3 mails with a scanned form (no fields)")
    gen.add_argument("--maildir", type=Path, help="deliver the e-mails into this Maildir (created)")
    gen.add_argument("--eml-dir", type=Path, help="write the e-mails as .eml files into this folder")
    gen.add_argument("--portal-dir", type=Path, help="write portal submissions (JSON + files) into this folder")
    gen.add_argument("--portal-share", type=float, default=None,
                     help="share of applications sent through the portal (default: 1 with only --portal-dir, "
                          "0.5 with a mailbox too, else 0)")
    gen.add_argument("--duplicates", type=int, default=0,
                     help="portal submissions that also arrive by e-mail (same reference)")
    gen.add_argument("--expect", type=Path, help="write the expected outcomes (JSON) to this file")
    return parser


def _generate(args: argparse.Namespace) -> int:
    mailbox_out = args.maildir is not None or args.eml_dir is not None
    if not (mailbox_out or args.portal_dir or args.expect):
        print("error: give at least one of --maildir, --eml-dir, --portal-dir, --expect", file=sys.stderr)
        return 2
    share = args.portal_share
    if share is None:
        share = (0.5 if mailbox_out else 1.0) if args.portal_dir else 0.0
    if share > 0 and args.portal_dir is None:
        print("error: --portal-share needs --portal-dir", file=sys.stderr)
        return 2
    try:
        samples = iter_samples(args.count, args.seed, faulty_share=args.faulty_share, others=args.others,
                               pdf_forms=args.pdf_forms, scans=args.scans, portal_share=share,
                               duplicates=args.duplicates)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    maildir = MaildirWriter(args.maildir) if args.maildir else None
    emls = portal = 0
    outcomes: Counter[str] = Counter()
    with ExitStack() as stack:
        expect = (stack.enter_context(ExpectationWriter(args.expect, seed=args.seed, count=args.count,
                                                        faulty_share=args.faulty_share))
                  if args.expect else None)
        for sample in samples:  # one at a time: 10,000 samples never sit in memory together
            if maildir:
                maildir.add(sample)
            if args.eml_dir:
                emls += write_eml(sample, args.eml_dir)
            if args.portal_dir:
                portal += write_portal_submission(sample, args.portal_dir)
            if expect:
                expect.add(sample.expectation)
            outcomes[str(sample.expectation["expected"])] += 1
    if maildir:
        print(f"maildir {args.maildir}: {maildir.delivered} delivered, {maildir.skipped} already there")
    if args.eml_dir:
        print(f"eml-dir {args.eml_dir}: {emls} files")
    if args.portal_dir:
        print(f"portal-dir {args.portal_dir}: {portal} submissions")
    if args.expect:
        print(f"expectations {args.expect}")
    print("samples: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 2 usage error)."""
    args = _parser().parse_args(argv)
    if args.command == "generate":
        return _generate(args)
    return 2  # argparse rejects unknown commands before this


if __name__ == "__main__":
    sys.exit(main())
