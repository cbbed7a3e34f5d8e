#!/usr/bin/env bash
# Install the Debian packages the portal needs, when they are missing and we may (root + apt).
#   tools/system-deps.sh run    WeasyPrint's libraries, LibreOffice Writer (Word papers to PDF),
#                               Ghostscript (fonts embedded), Liberation fonts (Times/Arial metrics),
#                               Carlito and Caladea (Calibri/Cambria metrics),
#                               ICU for PyICU
#   tools/system-deps.sh test   + qpdf, poppler-utils (pdftoppm, pdftotext, pdffonts), Chromium,
#                                 PostgreSQL server
# Quick when everything is present (a dpkg query). Never installs anything from outside the
# Debian archive.
set -u
what=${1:-run}
packages="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"
packages="$packages fonts-liberation2 fonts-crosextra-carlito fonts-crosextra-caladea libreoffice-writer-nogui ghostscript"
# PyICU (Vietnamese name order) builds against ICU: its headers, pkg-config and a C++ compiler
packages="$packages libicu-dev pkg-config g++"
if [ "$what" = "test" ]; then
  packages="$packages qpdf poppler-utils chromium postgresql"
fi
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing system packages:$missing (install them with apt-get; tests that need them skip)" >&2
  exit 0
fi
echo "Installing system packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 \
  || echo "Could not install:$missing" >&2
exit 0
