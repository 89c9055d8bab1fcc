"""Writing many rows in few statements, for the corrections and the export plan: each value
prepared for the database by a function chosen once per field."""

from django.db import connection


def adapter(field):
    """What Field.get_db_prep_save does for one of these fields, chosen once per field: its generic
    machinery, run for every value, was half the time of a large change or plan."""
    ops = connection.ops  # once: each lookup through the connection proxy costs as much as the adapting
    kind = field.get_internal_type()
    if kind == "JSONField":
        return lambda value: None if value is None else ops.adapt_json_value(value, field.encoder)
    if kind == "DateTimeField":
        return lambda value: None if value is None else ops.adapt_datetimefield_value(value)
    return lambda value: value
