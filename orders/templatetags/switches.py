"""``{{ link.switch|switch_owner_role }}``: "buying company" or "selling company", from the one
source of the switches' names (intercompany/switches.py)."""

from django import template

from intercompany.switches import SWITCH_BY_FIELD

register = template.Library()


@register.filter
def switch_owner_role(field_name: str) -> str:
    switch = SWITCH_BY_FIELD.get(field_name)
    return switch.owner_role if switch else ""
