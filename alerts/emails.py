"""The alert emails: what they say. Built at send time from the alerts the recipient may still
see (an employee removed from a company is not mailed about its orders)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateformat import format as format_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alerts.models import DeliveryKind, EmailDelivery
from alerts.selectors import AlertLine, alert_lines, alerts_visible_to, with_details


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def delivery_lines(delivery: EmailDelivery) -> list[AlertLine]:
    recipient = delivery.recipient
    alerts = list(
        with_details(alerts_visible_to(recipient).filter(email_delivery=delivery))
        .order_by("created_at", "id")
    )
    company_ids = set(recipient.companies.values_list("pk", flat=True))
    return alert_lines(alerts, company_ids=company_ids)


def subject_for(delivery: EmailDelivery, lines: list[AlertLine]) -> str:
    if delivery.kind == DeliveryKind.DIGEST:
        return ngettext(
            "Intercompany: %(count)s overwrite on %(day)s",
            "Intercompany: %(count)s overwrites on %(day)s",
            len(lines),
        ) % {"count": len(lines), "day": format_datetime(delivery.digest_date, "j M Y")}
    overwriters = {(line.new_set_by, line.new_set_for) for line in lines}
    if len(overwriters) == 1:
        (who, company), = overwriters
        fields = sorted({line.field.lower() for line in lines})
        orders = list(dict.fromkeys(line.order_number for line in lines))
        shown = ", ".join(orders[:3])
        if len(orders) > 3:
            shown = _("%(orders)s and %(count)s more") % {
                "orders": shown, "count": len(orders) - 3,
            }
        return _("Intercompany: %(who)s (%(company)s) overwrote %(fields)s on %(orders)s") % {
            "who": who, "company": company, "fields": _(" and ").join(fields), "orders": shown,
        }
    return ngettext(
        "Intercompany: %(count)s value overwritten by another company",
        "Intercompany: %(count)s values overwritten by other companies",
        len(lines),
    ) % {"count": len(lines)}


def build_message(delivery: EmailDelivery, lines: list[AlertLine]) -> EmailMultiAlternatives:
    recipient = delivery.recipient
    context = {
        "recipient": recipient,
        "delivery": delivery,
        "is_digest": delivery.kind == DeliveryKind.DIGEST,
        "lines": [
            {
                "line": line,
                "at_text": format_datetime(timezone.localtime(line.at), "j M Y H:i T"),
                "link": site_url(line.history_url),
            }
            for line in lines
        ],
        "alerts_url": site_url("/alerts/"),
        "preferences_url": site_url("/preferences/#alerts"),
    }
    message = EmailMultiAlternatives(
        subject=subject_for(delivery, lines),
        body=render_to_string("alerts/email/alerts.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string("alerts/email/alerts.html", context), "text/html")
    return message
