from django.db import migrations, models
from django.db.models import Count, Min


def forget_duplicate_session_keys(apps, schema_editor):
    """Visitors made by the race this constraint closes share a session key. A
    visitor's identity is the visitor id kept in the session, not this column, so
    all but the first of each keep their rows and lose only the key."""
    Visitor = apps.get_model("chat", "Visitor")
    shared = (
        Visitor.objects.exclude(session_key="")
        .values("session_key")
        .annotate(count=Count("pk"), first=Min("pk"))
        .filter(count__gt=1)
    )
    for row in shared.iterator():
        Visitor.objects.filter(session_key=row["session_key"]).exclude(
            pk=row["first"]
        ).update(session_key="")


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0003_attachment_uploader_key"),
    ]

    operations = [
        migrations.RunPython(forget_duplicate_session_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="visitor",
            name="session_key",
            field=models.CharField(
                blank=True, max_length=64, verbose_name="session key"
            ),
        ),
        migrations.AddConstraint(
            model_name="visitor",
            constraint=models.UniqueConstraint(
                condition=models.Q(("session_key", ""), _negated=True),
                fields=("session_key",),
                name="visitor_unique_session_key",
            ),
        ),
    ]
