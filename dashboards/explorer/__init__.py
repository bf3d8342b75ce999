"""`adwatch explorer`: the analyst's web page for what Kibana cannot show.

Why ads are connected (the evidence graph with hubs and refused bridges), a cluster's timeline,
places, identifiers and template, photos blurred until asked for, an ad with the text spans its
identifiers came from, and a case file to take away. Server-rendered (Flask + Jinja2 served by
waitress), no build step, nothing fetched from outside. Read-only: every page queries
Elasticsearch with the signed-in analyst's own credentials, so Elasticsearch roles decide what
each person sees. Like every dashboard it reads the index only and imports no other stage.
"""
