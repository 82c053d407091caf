class IntercompanyError(Exception):
    """A business rule refused the action. ``str(error)`` is a message for the user."""


class NotAllowedError(IntercompanyError):
    """The employee does not work for the company that owns the record."""


class InactiveRelationshipError(IntercompanyError):
    """The trading relationship is inactive: the trade route is closed."""
