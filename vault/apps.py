from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "vault"
    verbose_name = "Vault"

    def ready(self):
        from accounts.services import on_keys_shredded
        from vault import search_kinds
        from vault.services import vault_wipe

        search_kinds.register()  # file, folder, note: the kinds registry (vault.kinds)
        on_keys_shredded(lambda user: vault_wipe(user=user))  # account deletion and admin reset wipe the vault
