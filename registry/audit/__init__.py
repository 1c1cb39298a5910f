"""The audit trail: append-only, hash-chained events (models, services) and the typed tag of
every event the registry writes, with its words (tags)."""
