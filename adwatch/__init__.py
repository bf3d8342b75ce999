"""AdWatch: the spine shared by every stage (config, records, Elasticsearch store, engine, CLI)."""

__version__ = "0.1.0"
