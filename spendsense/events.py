"""What a lower app announces so that an app above it can act.

The apps form one order and imports only run down it (DESIGN §1, checked by import-linter in
``make lint``): spendsense → accounts → consent → uploads → recommendations →
operator_console. Where a lower app's work must be followed by work above it, it announces
one of these signals with :func:`announce`; the app above connects its receiver in its
``AppConfig.ready()`` and does the work.

An announcement is a plain synchronous call by another name: receivers run at once, inside
the sender's transaction when the sender is in one, their exceptions reach the sender, and
what they return comes back to it. An announcement nobody receives is a wiring error, never
skipped in silence: erasure must not stop short because an app did not connect.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

# A user's data is to be erased (uploads, stored files, and all derived from them), outside
# any transaction of the sender: account deletion (accounts) and consent revocation with
# ``delete_data`` (consent). Argument: ``user``. The uploads app answers with the counts.
user_data_erase = Signal()

# Inside the transaction that deletes a user's uploaded rows, before it deletes them, the
# rows derived from them go. Argument: ``user_id``. The recommendations app answers with the
# counts (and takes what its analytics rollups counted of the user's rows out of them).
user_derived_erase = Signal()

# Inside the transaction that grants or revokes a user's consent, with the user's row locked,
# before the change. Argument: ``user_id``. The recommendations app answers (its analytics
# rollups lose what they counted of the user's rows).
user_consent_changing = Signal()

# Inside the transaction that grants or revokes a user's consent, after the change: what
# counted their rows for staff must count them anew. Argument: ``user_id``. The
# recommendations app answers (its analytics rollups count the user's rows as staff may now
# see them). The console's tallies hear any write of consent (accounts.signals).
user_consent_changed = Signal()

# Inside the transaction of a write that may move what analytics count of users as they are
# now (their current-state row, their consent, their account deleted), after the write.
# Argument: ``user_ids`` (None: every user). The console answers (operator_console.tallies).
user_figures_changed = Signal()

# An upload was processed (committed): recompute what is derived from the user's data.
# Argument: ``user_id``. The recommendations app recomputes.
user_data_changed = Signal()


def announce(signal: Signal, **arguments: Any) -> list[Any]:
    """Send ``signal`` to its receivers and return their answers, in connection order."""
    if not signal.has_listeners():
        raise ImproperlyConfigured(f"Nothing receives {_name(signal)}: an app is missing.")
    return [answer for _receiver, answer in signal.send(sender=None, **arguments)]


def _name(signal: Signal) -> str:
    names = [name for name, value in globals().items() if value is signal]
    return names[0] if names else repr(signal)
