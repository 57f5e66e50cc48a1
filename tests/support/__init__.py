"""What tests share besides fixtures: factories (one per model), clients signed in through the
real services, the commit and concurrency helpers, Plaid bodies, engine inputs, recorded OAuth
providers, the mailbox and a process runner.

Test modules import helpers from here and never from one another; fixtures stay in the root
``conftest.py``. Each helper module imports only the apps its callers may: the factories are
one module per app (``factories.accounts`` ... ``factories.operator_console``), consent is
granted in ``consent``, a synthetic dataset is seeded and approved in ``insights``. An app's
tests import only the helpers of their app and the apps below it; import-linter follows the
chain through this package (pyproject.toml, [tool.importlinter]).
"""
