"""Certificates as facts (issue 18 §2): structured evidence, required kinds, expiry alerts."""
