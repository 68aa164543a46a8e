"""A fresh server's first visit is a deep link: the page runs inside the app's own navigation."""

from playwright.sync_api import expect

from tests.e2e.conftest import open_page, serve


def test_first_visit_to_a_page_url_gets_the_app_navigation(page, checkpoint_copy):
    # a server of its own: a shared one has already left Streamlit's old pages-folder mode
    with serve(checkpoint_copy, log_name="streamlit-deep-link.log") as url:
        open_page(page, url, "latent_map")
        nav = page.locator('[data-testid="stSidebarNav"]')
        expect(nav).to_contain_text("Experiments")  # the app's sections, not the pages/ folder's file list
        expect(nav).to_contain_text("Pre-train")  # a title of the app's (the file is pretrain.py)
        expect(page.get_by_role("heading", name="Latent map").first).to_be_visible()
        expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("held-out error", timeout=30_000)
        assert page.url.endswith("/latent_map")
        assert page.locator('[data-testid="stException"]').count() == 0
