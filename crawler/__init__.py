"""Collect stage: Scrapy project, site definitions, the generic ads spider."""
