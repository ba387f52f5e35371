"""Extraction: article metadata, entity mentions, and their resolution."""
