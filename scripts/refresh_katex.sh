#!/usr/bin/env bash
# Refresh the vendored KaTeX (matcalc/present/katex) from the npm registry's katex tarball:
# the minified script and style sheet, the woff2 fonts, the licence and the version.
# Usage: scripts/refresh_katex.sh [VERSION]   (default: the newest)
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-latest}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "katex@$version" >/dev/null && tar xzf katex-*.tgz)
target=matcalc/present/katex
rm -rf "$target"
mkdir -p "$target/fonts"
cp "$work/package/dist/katex.min.js" "$work/package/dist/katex.min.css" "$target/"
cp "$work/package/dist/fonts/"*.woff2 "$target/fonts/"
cp "$work/package/LICENSE" "$target/LICENSE"
node -e "console.log(require('$work/package/package.json').version)" > "$target/VERSION"
echo "KaTeX $(cat "$target/VERSION") vendored in $target"
