"""The app's pages in their sections, and the one way into them, whichever way Streamlit starts a run.

Streamlit starts in its old multipage mode whenever a folder named pages/ sits beside the entry script, and
stays in it until some run calls st.navigation. In that mode a page URL (a fresh server's first visit to a
deep link, and every AppTest run) executes the page file alone: no sections, no wide layout. So every page
starts with `page_start()`: run alone, it runs the whole app in its place, whose st.navigation (which leaves
the old mode by itself; no private Streamlit state is touched) runs the same page file inside it.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"
DEFAULT_PAGE = "overview"
# the Explore section: [(page file stem = URL path, title, icon)]; the Experiments section is explorer/experiments'
# table, where each experiment names its page, title and icon
EXPLORE = [("overview", "Overview", ":material/home:"), ("latent_map", "Latent map", ":material/scatter_plot:"),
           ("generate", "Generate", ":material/auto_awesome:"), ("similar", "Similar", ":material/search:"),
           ("compare", "Compare", ":material/leaderboard:"), ("train", "Train", ":material/model_training:"),
           ("export", "Export", ":material/download:")]

# True while run_app runs a page. A context variable: each session's script runs in its own thread.
_IN_APP: ContextVar[bool] = ContextVar("explorer_page_in_app", default=False)


def app_pages() -> dict[str, list[st.Page]]:
    """The navigation's sections of file pages (so AppTest.switch_page and st.page_link find them by path)."""
    from explorer.experiments.base import experiments

    sections = {"Explore": EXPLORE, "Experiments": [(e.page, e.title, e.icon) for e in experiments().values()]}
    pages = {section: [st.Page(PAGES_DIR / f"{name}.py", title=title, icon=icon, url_path=name,
                               default=(name == DEFAULT_PAGE))
                       for name, title, icon in entries if (PAGES_DIR / f"{name}.py").exists()]
             for section, entries in sections.items()}
    return {section: entries for section, entries in pages.items() if entries}


def run_app() -> None:
    """The whole app: wide layout, the sectioned navigation, and the page the URL asks for."""
    st.set_page_config(page_title="Latent Explorer", layout="wide")
    page = st.navigation(app_pages())
    token = _IN_APP.set(True)
    try:
        page.run()
    finally:
        _IN_APP.reset(token)


def page_start() -> None:
    """First line of every page. Run alone (Streamlit's old multipage mode), the page runs the app instead,
    whose navigation runs this page inside it, then stops this outer run. No rerun, so a click that started
    this run is not lost."""
    if not _IN_APP.get():
        run_app()
        st.stop()
