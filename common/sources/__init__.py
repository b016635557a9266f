"""Where work comes from: a small `Source` protocol with one adapter per kind of input.

The producer knows only `Source`; adding a channel adds a file here, not a branch elsewhere.
"""

from common.sources.base import Attachment, Incoming, Source

__all__ = ["Attachment", "Incoming", "Source"]
