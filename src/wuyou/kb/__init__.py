"""The knowledge base: articles, import/export, the matcher, suggestion feedback."""
