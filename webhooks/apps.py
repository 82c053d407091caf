from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Change events (webhooks)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from intercompany.signals import trading_relationship_changed
        from orders import domain_signals
        from webhooks import receivers

        for signal, receiver in (
            (domain_signals.order_created, receivers.order_created),
            (domain_signals.customer_information_changed, receivers.customer_information_changed),
            (domain_signals.overwrites_recorded, receivers.overwrites_recorded),
            (domain_signals.order_cancelled, receivers.order_cancelled),
            (trading_relationship_changed, receivers.trading_relationship_changed),
        ):
            signal.connect(receiver, dispatch_uid=f"webhooks.{receiver.__name__}")
