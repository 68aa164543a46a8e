"""The app loads in a real browser and the shared sidebar survives a page switch."""

from tests.e2e.conftest import open_page, wait_for_app


def test_app_loads_with_sidebar_and_overview(page, app_url):
    open_page(page, app_url)
    page.get_by_text("Latent Explorer").first.wait_for()
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert "held-out error" in sidebar.inner_text()
    assert page.locator('[data-testid="stImage"]').count() >= 3  # originals, model, PCA strips
    assert "Exception" not in page.content()


def test_checkpoint_choice_survives_page_switch(page, app_url):
    open_page(page, app_url)
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1)
    box.click()
    page.get_by_role("option", name="vae-d2").click()
    wait_for_app(page)
    assert "vae" in page.locator('[data-testid="stSidebar"]').inner_text()
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Compare").first.click() if page.locator(
        '[data-testid="stSidebarNav"] a').filter(has_text="Compare").count() else None
    wait_for_app(page)
    assert "vae-d2" in page.locator('[data-testid="stSidebar"]').inner_text()
