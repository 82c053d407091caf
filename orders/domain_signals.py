"""Domain signals: what happened to orders, for the apps that react to it (alerts, events).

Every signal is sent *inside* the transaction of the change, after its rows are written, so a
receiver that writes rows (an alert, an outbox event) commits or rolls back with the change.
A receiver that talks to the outside (mail, HTTP) must wait with ``transaction.on_commit``.
``orders`` never imports the apps that listen: they connect in their ``AppConfig.ready()``.

- ``order_created``: sender=the order's model; ``order`` (the order the employee created),
  ``orders`` (every order created with it: the other legs of the chain), ``employee``.
- ``customer_information_changed``: sender=the order's model; ``order`` (the order edited),
  ``result`` (``orders.sync.SyncResult``: changed fields, where copied, where not and why),
  ``employee``. Sent only when something changed.
- ``overwrites_recorded``: sender=``orders.models.OverwriteRecord``; ``records`` (the saved
  cross-company overwrite rows of one save, with their primary keys).
- ``order_cancelled``: sender=the order's model; ``order``, ``employee``.
- ``order_history_viewed``: sender=the order's model; ``order``, ``employee``: an employee
  opened the History tab of an order (alerts about that order are then read). Sent by the view,
  outside any change.
"""

from django.dispatch import Signal

order_created = Signal()
customer_information_changed = Signal()
overwrites_recorded = Signal()
order_cancelled = Signal()
order_history_viewed = Signal()
