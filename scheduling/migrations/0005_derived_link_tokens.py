"""Manage and feed tokens are no longer stored in clear (issue #17, item 6).

Each booking and staff member gets a random `*_secret` from which, with SECRET_KEY, its token is
derived (common/link_tokens.py); the clear token of every existing row is replaced by its SHA-256,
so the links already sent (confirmation emails, subscribed calendars) keep working, and the clear
column is dropped. Irreversible by design: the clear tokens are gone.
"""

import hashlib
import secrets

from django.db import migrations, models

import scheduling.models


def hash_existing_tokens(apps, schema_editor):
    Booking = apps.get_model("scheduling", "Booking")
    StaffMember = apps.get_model("scheduling", "StaffMember")
    for booking in Booking.objects.only("pk", "manage_token").iterator():
        Booking.objects.filter(pk=booking.pk).update(
            manage_secret=secrets.token_urlsafe(24),
            manage_token_legacy_hash=hashlib.sha256(booking.manage_token.encode()).hexdigest(),
        )
    for member in StaffMember.objects.only("pk", "ics_token").iterator():
        StaffMember.objects.filter(pk=member.pk).update(
            ics_secret=secrets.token_urlsafe(24),
            ics_token_legacy_hash=hashlib.sha256(member.ics_token.encode()).hexdigest(),
        )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0004_booking_embedded_on")]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="manage_secret",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="booking",
            name="manage_token_legacy_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="staffmember",
            name="ics_secret",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="staffmember",
            name="ics_token_legacy_hash",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.RunPython(hash_existing_tokens, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="booking", name="manage_token"),
        migrations.RemoveField(model_name="staffmember", name="ics_token"),
        migrations.AlterField(
            model_name="booking",
            name="manage_secret",
            field=models.CharField(default=scheduling.models.new_token, max_length=64),
        ),
        migrations.AlterField(
            model_name="staffmember",
            name="ics_secret",
            field=models.CharField(default=scheduling.models.new_token, max_length=64),
        ),
    ]
