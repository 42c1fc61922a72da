"""`booking` whose process kills itself (SIGKILL) right after a booking change commits, before the
request makes any attempt at its messages: fault injection for tests/test_worker_processes.py."""

from __future__ import annotations

import os
import signal

from booking.cli import main
from booking.notifications.effects import Messages
from booking.unit_of_work import Change


async def _die_after_commit(self: Messages, change: Change) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


Messages.after_commit = _die_after_commit  # type: ignore[method-assign]

if __name__ == "__main__":
    raise SystemExit(main())
