"""Streamlit helpers shared by the pages (the only part of explorer/ that imports streamlit)."""
