from django.utils.translation import gettext as _

from intercompany.exceptions import IntercompanyError


class StaleOrderError(IntercompanyError):
    """The order changed since the form (or the instance) was loaded; nothing was saved.

    ``current`` is the order as it is now, so the clerk can see who set which value.
    """

    def __init__(self, *, current):
        self.current = current
        super().__init__(
            _(
                "%(number)s was changed by someone else after you opened it (possibly a copy "
                "from another order of its chain). Nothing was saved: check the current values "
                "and save again."
            ) % {"number": current.number}
        )
