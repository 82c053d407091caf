from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.needs_attention, name="needs-attention"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/read-all/", views.alert_read_all, name="alert-read-all"),
    path("alerts/<int:pk>/read/", views.alert_read, name="alert-read"),
]
