"""Show stage: panel definitions in elasticsearch.dsl, Kibana saved objects, statistics, exports."""
