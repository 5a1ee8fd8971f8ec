#!/bin/sh
# Builds ssoenv from this checkout and installs it under PREFIX (default ~/.local), with its
# shell plugins; no root needed and no network beyond the crate registry.
#
#   ./install.sh                 build, install to ~/.local, print the line each rc file needs
#   ./install.sh --rc            ... and append those lines (once) to the rc files present
#   ./install.sh --binary PATH   install PATH instead of building (a binary built from here)
#   PREFIX=/opt/x ./install.sh   another prefix
#   ./install.sh --uninstall     remove what it installed, and the lines --rc added
set -eu

PREFIX=${PREFIX:-"$HOME/.local"}
here=$(cd "$(dirname "$0")" && pwd)
bin="$PREFIX/bin/ssoenv"
share="$PREFIX/share/ssoenv"
direnv_lib="${XDG_CONFIG_HOME:-$HOME/.config}/direnv/lib/ssoenv.sh"
fish_rc="${XDG_CONFIG_HOME:-$HOME/.config}/fish/config.fish"
# Every line install.sh appends ends with this marker, so that it is added once and removed
# by --uninstall.
mark='# added by ssoenv install.sh'

rc=no
binary=''
uninstall=no
while [ $# -gt 0 ]; do
  case "$1" in
  --rc) rc=yes ;;
  --uninstall) uninstall=yes ;;
  --binary)
    [ $# -ge 2 ] || {
      echo "install.sh: --binary needs a path" >&2
      exit 2
    }
    binary=$2
    shift
    ;;
  -h | --help)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "install.sh: unknown option: $1" >&2
    exit 2
    ;;
  esac
  shift
done

# The line each shell's rc file needs: rc file, then line.
# shellcheck disable=SC2016 # the lines are for the rc files, expanded there
rc_lines() {
  printf '%s\t%s\n' "$HOME/.bashrc" 'eval "$(ssoenv hook bash)"'
  printf '%s\t%s\n' "$HOME/.zshrc" 'eval "$(ssoenv hook zsh)"'
  printf '%s\t%s\n' "$fish_rc" 'ssoenv hook fish | source'
}

# Removes the marked line from a file, keeping everything else (and the file's mode).
unmark() {
  [ -f "$1" ] || return 0
  grep -v -F "$mark" "$1" >"$1.ssoenv-tmp" || :
  cat "$1.ssoenv-tmp" >"$1"
  rm -f "$1.ssoenv-tmp"
}

if [ "$uninstall" = yes ]; then
  rm -f "$bin" "$direnv_lib"
  rm -rf "$share"
  rc_lines | while IFS="$(printf '\t')" read -r file _; do unmark "$file"; done
  echo "ssoenv: removed $bin, $share and $direnv_lib"
  exit 0
fi

if [ -z "$binary" ]; then
  command -v cargo >/dev/null 2>&1 || {
    echo "install.sh: cargo is needed (https://rustup.rs)" >&2
    exit 1
  }
  cargo build --release --locked --manifest-path "$here/Cargo.toml"
  binary="$here/target/release/ssoenv"
fi
[ -x "$binary" ] || {
  echo "install.sh: $binary is not an executable" >&2
  exit 1
}

mkdir -p "$PREFIX/bin"
# Copy to a temp name and rename, so a running ssoenv is never half-overwritten.
cp "$binary" "$bin.tmp.$$"
chmod 755 "$bin.tmp.$$"
mv -f "$bin.tmp.$$" "$bin"
mkdir -p "$share"
cp -R "$here/shell/." "$share/"
mkdir -p "$(dirname "$direnv_lib")"
cp "$here/shell/direnv/ssoenv.sh" "$direnv_lib"
echo "ssoenv: installed $bin, plugins in $share, direnv's use_ssoenv in $direnv_lib"

case ":$PATH:" in
*":$PREFIX/bin:"*) ;;
*) echo "ssoenv: add $PREFIX/bin to PATH, e.g. export PATH=\"$PREFIX/bin:\$PATH\"" ;;
esac

if [ "$rc" = yes ]; then
  rc_lines | while IFS="$(printf '\t')" read -r file line; do
    [ -f "$file" ] || continue
    if grep -q -F "$mark" "$file"; then
      echo "ssoenv: $file already loads the plugin"
    else
      printf '%s %s\n' "$line" "$mark" >>"$file"
      echo "ssoenv: added to $file: $line"
    fi
  done
else
  echo "ssoenv: to load the plugin, add the line for your shell:"
  rc_lines | while IFS="$(printf '\t')" read -r file line; do
    echo "  $file:  $line"
  done
  echo "  PowerShell \$PROFILE:  Import-Module '$share/pwsh/ssoenv.psd1'"
  echo "  nushell config.nu:  source $share/ssoenv.nu"
  echo "  direnv .envrc:  use ssoenv PROFILE"
  echo "  (./install.sh --rc appends the bash, zsh and fish lines to the rc files that exist)"
fi
