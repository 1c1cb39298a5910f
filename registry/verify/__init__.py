"""Public verification: the GS1 Digital Link resolver, the verdict page, scans and signals."""
