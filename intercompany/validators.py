"""Text rules shared by every form and service: what a stored value may contain.

Two kinds of characters are refused in every text field:

- control characters (Unicode categories Cc, Cs, Zl, Zp: tabs, line breaks, NUL, lone
  surrogates, U+2028, U+2029);
- invisible format characters (category Cf): the bidirectional controls U+202A–U+202E and
  U+2066–U+2069, the zero-width space U+200B, U+FEFF and the rest. ``PO-`` + U+202E + ``1877``
  displays as "PO-7781": another company could make a changed value look unchanged in the very
  history meant to expose it.

Accented letters, other scripts and emoji stay accepted, including the joiners that some of them
need: U+200C ZERO WIDTH NON-JOINER and U+200D ZERO WIDTH JOINER between two letters of a script
other than Latin (Persian, Arabic, the Indic scripts), U+200D inside an emoji sequence (👨‍👩‍👧),
and the tag characters of a subdivision flag (🏴 England). Between Latin letters or digits a
joiner would only hide a difference ("PO-77\u200c81"), so it is refused there.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Unicode categories that never belong in a business text field: control characters (tabs and
# newlines included), unpaired surrogates, and the line/paragraph separators.
_FORBIDDEN_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}

ZWNJ, ZWJ = "\u200c", "\u200d"
BLACK_FLAG = "\U0001f3f4"
_TAGS = range(0xE0020, 0xE0080)


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


def _joins_letters(before: str, after: str) -> bool:
    """Both neighbours are letters or marks of a script other than Latin."""
    return all(
        ord(char) >= 0x0370 and unicodedata.category(char)[0] in "LM" for char in (before, after)
    )


def _joins_emoji(before: str, after: str) -> bool:
    # An emoji, possibly followed by a skin tone (Sk) or a variation selector (Mn), then an emoji.
    return (
        unicodedata.category(before) in {"So", "Sk", "Mn"} and unicodedata.category(after) == "So"
    )


def first_invisible_character(value: str) -> tuple[int, str] | None:
    """The first refused format character of ``value`` as (position from 1, character), or
    None."""
    for index, char in enumerate(value):
        if unicodedata.category(char) != "Cf":
            continue
        before = value[index - 1] if index else ""
        after = value[index + 1] if index + 1 < len(value) else ""
        if char in (ZWNJ, ZWJ) and before and after:
            if _joins_letters(before, after) or (char == ZWJ and _joins_emoji(before, after)):
                continue
        if ord(char) in _TAGS and before and (before == BLACK_FLAG or ord(before) in _TAGS):
            continue
        return index + 1, char
    return None


def character_name(char: str) -> str:
    """E.g. "U+202E RIGHT-TO-LEFT OVERRIDE"."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


def reject_invisible_characters(value: str, *, label: str) -> None:
    """Refuses a format character, naming the field, the character and where it is."""
    found = first_invisible_character(value)
    if found is None:
        return
    position, char = found
    raise ValidationError(
        _("%(label)s contains an invisible character, %(character)s, at position %(position)d.")
        % {"label": label, "character": character_name(char), "position": position},
        code="invisible_character",
    )


def invisible_characters_validator(label: str):
    """A form field validator: ``reject_invisible_characters`` naming ``label``."""

    def validate(value: str) -> None:
        reject_invisible_characters(value, label=label)

    return validate


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
    reject_invisible_characters(value, label=label)
    return value


class TextRulesMixin:
    """For models: every text field refuses invisible characters, with a message that names the
    field (``Model.full_clean``, so every admin form)."""

    def clean_fields(self, exclude=None):
        errors = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for field in self._meta.concrete_fields:
            if exclude and field.name in exclude or field.name in errors:
                continue
            value = getattr(self, field.attname, None)
            if field.get_internal_type() in ("CharField", "TextField", "EmailField") and (
                isinstance(value, str)
            ):
                label = str(field.verbose_name)
                try:
                    reject_invisible_characters(value, label=label[:1].upper() + label[1:])
                except ValidationError as error:
                    errors[field.name] = error.messages
        if errors:
            raise ValidationError(errors)
