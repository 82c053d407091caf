from intercompany.history import fill_history_from_context


def fill_history_record(sender, instance, history_instance, **kwargs):
    fill_history_from_context(instance=instance, history_instance=history_instance)
