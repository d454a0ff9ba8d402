"""The errors a user can cause, each a one-line message that says what to change.

Everything a user types (a spec, a study file, a command-line flag) is checked at the door and
fails with one of these; the CLI prints the message without a traceback and exits 2.
"""


class UserError(ValueError):
    """Bad input from a user; ``str(err)`` is one line naming the bad part and what is allowed."""


class SpecError(UserError):
    """A `name(key=value, ...)` spec that does not parse or names an unknown thing or key."""


class StudyError(UserError):
    """A study file (or an override of one) that is malformed; the message names file and key."""


class Terminated(KeyboardInterrupt):
    """SIGTERM: stop like Ctrl-C (finished batches are kept), exit 143 as is usual for it."""


# Set by the CLI's SIGTERM handler before it raises Terminated. The raise can land inside a
# finalizer (a lock's __del__), where Python prints "Exception ignored" and swallows it; the
# run then re-raises at its next stored batch, so a SIGTERM is never lost.
TERMINATING = {"now": False}
