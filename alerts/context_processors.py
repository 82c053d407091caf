from django.utils.functional import SimpleLazyObject


def unread_alerts(request):
    """``unread_alert_count`` for the header: counted only when a page shows it."""

    def count():
        from alerts.selectors import unread_alert_count

        return unread_alert_count(request.user)

    return {"unread_alert_count": SimpleLazyObject(count)}
