"""Errors a person can cause or fix. Each carries a message fit to show as-is.

The CLI prints `circle: <message>` and exits non-zero; the TUI shows the message
in a notification. Anything that is not a CircleError is a bug.
"""


class CircleError(Exception):
    """Base of every user-facing error. `str(err)` is the one line to show."""

    exit_code = 1


class UsageError(CircleError):
    """The command line or an argument value is wrong."""

    exit_code = 2


class ProfileMissing(CircleError):
    """No profile exists where one was expected."""


class ProfileExists(CircleError):
    """`init` was asked to create a profile where one already is."""


class WrongPassphrase(CircleError):
    """The passphrase does not unlock this profile."""


class PassphraseUnavailable(CircleError):
    """No terminal to prompt on and no CIRCLE_PASSPHRASE."""


class StoreDamaged(CircleError):
    """The profile database is unreadable, truncated or was tampered with."""


class NotFound(CircleError):
    """A circle, post, event or member reference matched nothing."""


class Ambiguous(CircleError):
    """A reference (id prefix or name) matched more than one thing."""


class InvalidInput(CircleError):
    """A value given by the user is out of range or malformed."""


class NotAllowed(CircleError):
    """The action is refused by the circle's rules (e.g. editing someone else's post)."""


class StoreUnwritable(CircleError):
    """The profile cannot be written: the disk is full or the profile is read-only."""


class InternalError(CircleError):
    """A write was refused by a library we rely on (a bug); nothing was stored."""
