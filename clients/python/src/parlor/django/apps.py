"""The Django app of parlor's integration (``INSTALLED_APPS = [..., "parlor.django"]``)."""

from django.apps import AppConfig


class ParlorConfig(AppConfig):
    name = "parlor.django"
    # The last part of the name, "django", would read oddly in admin and migrations.
    label = "parlor"
    verbose_name = "parlor chat"
