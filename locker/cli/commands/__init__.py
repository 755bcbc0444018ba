"""The commands of ``locker``, one module a concern; :mod:`locker.cli.main` imports them all."""
