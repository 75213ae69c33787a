"""FeeOverride moves to billing (billing 0003 adds it to billing's state): state only, no SQL,
the table `connect_payments_feeoverride` stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("connect_payments", "0003_refund_replaces"),
        ("billing", "0003_feeoverride_from_connect_payments"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="FeeOverride")],
            database_operations=[],
        ),
    ]
