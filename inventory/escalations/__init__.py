"""Warranty coverage, escalations to vendors, and the export batches vendors receive."""
