"""The sandbox case system (zaaksysteem): a Dutch web app the robot registers TONK cases in.

Run it with `python -m sandbox.casesystem serve`; print its cases with
`python -m sandbox.casesystem cases --json`. `create_app(SandboxConfig(...))` builds
the app in-process (unit tests); `sandbox.casesystem.testing.running_casesystem`
starts it as a subprocess on a free port (end-to-end tests).
"""

from sandbox.casesystem.settings import Faults, SandboxConfig, ValidationFault

__all__ = ["Faults", "SandboxConfig", "ValidationFault"]
