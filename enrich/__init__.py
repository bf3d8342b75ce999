"""Enrich stage: pure enrichment functions, candidate search, linking, clustering, the worker."""
