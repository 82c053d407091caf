"""Who made a change, for which company, and how: the context every history record carries.

django-simple-history writes one historical row per save. A service attaches a
``ChangeContext`` to the instance before saving; the ``pre_create_historical_record`` receiver
copies it onto the historical row. Synced copies are written in bulk by the sync service with the
same fields (see ``orders/sync.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeKind(models.TextChoices):
    CREATED = "created", _("created")
    EDITED = "edited", _("edited here")
    SYNCED = "synced", _("copied")


@dataclass(frozen=True)
class SourceOrder:
    """The order a synced value came from (kept as plain values: history outlives links)."""

    order_type: str  # "sales" or "purchase"
    order_id: int
    number: str
    company_id: int
    role: str  # "original sales order", "intercompany purchase order", ...


@dataclass(frozen=True)
class ChangeContext:
    employee: Any  # intercompany.Employee, or None for a system change
    company: Any  # intercompany.Company the employee acted for, or None
    kind: str
    source: SourceOrder | None = None

    def history_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "history_user_id": getattr(self.employee, "pk", None),
            "history_company_id": getattr(self.company, "pk", None),
            "history_kind": self.kind,
        }
        if self.source is not None:
            fields.update(
                history_source_type=self.source.order_type,
                history_source_id=self.source.order_id,
                history_source_number=self.source.number,
                history_source_company_id=self.source.company_id,
                history_source_role=self.source.role,
            )
        return fields


def attach_change_context(instance: models.Model, context: ChangeContext) -> None:
    """Mark ``instance`` so that the history row of its next save carries ``context``."""
    instance._change_context = context
    instance._history_user = context.employee


def fill_history_from_context(*, instance: models.Model, history_instance: models.Model) -> None:
    context: ChangeContext | None = getattr(instance, "_change_context", None)
    if context is None:
        history_instance.history_kind = (
            ChangeKind.CREATED if history_instance.history_type == "+" else ChangeKind.EDITED
        )
        return
    for name, value in context.history_fields().items():
        if hasattr(history_instance, name):
            setattr(history_instance, name, value)


class ChangeRecord(models.Model):
    """Extra columns of every historical table: the company acted for and the kind of change."""

    history_company = models.ForeignKey(
        "intercompany.Company",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
        verbose_name=_("acting for"),
    )
    history_kind = models.CharField(
        _("kind"), max_length=10, choices=ChangeKind.choices, default=ChangeKind.EDITED
    )

    class Meta:
        abstract = True


