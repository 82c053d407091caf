from alerts import services


def create_alerts(sender, records, **kwargs):
    services.create_alerts(records=records)


def mark_order_alerts_read(sender, order, employee, **kwargs):
    services.mark_order_alerts_read(employee=employee, order=order)
