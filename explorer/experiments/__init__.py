"""The lecture's experiments: one module each, importable and testable without Streamlit."""
