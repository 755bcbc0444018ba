from django.apps import AppConfig


class ChatsConfig(AppConfig):
    name = "chats"
    verbose_name = "Chats"

    def ready(self):
        from activity import naming
        from chats import mydata, search_kind
        from chats.activity_names import name_chats

        search_kind.register()  # messages in the vault's kinds registry (search, reindex, account wipe)
        mydata.register()  # chats with their messages in the data export
        naming.register(name_chats)  # the activity log names chats for their owner
