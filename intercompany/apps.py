from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntercompanyConfig(AppConfig):
    name = "intercompany"
    verbose_name = _("Intercompany configuration")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        from intercompany import signals
        from intercompany.locale import LANGUAGE_SECTION
        from intercompany.preferences import register_section

        pre_create_historical_record.connect(
            signals.fill_history_record, dispatch_uid="intercompany.fill_history_record"
        )
        register_section(LANGUAGE_SECTION)
