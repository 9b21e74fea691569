"""The demo district, built from public files kept in data/."""
