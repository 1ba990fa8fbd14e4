from django.db import migrations

# The model refuses updates and deletes; on PostgreSQL the database refuses
# them too, so no script or shell session can rewrite the audit trail.
FORWARD = """
CREATE OR REPLACE FUNCTION monographs_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER monographs_auditevent_append_only
    BEFORE UPDATE OR DELETE ON monographs_auditevent
    FOR EACH ROW EXECUTE FUNCTION monographs_refuse_change();
CREATE TRIGGER monographs_edition_append_only
    BEFORE UPDATE OR DELETE ON monographs_edition
    FOR EACH ROW EXECUTE FUNCTION monographs_refuse_change();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS monographs_auditevent_append_only ON monographs_auditevent;
DROP TRIGGER IF EXISTS monographs_edition_append_only ON monographs_edition;
DROP FUNCTION IF EXISTS monographs_refuse_change();
"""


def forward(apps, schema_editor):
    schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("monographs", "0003_roles")]

    operations = [migrations.RunPython(forward, backward)]
