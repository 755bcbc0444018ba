"""Seal app-password names (they were stored in plaintext).

A migration has no user's data key, so it cannot wrap a new key by it. It
wraps each row's new key to the owner's X25519 public key instead (stored in
the clear in the keyring; the private key is wrapped by the data key), which
anyone may do and only the owner can undo. The name is sealed under that key
with the same associated data as names sealed by the application
(``accounts.keys``), so both kinds of rows open the same way. No name is lost.

The associated data and formats are written out here rather than imported,
so this migration keeps doing what it did when the application code moves on.
"""

from django.db import migrations, models

from locker.crypto import aead
from locker.crypto.aead import context
from locker.crypto.keys import b64d, b64e, new_key, wrap_to_public_key


def seal_names(apps, schema_editor):
    AppPassword = apps.get_model("accounts", "AppPassword")
    Keyring = apps.get_model("accounts", "Keyring")
    if schema_editor.connection.vendor == "sqlite":
        # Overwrite freed space with zeros, so the plaintext does not linger in the database file's free pages.
        schema_editor.execute("PRAGMA secure_delete = ON")
    rows = list(AppPassword.objects.all())
    public_keys = dict(
        Keyring.objects.filter(user_id__in={row.user_id for row in rows}).values_list("user_id", "public_key")
    )
    orphans = [str(row.pk) for row in rows if row.user_id not in public_keys]
    if orphans:
        # Cannot happen (keys and app passwords are made and destroyed together), and without the owner's
        # public key there is no way to seal the name for them: stop, changing nothing, rather than lose it.
        raise RuntimeError(
            "These app passwords belong to users without a keyring, so their names cannot be sealed: "
            + ", ".join(orphans)
        )
    for row in rows:
        key = new_key()
        row.key_wrapped = wrap_to_public_key(
            key, b64d(public_keys[row.user_id]), aad=context("app-password-key", row.user_id, row.pk)
        )
        row.name_sealed = b64e(
            aead.seal(key, row.name.encode(), aad=context("app-password-name", row.user_id, row.pk))
        )
        row.name = ""
        row.save(update_fields=["key_wrapped", "name_sealed", "name"])


def cannot_unseal(apps, schema_editor):
    if apps.get_model("accounts", "AppPassword").objects.exists():
        raise RuntimeError("App-password names are sealed: only their owners' keys open them; revoke them first.")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_vault_keep_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="apppassword",
            name="key_wrapped",
            field=models.TextField(
                default="", help_text="This row's own key, wrapped by the user's data key (or public key)."
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="apppassword",
            name="name_sealed",
            field=models.TextField(default="", help_text="The name, sealed under this row's key."),
            preserve_default=False,
        ),
        migrations.RunPython(seal_names, cannot_unseal),
        migrations.RemoveField(model_name="apppassword", name="name"),
    ]
