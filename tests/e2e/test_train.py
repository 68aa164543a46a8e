"""Train page in a real browser: a tiny model trains on digits with the progress bar moving, then it is
selected in the sidebar; Cancel stops a run and nothing is written; a zip of images uploaded through the
file uploader is unpacked and trained on."""

import io
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from explorer.dataroots import data_roots
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
DIGITS = "digits: scikit-learn's 1,797 handwritten digits, 8 x 8"


def choose(page, label: str, option: str) -> None:
    page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(has_text=label).click()
    page.get_by_role("option", name=option).first.click()
    wait_for_app(page)


def pick(page, group: str, option: str) -> None:
    """Click one option of the radio group labelled `group`."""
    page.locator('[data-testid="stRadio"]').filter(has_text=group).get_by_text(option, exact=True).click()
    wait_for_app(page)


def fill(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_for_app(page)


def set_budget(page, name: str, steps: int) -> None:
    fill(page, "Code size d", "2")
    pick(page, "Training budget", "Steps")
    box = page.locator('[data-testid="stNumberInput"]').filter(has_text="Steps").locator("input")  # not the radio
    box.fill(str(steps))
    box.press("Enter")
    wait_for_app(page)
    fill(page, "Checkpoint name", name)


def no_traceback(page) -> None:
    assert "Traceback" not in page.content() and page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.slow  # the server trains with torch's default threads: tens of seconds on a busy 2-core machine
def test_tiny_model_trains_with_moving_progress_and_appears_in_sidebar(page, app_url, checkpoint_copy):
    open_page(page, app_url, "train")
    choose(page, "Dataset", DIGITS)
    expect(page.get_by_text("the default for this data size", exact=False)).to_be_visible()  # the automatic budget
    set_budget(page, "e2e-mlp-d2", steps=300)
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
    no_traceback(page)


def test_cancel_stops_training_and_saves_nothing(page, app_url, checkpoint_copy):
    open_page(page, app_url, "train")
    choose(page, "Dataset", DIGITS)
    set_budget(page, "e2e-cancelled", steps=100_000)
    page.get_by_role("button", name="Train", exact=True).click()
    page.locator('[data-testid="stProgress"]').wait_for()
    page.get_by_text(re.compile(r"Step [\d,]+/100,000")).first.wait_for(timeout=120_000)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Training cancelled at step", exact=False).wait_for(timeout=60_000)
    wait_for_app(page)
    assert not (checkpoint_copy / "digits" / "e2e-cancelled").exists()
    assert not [p for p in (checkpoint_copy / "digits").iterdir() if p.name.startswith(".e2e-cancelled")]


def image_zip(path: Path) -> Path:
    """Two labelled classes of small colour images, zipped inside one top folder as people do."""
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as zf:
        for label, value in (("bright", 220), ("dark", 30)):
            for i in range(30):
                img = np.clip(value + rng.normal(0, 20, (12, 12, 3)), 0, 255).astype(np.uint8)
                buf = io.BytesIO()
                Image.fromarray(img).save(buf, format="PNG")
                zf.writestr(f"e2e-shapes/{label}/{i}.png", buf.getvalue())
    return path


def test_uploaded_zip_is_unpacked_and_trained_on(page, app_url, checkpoint_copy, tmp_path):
    archive = image_zip(tmp_path / "e2e upload.zip")
    root = data_roots()[0]
    created = [p for p in (root / "uploads", root) if not p.exists()]  # innermost first
    folder = root / "uploads" / "e2e-upload"  # the server runs with this process's environment
    try:  # that root may be the project's data/ folder: the test removes what it put there
        open_page(page, app_url, "train")
        choose(page, "Dataset", "folder: your own images")
        pick(page, "Images from", "Upload a zip")
        expect(page.get_by_role("button", name="Train", exact=True)).to_be_disabled()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(archive))
        caption = page.get_by_text("Unpacked into", exact=False)
        caption.wait_for(timeout=60_000)
        wait_for_app(page)
        assert str(folder) in caption.inner_text()
        assert sorted(p.name for p in folder.iterdir()) == ["bright", "dark"]
        set_budget(page, "e2e-upload-d2", steps=30)
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("Saved", exact=False).first.wait_for(timeout=240_000)
        wait_for_app(page)
        assert (checkpoint_copy / "folder-e2e-upload" / "e2e-upload-d2" / "config.json").is_file()
        no_traceback(page)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for made in created:
            if made.is_dir() and not any(made.iterdir()):
                made.rmdir()
