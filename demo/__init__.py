"""The local demo marketplace and its ground-truth world generator."""
