from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewslettersConfig(AppConfig):
    name = "newsletters"
    verbose_name = _("Newsletters")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import inbound, tracking
        from django.db.models.signals import post_migrate

        from config.roles import sync_roles
        from newsletters import catalogue, esp_events

        catalogue.forget()  # its receivers connect on import; start from the database
        tracking.connect(esp_events.handle_tracking, dispatch_uid="newsletters.tracking")
        inbound.connect(esp_events.handle_inbound, dispatch_uid="newsletters.inbound")
        post_migrate.connect(sync_roles, dispatch_uid="config.roles.sync_roles")
