"""Named crash points, for the tests that prove a kill at any point loses nothing.

``failpoint("publish.before_replace")`` does nothing unless the environment
variable ``PARKSTAT_FAILPOINT`` (the setting ``failpoint``) names that point, in which case the process
kills itself with SIGKILL there — no cleanup, no ``finally``, exactly like an
operator's ``kill -9`` or a power cut. Production never sets the variable.
"""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    from ingest.config import current

    if current().failpoint == name:
        os.kill(os.getpid(), signal.SIGKILL)
