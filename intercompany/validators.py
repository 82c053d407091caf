"""Text rules shared by every form and service: what a stored value may contain."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Unicode categories that never belong in a business text field: control characters (tabs and
# newlines included), unpaired surrogates, and the line/paragraph separators.
_FORBIDDEN_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}


def reject_control_characters(value: str) -> None:
    for char in value:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise ValidationError(
                gettext_lazy(
                    "Control characters (such as tabs, line breaks or U+%(code)04X) are not "
                    "allowed."
                ),
                code="control_characters",
                params={"code": ord(char)},
            )


def clean_text(
    value: object, *, label: str, max_length: int, required: bool = False
) -> str:
    """Trim ``value`` and check it against the shared text rules.

    Raises ``ValidationError`` with a message that names ``label`` (the field as users know it).
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(_("%(label)s must be text.") % {"label": label}, code="invalid")
    value = value.strip()
    if required and not value:
        raise ValidationError(_("%(label)s is required.") % {"label": label}, code="required")
    if len(value) > max_length:
        raise ValidationError(
            _("%(label)s is %(length)d characters long; at most %(limit)d are allowed.")
            % {"label": label, "length": len(value), "limit": max_length},
            code="max_length",
        )
    try:
        reject_control_characters(value)
    except ValidationError as error:
        raise ValidationError(
            _("%(label)s: %(error)s") % {"label": label, "error": error.messages[0]},
            code=error.code,
        ) from None
    return value
