from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save, pre_save
        from simple_history.signals import post_create_historical_record

        from orders import signals
        from orders.models import PurchaseOrder, SalesOrder

        for model in (SalesOrder, PurchaseOrder):
            pre_save.connect(
                signals.lock_and_stamp_order,
                sender=model,
                dispatch_uid=f"orders.lock_and_stamp_{model.__name__}",
            )
            post_save.connect(
                signals.propagate_customer_information,
                sender=model,
                dispatch_uid=f"orders.propagate_customer_information_{model.__name__}",
            )
            post_create_historical_record.connect(
                signals.remember_history_row,
                sender=model.history.model,
                dispatch_uid=f"orders.remember_history_row_{model.__name__}",
            )
