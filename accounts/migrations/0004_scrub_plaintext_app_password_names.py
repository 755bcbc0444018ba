"""After 0003: push the sealed rows into SQLite's database file and empty its write-ahead log.

0003 ran with ``secure_delete`` on, so the pages it freed hold zeros, but until a
checkpoint the database file keeps the old pages and the log keeps copies of
them. A truncating checkpoint cannot run inside a transaction, hence a
migration of its own that is not atomic. Nothing to do on PostgreSQL (old row
versions there go with VACUUM; see docs/security.md).
"""

from django.db import migrations


def checkpoint(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0003_app_password_name_sealed"),
    ]

    operations = [
        migrations.RunPython(checkpoint, migrations.RunPython.noop),
    ]
