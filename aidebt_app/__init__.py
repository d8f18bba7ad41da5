"""Streamlit-side helpers shared by app.py and the pages (the only code that imports streamlit
besides them)."""
