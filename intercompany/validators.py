"""Text rules shared by every form and service: what a stored value may contain."""

import unicodedata

from django.core.exceptions import ValidationError

# Unicode categories that never belong in a business text field: control characters (tabs and
# newlines included), unpaired surrogates, and the line/paragraph separators.
_FORBIDDEN_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}


def reject_control_characters(value: str) -> None:
    for char in value:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise ValidationError(
                "Control characters (such as tabs, line breaks or U+%(code)04X) are not allowed.",
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
        raise ValidationError(f"{label} must be text.", code="invalid")
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{label} is required.", code="required")
    if len(value) > max_length:
        raise ValidationError(
            f"{label} is {len(value)} characters long; at most {max_length} are allowed.",
            code="max_length",
        )
    try:
        reject_control_characters(value)
    except ValidationError as error:
        raise ValidationError(f"{label}: {error.messages[0]}", code=error.code) from None
    return value
