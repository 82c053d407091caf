from django.apps import AppConfig


class IntercompanyConfig(AppConfig):
    name = "intercompany"
    verbose_name = "Intercompany configuration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        from intercompany import signals

        pre_create_historical_record.connect(
            signals.fill_history_record, dispatch_uid="intercompany.fill_history_record"
        )
