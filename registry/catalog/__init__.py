"""Products, batches and their evidence documents: the exporter's side of the registry."""
