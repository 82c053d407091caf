from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Alerts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alerts import preferences, signals
        from intercompany.preferences import register_section
        from orders.domain_signals import order_history_viewed, overwrites_recorded
        from orders.models import OverwriteRecord

        overwrites_recorded.connect(
            signals.create_alerts, sender=OverwriteRecord, dispatch_uid="alerts.create_alerts"
        )
        order_history_viewed.connect(
            signals.mark_order_alerts_read, dispatch_uid="alerts.mark_order_alerts_read"
        )
        register_section(preferences.SECTION)
