"""Open one page of the app in Streamlit's AppTest, as a visitor switching to it would."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app.py"


def open_app_page(page: str, timeout: float = 180, **session_state) -> AppTest:
    """AppTest of app.py with `page` (e.g. "pages/compare.py") run; session_state is set before the run."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    for key, value in session_state.items():
        at.session_state[key] = value
    return at.switch_page(page).run()
