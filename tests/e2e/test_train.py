"""Train page in a real browser: a tiny model trains on digits with the progress bar moving, then it is
selected in the sidebar; Cancel stops a run and nothing is written."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page, wait_for_app

PROGRESS_JS = """() => {
  window.__progress = [];
  window.__poll = setInterval(() => {
    const bar = document.querySelector('[data-testid="stProgress"] [role="progressbar"]');
    if (bar) {
      const v = bar.getAttribute('aria-valuenow');
      if (window.__progress[window.__progress.length - 1] !== v) window.__progress.push(v);
    }
  }, 30);
}"""


def choose(page, label: str, option: str) -> None:
    page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(has_text=label).click()
    page.get_by_role("option", name=option).first.click()
    wait_for_app(page)


def fill(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_for_app(page)


def set_up(page, app_url, name: str, epochs: int) -> None:
    open_page(page, app_url, "train")
    choose(page, "Dataset", "digits: scikit-learn digits (8 x 8)")
    fill(page, "Code size d", "2")
    fill(page, "Epochs", str(epochs))
    fill(page, "Checkpoint name", name)


@pytest.mark.slow  # the server trains with torch's default threads: tens of seconds on a busy 2-core machine
def test_tiny_model_trains_with_moving_progress_and_appears_in_sidebar(page, app_url, checkpoint_copy):
    set_up(page, app_url, "e2e-mlp-d2", epochs=6)
    page.evaluate(PROGRESS_JS)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Saved", exact=False).first.wait_for(timeout=240_000)
    wait_for_app(page)
    seen = page.evaluate("() => { clearInterval(window.__poll); return window.__progress; }")
    assert len(set(seen)) >= 2, f"progress never moved: {seen}"  # observed at least one change
    boxes = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]')
    expect(boxes.nth(0).locator("input")).to_have_value("digits", timeout=60_000)  # the sidebar picked it
    expect(boxes.nth(1).locator("input")).to_have_value("e2e-mlp-d2", timeout=60_000)
    assert (checkpoint_copy / "digits" / "e2e-mlp-d2" / "config.json").is_file()


def test_cancel_stops_training_and_saves_nothing(page, app_url, checkpoint_copy):
    set_up(page, app_url, "e2e-cancelled", epochs=400)
    page.get_by_role("button", name="Train", exact=True).click()
    page.locator('[data-testid="stProgress"]').wait_for()
    page.get_by_text("Epoch 1/400", exact=False).first.wait_for(timeout=120_000)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Training cancelled at epoch", exact=False).wait_for(timeout=60_000)
    wait_for_app(page)
    assert not (checkpoint_copy / "digits" / "e2e-cancelled").exists()
    assert not [p for p in (checkpoint_copy / "digits").iterdir() if p.name.startswith(".e2e-cancelled")]
