"""Database access of the API, one module per resource, keyword-only functions."""
