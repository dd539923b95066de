"""`newsmon ui`: a read-only story browser over the DuckDB file (Starlette, Jinja2, no JavaScript)."""
