"""One factory per model of every app (factory_boy), so a test states the rows it starts from
and can assert exact counts. Defaults are valid, small and unremarkable; a test names what
matters to it (``RecommendationFactory(user=..., status="approved")``).

One module per app (``tests.support.factories.accounts``, ``.consent``, ``.uploads``,
``.recommendations``, ``.operator_console``), each importing only its app and the factories
of the apps below it: an app's tests that take a factory import no app above their own
(import-linter checks the chain through this package).
"""
