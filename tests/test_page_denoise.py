"""Denoise page on the shipped mnist5k checkpoints: scores, rows, chart, noise controls, missing models."""

from streamlit.testing.v1 import AppTest

from tests.apptest import open_app_page


def open_page() -> AppTest:
    return open_app_page("pages/denoise.py", timeout=120)


def test_denoiser_wins_at_its_training_level_and_controls_work():
    at = open_page()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    psnr = table["PSNR (dB)"]
    assert psnr["denoising AE"] > psnr["plain AE"] and psnr["denoising AE"] > psnr["PCA"]
    assert psnr["denoising AE"] > psnr["noisy input"]
    assert table.loc["denoising AE", "SSIM"] > table.loc["plain AE", "SSIM"]
    assert len(at.get("plotly_chart")) == 1
    n_rows = len(at.get("image"))
    assert n_rows == 5  # clean, noisy, three methods

    at.selectbox(key="denoise_kind").set_value("masking").run()
    assert at.slider(key="denoise_level_masking").value == 0.3  # masking's own default, not the Gaussian std
    at.slider(key="denoise_level_masking").set_value(0.5).run()
    assert not at.exception and not at.error
    masked = at.dataframe[0].value["PSNR (dB)"]
    assert masked["noisy input"] < psnr["denoising AE"]  # half the pixels gone: far from clean


def test_missing_checkpoints_are_one_clear_error(tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[1] / "checkpoints" / "mnist5k"
    shutil.copytree(shipped / "conv-ae-d16", tmp_path / "mnist5k" / "conv-ae-d16")
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path))
    at = open_page()
    assert not at.exception
    assert any("missing checkpoint" in e.value and "explorer ship" in e.value for e in at.error)
