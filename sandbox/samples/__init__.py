"""Sample TONK applications: a seeded, reproducible generator with recorded expectations.

`generate(count, seed, ...)` returns the samples in memory (see `generator` for the
expectation format); `writers` puts them in a Maildir, a folder of .eml files or a
portal data folder; `python -m sandbox.samples generate ...` does both from the shell.
Formats follow `specs/tonk-form.md`; the sandbox imports nothing of the robot.
"""

from sandbox.samples.documents import Document
from sandbox.samples.generator import Sample, generate, iter_samples

__all__ = ["Document", "Sample", "generate", "iter_samples"]
