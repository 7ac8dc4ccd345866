"""File and folder names that every common file system accepts (Windows, macOS, Linux).

Used wherever the application names a file after user text: the archive's folders and the
uploaded files copied into it.
"""

import re
import unicodedata
from pathlib import PurePosixPath

# Characters that Windows, macOS or Linux refuse in a name, and control characters.
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}


def safe_name(text: str, *, limit: int = 60, default: str = "未命名") -> str:
    """``text`` as one file or folder name every common file system accepts.

    Forbidden characters (/ \\ : * ? " < > | and control characters) become "_", runs of white
    space one space; leading and trailing dots and spaces go (Windows drops them); at most
    ``limit`` characters (60 CJK characters are 180 bytes in UTF-8, within the usual 255);
    Windows' reserved device names (CON, NUL, COM1...) get a "_" in front.
    """
    name = unicodedata.normalize("NFC", text)
    name = re.sub(r"\s+", " ", name)  # tabs and line breaks too, before control characters go
    name = _FORBIDDEN.sub("_", name).strip(" .")
    name = name[:limit].rstrip(" .")
    if not name:
        name = default
    if name.split(".")[0].upper() in _RESERVED:
        name = "_" + name
    return name


def safe_file_name(original: str, *, limit: int = 80) -> str:
    """An uploaded file's original name made safe, keeping its extension."""
    path = PurePosixPath(original.replace("\\", "/"))
    suffix = safe_name(path.suffix, limit=16, default="") if path.suffix else ""
    suffix = f".{suffix.lstrip('.')}" if suffix.strip("._") else ""
    stem = safe_name(path.name[: -len(path.suffix)] if path.suffix else path.name, limit=limit)
    return f"{stem}{suffix}"
