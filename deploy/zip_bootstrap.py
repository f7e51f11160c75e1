"""Zips a Lambda `bootstrap` so it stays executable (mode 0755) inside the archive.

Usage: python3 deploy/zip_bootstrap.py target/lambda/bootstrap target/lambda/bootstrap.zip
(`zip` may not be installed; `python3 -m zipfile` does not record the file mode.)
"""

import sys
import zipfile


def main() -> None:
    source, archive = sys.argv[1], sys.argv[2]
    info = zipfile.ZipInfo("bootstrap", date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = (0o100755 << 16)  # regular file, rwxr-xr-x
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(source, "rb") as binary, zipfile.ZipFile(archive, "w") as out:
        out.writestr(info, binary.read())


if __name__ == "__main__":
    main()
