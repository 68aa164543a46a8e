"""Uploaded zips of images: a good one unpacks into <root>/uploads/<name>/ and loads as a folder dataset;
hostile or broken ones (traversal, absolute paths, symlinks, bombs, not a zip, corrupt, no images) are
refused with one line, and nothing is left on disk. Every archive here is written by the test."""

import io
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from explorer import uploads
from explorer.datasets.folder import load_folder
from explorer.errors import ExplorerError
from explorer.uploads import extract_image_zip, safe_name


def png(value: int = 128) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((12, 12), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            if name.endswith("/"):
                zf.writestr(zipfile.ZipInfo(name), b"")
            else:
                zf.writestr(name, data)
    buf.seek(0)
    return buf


def files_under(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def refused(fileobj, dest, match: str, name: str = "photos.zip") -> str:
    with pytest.raises(ExplorerError, match=match) as err:
        extract_image_zip(fileobj, name, dest)
    msg = str(err.value)
    assert "\n" not in msg and name in msg
    return msg


def test_a_good_zip_unpacks_its_images_only_and_loads_with_labels(tmp_path):
    buf = make_zip({
        "shapes/": b"", "shapes/circle/": b"",
        "shapes/circle/a.png": png(10), "shapes/circle/b.PNG": png(20), "shapes/square/c.png": png(200),
        "shapes/readme.txt": b"hello", "shapes/.DS_Store": b"x", "__MACOSX/shapes/circle/._a.png": b"junk",
        "shapes/.hidden/d.png": png(),
    })
    out = extract_image_zip(buf, "My shapes (v1.2).zip", tmp_path)
    assert out == tmp_path / "uploads" / "My-shapes-v1-2"
    assert files_under(out) == ["circle", "circle/a.png", "circle/b.PNG", "square", "square/c.png"]
    assert files_under(tmp_path / "uploads") == ["My-shapes-v1-2"] + [f"My-shapes-v1-2/{f}" for f in files_under(out)]
    data = load_folder(str(out), size=8)
    assert len(data) == 3 and data.class_names == ["circle", "square"]


def test_a_flat_zip_and_a_second_upload_of_the_same_name_replaces_the_first(tmp_path):
    extract_image_zip(make_zip({"a.png": png(), "b.png": png()}), "flat.zip", tmp_path)
    out = extract_image_zip(make_zip({"c.png": png()}), "flat.zip", tmp_path)
    assert files_under(out) == ["c.png"]
    assert files_under(tmp_path / "uploads") == ["flat", "flat/c.png"]  # no temporary or old folders


@pytest.mark.parametrize("filename,expected", [
    ("photos.zip", "photos"), ("My photos (1).ZIP", "My-photos-1"), ("../../etc/x.zip", "x"),
    ("C:\\Users\\me\\pics.zip", "pics"), (".zip", "upload"), ("...", "upload"), ("_a.b-c_.zip", "a-b-c"),
])
def test_safe_names(filename, expected):
    assert safe_name(filename) == expected


@pytest.mark.parametrize("member", ["../evil.png", "ok/../../evil.png", "/tmp/evil.png", "C:/evil.png",
                                    "..\\evil.png", "a\\..\\..\\evil.png"])
def test_members_that_would_escape_are_refused_and_nothing_is_written(tmp_path, member):
    dest = tmp_path / "root"
    dest.mkdir()
    buf = make_zip({"good.png": png(), member: png()})
    assert "outside its folder" in refused(buf, dest, "refused")
    assert files_under(tmp_path) == ["root"]


def test_a_symlink_member_is_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("good.png", png())
        link = zipfile.ZipInfo("link.png")
        link.create_system = 3  # unix: the mode lives in the high 16 bits of external_attr
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    refused(buf, tmp_path, "symbolic link")
    assert files_under(tmp_path) == []


def test_zip_bombs_are_refused_before_unpacking(tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UNPACKED_BYTES", 1 * uploads.MB)
    bomb = make_zip({"a.png": png(), "huge.png": bytes(3 * uploads.MB)})  # a few kB compressed
    assert len(bomb.getvalue()) < 50_000
    refused(bomb, tmp_path, "once unpacked")
    monkeypatch.setattr(uploads, "MAX_MEMBERS", 3)
    refused(make_zip({f"{i}.png": png() for i in range(5)}), tmp_path, "members")
    monkeypatch.setattr(uploads, "MAX_ZIP_BYTES", 100)
    refused(make_zip({"a.png": png()}), tmp_path, "upload limit")
    assert files_under(tmp_path) == []


def test_a_header_that_understates_the_size_is_refused(tmp_path):
    """The central directory claims 10 bytes for a 3 MB member: it passes the plan, and unpacking stops
    at the claimed size and fails its checksum; nothing is kept."""
    raw = bytearray(make_zip({"a.png": png(), "b.png": bytes(3 * uploads.MB)}).getvalue())
    cd = raw.rfind(b"PK\x01\x02")  # the last central-directory entry: b.png
    raw[cd + 24 : cd + 28] = (10).to_bytes(4, "little")  # its uncompressed size
    refused(io.BytesIO(bytes(raw)), tmp_path, "could not unpack")
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("data", [b"", b"not a zip at all", png()])
def test_not_a_zip_is_refused(tmp_path, data):
    refused(io.BytesIO(data), tmp_path, "not a readable zip")
    assert files_under(tmp_path) == []


def test_a_corrupt_member_is_refused_and_an_older_upload_survives(tmp_path):
    old = extract_image_zip(make_zip({"old.png": png()}), "photos.zip", tmp_path)
    raw = bytearray(make_zip({"a.png": png(), "b.png": bytes(range(256)) * 400}).getvalue())
    start = raw.find(b"b.png") + len("b.png") + 100  # inside b.png's compressed data
    raw[start : start + 50] = bytes(50)
    refused(io.BytesIO(bytes(raw)), tmp_path, "could not unpack")
    assert files_under(tmp_path / "uploads") == ["photos", "photos/old.png"] and old.is_dir()


def test_a_zip_without_images_is_refused(tmp_path):
    refused(make_zip({"notes.txt": b"x", "dir/": b"", "__MACOSX/._a.png": b"x"}), tmp_path, "no image files")
    assert files_under(tmp_path) == []
