"""Open311 GeoReport v2: the standard API other cities' apps use (being built)."""
