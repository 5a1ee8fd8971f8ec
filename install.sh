#!/bin/sh
# Builds ssoenv from this checkout and installs it under PREFIX (default ~/.local), no root
# needed and no network beyond the crate registry.
#
#   ./install.sh                 build and install to ~/.local/bin/ssoenv
#   PREFIX=/opt/x ./install.sh   another prefix
#   ./install.sh --uninstall     remove what it installed
set -eu

PREFIX=${PREFIX:-"$HOME/.local"}
here=$(cd "$(dirname "$0")" && pwd)
bin="$PREFIX/bin/ssoenv"
share="$PREFIX/share/ssoenv"

case "${1-}" in
--uninstall)
  rm -f "$bin"
  rm -rf "$share"
  echo "ssoenv: removed $bin and $share"
  exit 0
  ;;
"") ;;
-h | --help)
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
  ;;
*)
  echo "install.sh: unknown option: $1" >&2
  exit 2
  ;;
esac

command -v cargo >/dev/null 2>&1 || {
  echo "install.sh: cargo is needed (https://rustup.rs)" >&2
  exit 1
}

cargo build --release --locked --manifest-path "$here/Cargo.toml"
mkdir -p "$PREFIX/bin"
# Copy to a temp name and rename, so a running ssoenv is never half-overwritten.
cp "$here/target/release/ssoenv" "$bin.tmp.$$"
chmod 755 "$bin.tmp.$$"
mv -f "$bin.tmp.$$" "$bin"
if [ -d "$here/shell" ]; then
  mkdir -p "$share"
  cp -R "$here/shell/." "$share/"
fi

echo "ssoenv: installed $bin"
case ":$PATH:" in
*":$PREFIX/bin:"*) ;;
*) echo "ssoenv: add $PREFIX/bin to PATH, e.g. export PATH=\"$PREFIX/bin:\$PATH\"" ;;
esac
# shellcheck disable=SC2016 # printed for the user to type, not expanded here
echo 'ssoenv: try: eval "$(ssoenv PROFILE)"'
