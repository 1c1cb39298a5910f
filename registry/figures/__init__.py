"""Figures for the trade offices' monitoring and evaluation: dashboard, exports, reports."""
