from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("HTTP API")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api import preferences
        from intercompany.preferences import PreferenceSection, register_section

        register_section(
            PreferenceSection(
                key="api-tokens",
                title=_("API tokens"),
                template="api/preferences_section.html",
                order=60,
                context=preferences.section_context,
                handle_post=preferences.handle_post,
            )
        )
