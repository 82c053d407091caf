"""Text rules shared by every form and service: what a stored value may contain.

Two kinds of characters are refused in every text field:

- control characters (Unicode categories Cc, Cs, Zl, Zp: tabs, line breaks, NUL, lone
  surrogates, U+2028, U+2029);
- invisible format characters (category Cf): the bidirectional controls U+202A–U+202E and
  U+2066–U+2069, the zero-width space U+200B, U+FEFF and the rest. ``PO-`` + U+202E + ``1877``
  displays as "PO-7781": another company could make a changed value look unchanged in the very
  history meant to expose it.

Characters that show nothing though they are not format characters are refused too: the
combining grapheme joiner, the Hangul fillers, the blank braille pattern, variation selectors
where they select nothing (``PO-77`` + U+FE0F + ``81``).

Accented letters, other scripts and emoji stay accepted, including the joiners that some of them
need: U+200C ZERO WIDTH NON-JOINER and U+200D ZERO WIDTH JOINER between two letters of a script
other than Latin (Persian, Arabic, the Indic scripts), U+200D inside an emoji sequence (👨‍👩‍👧),
the tag characters of a subdivision flag (🏴 England: tag letters ended by the cancel tag, nothing
else), and variation selectors after a symbol (❤️), in a keycap (1️⃣) or after an ideograph.
Between Latin letters or digits a joiner would only hide a difference ("PO-77\u200c81"), so it
is refused there.
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


# Characters that show nothing though they are not format characters: the combining grapheme
# joiner, the Hangul fillers, the Khmer inherent vowels, the blank braille pattern, the
# Mongolian variation selectors.
_BLANK = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0, 0x180B, 0x180C,
          0x180D, 0x180F}
_VARIATION_SELECTORS = range(0xFE00, 0xFE10)
_IDEOGRAPHIC_VARIATION_SELECTORS = range(0xE0100, 0xE01F0)
KEYCAP = "\u20e3"
CANCEL_TAG = "\U000e007f"


def _is_invisible(char: str) -> bool:
    code = ord(char)
    return (unicodedata.category(char) == "Cf" or code in _BLANK or code in _VARIATION_SELECTORS
            or code in _IDEOGRAPHIC_VARIATION_SELECTORS)


def _allowed_variation(before: str, char: str, after: str) -> bool:
    """A variation selector where it changes how the character before it looks: text or emoji
    style of a symbol (❤️, ↔️), a keycap (1️⃣), an ideograph's variant (葛󠄀)."""
    code = ord(char)
    if code in _VARIATION_SELECTORS:
        if unicodedata.category(before) in {"So", "Sm", "Sk"}:
            return True
        return code in (0xFE0E, 0xFE0F) and before in "0123456789#*" and after == KEYCAP
    return code in _IDEOGRAPHIC_VARIATION_SELECTORS and unicodedata.name(
        before, "").startswith("CJK")


def _flag_tags(value: str, start: int) -> int:
    """The length of the tag run of a subdivision flag (🏴 England) starting at ``start``, right
    after the black flag: tag letters or digits ended by the cancel tag; 0 if it is not one
    (tags could otherwise carry hidden text)."""
    end = start
    while end < len(value) and ord(value[end]) in _TAGS:
        end += 1
    run = value[start:end]
    body_ok = all(0xE0030 <= ord(c) <= 0xE0039 or 0xE0061 <= ord(c) <= 0xE007A for c in run[:-1])
    return len(run) if len(run) >= 2 and run[-1] == CANCEL_TAG and body_ok else 0


def first_invisible_character(value: str) -> tuple[int, str] | None:
    """The first refused invisible character of ``value`` as (position from 1, character), or
    None."""
    index = 0
    while index < len(value):
        char = value[index]
        if not _is_invisible(char):
            index += 1
            continue
        before = value[index - 1] if index else ""
        after = value[index + 1] if index + 1 < len(value) else ""
        if char in (ZWNJ, ZWJ) and before and after:
            if _joins_letters(before, after) or (char == ZWJ and _joins_emoji(before, after)):
                index += 1
                continue
        if before and ord(char) in _TAGS and before == BLACK_FLAG:
            length = _flag_tags(value, index)
            if length:
                index += length
                continue
        if before and ord(char) not in _TAGS and _allowed_variation(before, char, after):
            index += 1
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
