"""Instance backups: ``manage.py backup``, ``backup_verify`` and ``restore`` (docs/backup.md)."""
