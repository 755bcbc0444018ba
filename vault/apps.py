from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "vault"
    verbose_name = "Vault"

    def ready(self):
        from accounts.services import on_keys_shredded
        from activity import naming
        from vault.activity_names import name_events
        from vault.files import kinds as file_kinds
        from vault.notes import kinds as note_kinds
        from vault.trash.services import vault_wipe

        file_kinds.register()  # file and folder in the kinds registry (vault.kinds)
        note_kinds.register()
        on_keys_shredded(lambda user: vault_wipe(user=user))  # account deletion and admin reset wipe the vault
        naming.register(name_events)  # the activity log shows item names to whoever can open them
