"""The operators' group with its permissions (accounts.roles, as it was then); the
staff users of the time join it (the docs then said: tick "Staff status").

Django creates permissions after all migrations have run (post_migrate), so on a new
database they are created here first, as that signal would.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATORS_GROUP = "Operators"
OPERATOR_PERMISSIONS = (
    ("chat", "view_thread"),
    ("chat", "change_thread"),
    ("chat", "view_message"),
    ("chat", "view_visitor"),
)


def create_operators_group(apps, schema_editor):
    app_config = apps.get_app_config("chat")
    app_config.models_module = True  # as create_permissions expects of a real app
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name=OPERATORS_GROUP)
    group.permissions.add(
        *(
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in OPERATOR_PERMISSIONS
        )
    )
    User = apps.get_model("accounts", "User")
    group.user_set.add(*User.objects.filter(is_staff=True, is_superuser=False))


def remove_operators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=OPERATORS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_session_generation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("chat", "0002_attachments"),
    ]

    operations = [
        migrations.RunPython(create_operators_group, remove_operators_group),
    ]
