from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from intercompany.locale import switch_language
from intercompany.preferences import preferences

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("preferences/", preferences, name="preferences"),
    path("language/", switch_language, name="switch-language"),
    path("api/v1/", include("api.urls")),
    path("", include("alerts.urls")),
    path("", include("orders.urls")),
]
