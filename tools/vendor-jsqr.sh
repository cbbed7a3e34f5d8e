#!/bin/sh
# Refresh the QR decoder the check-in page uses (portal/static/vendor/jsqr/): the npm package
# jsqr's dist/jsQR.js with its Apache-2.0 licence. Served by the portal itself: no CDN.
set -eu
VERSION="${1:-1.4.0}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "jsqr@$VERSION" >/dev/null && tar xzf "jsqr-$VERSION.tgz")
mkdir -p "$here/portal/static/vendor/jsqr"
cp "$work/package/dist/jsQR.js" "$here/portal/static/vendor/jsqr/jsQR.js"
cp "$work/package/LICENSE" "$here/portal/static/vendor/jsqr/LICENSE"
echo "jsqr $VERSION (npm), dist/jsQR.js" > "$here/portal/static/vendor/jsqr/VERSION"
