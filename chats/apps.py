from django.apps import AppConfig


class ChatsConfig(AppConfig):
    name = "chats"
    verbose_name = "Chats"

    def ready(self):
        from chats import mydata, search_kind

        search_kind.register()  # messages in the vault's kinds registry (search, reindex, account wipe)
        mydata.register()  # chats with their messages in the data export
