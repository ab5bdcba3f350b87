#!/usr/bin/env bash
# Ensure the Debian packages Taizhang needs are installed.
#
#   scripts/system-deps.sh            everything: run time + tests (chromium for browser tests)
#   scripts/system-deps.sh --runtime  only what the app itself needs (PDF rendering, CJK fonts)
#
# Quiet when everything is present. As root, installs what is missing (apt-get update once,
# then apt-get install --no-install-recommends). As any other user, prints the exact command
# to run and exits non-zero.
set -euo pipefail

# WeasyPrint renders PDFs through Pango/HarfBuzz; Chinese text needs a CJK font;
# poppler-utils (pdftotext, pdfinfo) reads generated PDFs back.
runtime=(fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils)
# Browser tests drive Debian's /usr/bin/chromium through Playwright; the sales-ledger export
# test recalculates the xlsx with LibreOffice headless (soffice) to check its SUMIFS formulas.
testing=(chromium libreoffice-calc-nogui)

case "${1:-}" in
  "") wanted=("${runtime[@]}" "${testing[@]}") ;;
  --runtime) wanted=("${runtime[@]}") ;;
  -h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--runtime]" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "system-deps: dpkg-query not found; this script knows Debian/Ubuntu only." >&2
  echo "system-deps: install the equivalents of: ${wanted[*]}" >&2
  exit 1
fi

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$pkg")
done

((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "system-deps: missing Debian packages: ${missing[*]}" >&2
  echo "system-deps: install them with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
