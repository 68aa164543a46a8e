"""The app loads in a real browser and the shared sidebar choice survives a page switch."""

from playwright.sync_api import expect

from tests.e2e.conftest import open_page, wait_for_app


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def test_app_loads_with_sidebar_and_overview(page, app_url):
    open_page(page, app_url)
    page.get_by_text("Latent Explorer").first.wait_for()
    expect(sidebar(page)).to_contain_text("held-out error", timeout=30_000)  # the model card (retried until drawn)
    # the originals, the model's and PCA's strips (images may arrive after the script has finished)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stImage\"]').length >= 3", timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_checkpoint_choice_survives_page_switch(page, app_url):
    open_page(page, app_url)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1).click()
    page.get_by_role("option", name="vae-d2").click()
    wait_for_app(page)
    expect(sidebar(page)).to_contain_text("vae, code size d = 2", timeout=30_000)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Compare").click()
    page.wait_for_url("**/compare")
    wait_for_app(page)
    # the model card of the chosen checkpoint
    expect(sidebar(page)).to_contain_text("vae, code size d = 2", timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
