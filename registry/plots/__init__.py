"""Production plots of a batch for EU due diligence (issue 18 §3)."""
