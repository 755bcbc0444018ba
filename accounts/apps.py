from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.conf import settings

        from accounts import (
            live_credentials,
            schema,  # noqa: F401 - registers the OpenAPI auth extensions
        )
        from accounts.activity_names import name_app_passwords
        from activity import naming
        from activity.live import credentials
        from locker.crypto import kdf

        kdf.set_argon2_concurrency(settings.LOCKER_ARGON2_CONCURRENCY)  # a burst of sign-ins waits for a slot

        # a live stream ends when the session or app password it was opened with does
        credentials.register(identify=live_credentials.identify, valid=live_credentials.valid)
        naming.register(name_app_passwords)  # the activity log names app passwords for their owner
