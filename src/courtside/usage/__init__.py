"""Usage analytics: who calls what, how fast, how often it fails, and what to tune.

Modules, one job each: ``events`` (the event and its validation), ``tracker`` (buffered
recording), ``period`` and ``frame`` (what to read), ``patterns`` (Polars statistics),
``insights``, ``optimise``, ``report`` and ``charts``, ``alerts``, ``dashboard``.
"""
