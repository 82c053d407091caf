"""``{% order_url order %}`` / ``{% order_url order action="history" %}`` /
``{% order_url order_type pk %}``: the clerk page of an
order of either type, so templates that mix sales and purchase orders need no branching."""

from django import template

from orders.views import order_url as _order_url

register = template.Library()


@register.simple_tag
def order_url(order_or_type, pk=None, action="detail"):
    if pk is None:
        return _order_url(order_or_type.order_type, order_or_type.pk, action)
    return _order_url(order_or_type, pk, action)
