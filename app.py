"""Latent Explorer: `streamlit run app.py`."""

from pathlib import Path

import streamlit as st

from explorer.experiments.base import experiments

st.set_page_config(page_title="Latent Explorer", layout="wide")

HERE = Path(__file__).parent
SECTIONS = {
    "Explore": [("overview", "Overview", ":material/home:"), ("latent_map", "Latent map", ":material/scatter_plot:"),
                ("generate", "Generate", ":material/auto_awesome:"), ("similar", "Similar", ":material/search:"),
                ("compare", "Compare", ":material/leaderboard:"), ("train", "Train", ":material/model_training:"),
                ("export", "Export", ":material/download:")],
    "Experiments": [(e.page, e.title, e.icon) for e in experiments().values()],  # explorer/experiments' table
}

pages = {
    section: [st.Page(f"pages/{name}.py", title=title, icon=icon, url_path=name, default=(name == "overview"))
              for name, title, icon in entries if (HERE / "pages" / f"{name}.py").exists()]
    for section, entries in SECTIONS.items()
}
st.navigation({k: v for k, v in pages.items() if v}).run()
