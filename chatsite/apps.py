from django.contrib.admin.apps import AdminConfig


class SohbetAdminConfig(AdminConfig):
    """django.contrib.admin with Sohbet's admin site (two-step sign-in) as the default
    ``admin.site``."""

    default_site = "chatsite.admin.SohbetAdminSite"
