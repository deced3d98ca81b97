"""The composition root: the one package that imports everything (the wallet core, sharing
and web) and puts it together: the app factory (app.py), the registry of every table for
SQLModel and Alembic (tables.py) and the sweep schedule (sweeper.py).

Nothing imports it except the CLI's operator commands, the tests, the benchmarks and the
Alembic env."""
