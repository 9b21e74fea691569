"""Salvage assessments, data sanitization, harvested parts, recycling batches and end of
support."""
