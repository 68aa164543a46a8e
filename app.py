"""Latent Explorer: `streamlit run app.py`. The pages and their sections are in explorer/ui/navigation.py."""

from explorer.ui.navigation import run_app

run_app()
