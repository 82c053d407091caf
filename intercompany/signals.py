from django.dispatch import Signal

from intercompany.history import fill_history_from_context


def fill_history_record(sender, instance, history_instance, **kwargs):
    fill_history_from_context(instance=instance, history_instance=history_instance)


# Sent inside the transaction of a change of a trading relationship's switches, with
# ``relationship``, ``employee`` and ``changes`` ({field name: (old, new)}); see
# orders/domain_signals.py for the conventions.
trading_relationship_changed = Signal()
