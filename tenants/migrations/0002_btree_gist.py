# btree_gist lives in the public schema (a shared app's migration): created from a tenant app it
# would land in one tenant's schema, and dropping that tenant would drop every tenant's
# exclusion constraints.
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]
    operations = [BtreeGistExtension()]
