"""changed_at on folders, files and notes (every change, where modified_at is the content's); a sealed excerpt of
the text extracted from a file version (Derived.text_sealed), for search snippets."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def changed_at_from_modified_at(apps, schema_editor):
    """Existing items last changed when they were last modified, as far as anyone knows (not at this migration:
    an export ``?since`` after the upgrade would otherwise list everything)."""
    for name in ("Folder", "File", "Note"):
        apps.get_model("vault", name).objects.update(changed_at=F("modified_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("vault", "0010_star"),
    ]

    operations = [
        migrations.AddField(
            model_name="derived",
            name="text_sealed",
            field=models.TextField(
                blank=True, help_text="The first characters of the extracted text, sealed (search snippets), or empty."
            ),
        ),
        migrations.AddField(
            model_name="file",
            name="changed_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now,
                help_text="When anything about the item last changed (name, place, tags or content).",
            ),
        ),
        migrations.AddField(
            model_name="folder",
            name="changed_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now,
                help_text="When anything about the item last changed (name, place, tags or content).",
            ),
        ),
        migrations.AddField(
            model_name="note",
            name="changed_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now,
                help_text="When anything about the item last changed (name, place, tags or content).",
            ),
        ),
        migrations.AlterField(
            model_name="file",
            name="modified_at",
            field=models.DateTimeField(
                db_index=True,
                default=django.utils.timezone.now,
                help_text="When the content (a file's bytes, a note's title or body) changed.",
            ),
        ),
        migrations.AlterField(
            model_name="note",
            name="modified_at",
            field=models.DateTimeField(
                db_index=True,
                default=django.utils.timezone.now,
                help_text="When the content (a file's bytes, a note's title or body) changed.",
            ),
        ),
        migrations.RunPython(changed_at_from_modified_at, migrations.RunPython.noop),
    ]
