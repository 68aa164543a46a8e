"""A zip of images uploaded from the browser, unpacked safely into <data root>/uploads/<name>/.

The archive comes from a stranger, so it is checked before a byte is written: a size limit on the
upload, on the unpacked total and on the number of members (zip bombs); no member may land outside its
folder (absolute paths, '..', drive letters, symlinks); only image files are kept (directories, dot
files and __MACOSX are skipped). It is unpacked into a temporary folder beside the target and renamed
into place, so a refusal or a failure halfway leaves nothing on disk.
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from explorer.atomic import atomic_write_dir
from explorer.datasets.folder import IMAGE_SUFFIXES
from explorer.errors import ExplorerError

MB = 2**20
MAX_ZIP_BYTES = 200 * MB  # the upload itself (Streamlit's own default limit is the same)
MAX_UNPACKED_BYTES = 2048 * MB  # the images once unpacked
MAX_MEMBERS = 100_000
UPLOADS = "uploads"


def safe_name(filename: str) -> str:
    """A folder name from an upload's file name: 'My photos (1).zip' -> 'My-photos-1'."""
    base = PurePosixPath(filename.replace("\\", "/")).name
    base = re.sub(r"\.zip$", "", base, flags=re.IGNORECASE)
    # No dots: the checkpoint folder is named after the data folder's stem, which would stop at a dot.
    return re.sub(r"[^A-Za-z0-9_-]+", "-", base).strip("-_")[:64] or "upload"


def _member_path(info: zipfile.ZipInfo, name: str) -> PurePosixPath | None:
    """The member's relative path; None for members to skip; ExplorerError for hostile ones."""
    raw = info.filename.replace("\\", "/")  # some Windows tools write backslashes
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ExplorerError(f"{name}: member {info.filename!r} is a symbolic link; refused, upload plain image files")
    path = PurePosixPath(raw)
    if raw.startswith("/") or ".." in path.parts or ":" in raw:
        raise ExplorerError(f"{name}: member {info.filename!r} would unpack outside its folder; refused")
    if info.is_dir() or any(p.startswith(".") or p == "__MACOSX" for p in path.parts):
        return None
    return path if path.suffix.lower() in IMAGE_SUFFIXES else None


def _strip_common_top(paths: list[PurePosixPath]) -> list[PurePosixPath]:
    """Drop one folder that holds everything ('shapes/circle/1.png' -> 'circle/1.png'), so the
    sub-folders inside it become the labels, as they would for the same folder on the server."""
    tops = {p.parts[0] for p in paths}
    if len(tops) == 1 and all(len(p.parts) > 1 for p in paths):
        return [PurePosixPath(*p.parts[1:]) for p in paths]
    return paths


def _plan(archive: zipfile.ZipFile, name: str) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Check every member before anything is written; the image members and where each goes."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ExplorerError(f"{name}: {len(infos):,} members, over the limit of {MAX_MEMBERS:,}; upload fewer files")
    kept = [(info, p) for info in infos if (p := _member_path(info, name)) is not None]
    if not kept:
        raise ExplorerError(
            f"{name}: no image files inside; zip a folder of .png / .jpg files (sub-folders become labels)")
    total = sum(info.file_size for info, _ in kept)
    if total > MAX_UNPACKED_BYTES:
        raise ExplorerError(f"{name}: {total / MB:,.0f} MB once unpacked, over the limit of "
                            f"{MAX_UNPACKED_BYTES // MB:,} MB; upload fewer or smaller images")
    return list(zip([i for i, _ in kept], _strip_common_top([p for _, p in kept]), strict=True))


def _unpack(archive: zipfile.ZipFile, plan, tmp: Path, name: str) -> None:
    tmp = tmp.resolve()
    written = 0
    for info, rel in plan:
        dest = (tmp / rel).resolve()
        if tmp not in dest.parents:  # belt and braces: _member_path already refused such names
            raise ExplorerError(f"{name}: member {info.filename!r} would unpack outside its folder; refused")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as src, open(dest, "wb") as out:
            # Count what actually comes out, not what the directory declares: a header can lie.
            while chunk := src.read(MB):
                written += len(chunk)
                if written > MAX_UNPACKED_BYTES:
                    raise ExplorerError(f"{name}: more than {MAX_UNPACKED_BYTES // MB:,} MB once unpacked; "
                                        "upload fewer or smaller images")
                out.write(chunk)


def extract_image_zip(fileobj, name: str, dest_root: str | Path) -> Path:
    """Unpack the image files of an uploaded zip into dest_root/uploads/<safe name>/ (replacing an older
    upload of the same name) and return that folder; ExplorerError with one line if it is refused."""
    size = fileobj.seek(0, 2)
    fileobj.seek(0)
    if size > MAX_ZIP_BYTES:
        raise ExplorerError(f"{name}: {size / MB:,.0f} MB, over the upload limit of {MAX_ZIP_BYTES // MB} MB; "
                            "upload a smaller zip or put the folder under a data root on the server")
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ExplorerError(f"{name}: not a readable zip archive; upload a .zip of image files") from None
    target = Path(dest_root) / UPLOADS / safe_name(name)
    uploads_existed = target.parent.exists()
    with archive:
        plan = _plan(archive, name)
        try:
            atomic_write_dir(target, lambda tmp: _unpack(archive, plan, tmp, name))
        except ExplorerError:
            _drop_if_new(target.parent, uploads_existed)
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError) as exc:
            # a damaged member (bad CRC, truncated data), an encrypted one, or a full disk
            _drop_if_new(target.parent, uploads_existed)
            detail = " ".join(str(exc).split())  # one line
            raise ExplorerError(f"{name}: could not unpack ({type(exc).__name__}: {detail}); "
                                "upload an intact zip of image files") from None
    return target


def _drop_if_new(folder: Path, existed: bool) -> None:
    """Remove the uploads/ folder again if this upload created it and it holds nothing."""
    if not existed and folder.is_dir() and not any(folder.iterdir()):
        shutil.rmtree(folder, ignore_errors=True)
