"""The admin's history pages (django-simple-history), readable: columns headed by the fields'
names as users know them (the switches by their name and policy), and no page 2,000 px wide."""

from __future__ import annotations

import dataclasses

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from simple_history.template_utils import HistoricalRecordContextHelper

from intercompany.switches import SWITCH_BY_FIELD


def field_label(model, name: str) -> str:
    """``name`` as the admin shows it: a switch by its name and policy (two switches share a
    name), a field by its verbose name, else the name itself."""
    if name in SWITCH_BY_FIELD:
        return capfirst(SWITCH_BY_FIELD[name].qualified_label)
    try:
        return capfirst(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return capfirst(name.replace("_", " "))


class LabelledRecordContextHelper(HistoricalRecordContextHelper):
    def format_delta_change(self, change):
        formatted = super().format_delta_change(change)
        return dataclasses.replace(formatted, field=field_label(self.model, change.field))


class LabelledHistoryMixin:
    """For a ``SimpleHistoryAdmin``: the history table's columns (``history_list_display``) and
    its "Changes" column name fields by their labels."""

    def history_column_label(self, name: str) -> str:
        method = getattr(self, name, None)
        if callable(method) and hasattr(method, "short_description"):
            return capfirst(method.short_description)
        history_model = self.model.history.model
        if name not in SWITCH_BY_FIELD:
            try:
                return capfirst(history_model._meta.get_field(name).verbose_name)
            except FieldDoesNotExist:
                pass
        return field_label(self.model, name)

    def history_view(self, request, object_id, extra_context=None):
        columns = [
            (name, self.history_column_label(name))
            for name in self.get_history_list_display(request)
        ]
        return super().history_view(
            request, object_id, extra_context={"history_columns": columns, **(extra_context or {})}
        )

    def get_historical_record_context_helper(self, request, historical_record):
        return LabelledRecordContextHelper(self.model, historical_record)
