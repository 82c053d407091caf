"""The clerk screens, namespaced ``orders:``. Sales and purchase orders share their views; the
order type comes from the URL pattern."""

from django.urls import path

from orders import views
from orders.models import OrderType

app_name = "orders"


def _order_patterns(order_type: str, segment: str) -> list:
    prefix = views.URL_PREFIXES[order_type]
    kind = {"order_type": order_type}
    return [
        path(f"{segment}/", views.order_list, kind, name=f"{prefix}-list"),
        path(f"{segment}/new/", views.order_create, kind, name=f"{prefix}-create"),
        path(f"{segment}/<int:pk>/", views.order_detail, kind, name=f"{prefix}-detail"),
        path(f"{segment}/<int:pk>/edit/", views.order_edit, kind, name=f"{prefix}-edit"),
        path(f"{segment}/<int:pk>/history/", views.order_history_tab, kind,
             name=f"{prefix}-history"),
        path(f"{segment}/<int:pk>/cancel/", views.order_cancel, kind, name=f"{prefix}-cancel"),
    ]


urlpatterns = [
    *_order_patterns(OrderType.SALES, "sales-orders"),
    *_order_patterns(OrderType.PURCHASE, "purchase-orders"),
    path(
        "sales-orders/<int:pk>/intercompany-purchase-order/",
        views.intercompany_purchase_order_create,
        name="sales-order-intercompany-purchase-order",
    ),
    path("overwrites/", views.overwrites, name="overwrites"),
    path("overwrites.csv", views.overwrites_csv, name="overwrites-csv"),
    path("company/switch/", views.company_switch, name="company-switch"),
]
