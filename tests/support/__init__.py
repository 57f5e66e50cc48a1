"""What tests share besides fixtures: factories (one per model), clients signed in through the
real services, the commit and concurrency helpers, Plaid bodies, engine inputs, recorded OAuth
providers, the mailbox and a process runner.

Test modules import helpers from here and never from one another; fixtures stay in the root
``conftest.py``. This package sits outside the apps, so it may import any of them while the
apps keep their one-way order.
"""
