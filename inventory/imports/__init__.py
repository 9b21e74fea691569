"""Bulk import of devices, sites and technicians from CSV and XLSX files, and the device export."""
