"""The suspicious-activity desk: evidence of fakes, for whoever must act on it (issue 11 §6)."""
