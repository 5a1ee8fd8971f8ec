#!/bin/sh
# Builds ssoenv from this checkout and installs it under PREFIX (default ~/.local), with its
# shell plugins; no root needed and no network beyond the crate registry.
#
#   ./install.sh                 build, install to ~/.local, print the line each rc file needs
#   ./install.sh --rc            ... and append those lines (once) to the rc files present, and
#                                to your login shell's ($SHELL) even if it does not exist yet;
#                                with PREFIX/bin on PATH there when it is not yet
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
    # The comment block at the top, without the '#'.
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
  *)
    echo "install.sh: unknown option: $1" >&2
    exit 2
    ;;
  esac
  shift
done

# The line each shell's rc file needs: rc file, shell, then line.
# shellcheck disable=SC2016 # the lines are for the rc files, expanded there
rc_lines() {
  printf '%s\t%s\t%s\n' "$HOME/.bashrc" bash 'eval "$(ssoenv hook bash)"'
  printf '%s\t%s\t%s\n' "$HOME/.zshrc" zsh 'eval "$(ssoenv hook zsh)"'
  printf '%s\t%s\t%s\n' "$fish_rc" fish 'ssoenv hook fish | source'
}

# The line that puts PREFIX/bin first on PATH in a shell, the directory quoted for it.
path_line() {
  if [ "$1" = fish ]; then
    quoted=$(printf '%s' "$PREFIX/bin" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g")
    printf "set -gx PATH '%s' \$PATH" "$quoted"
  else
    quoted=$(printf '%s' "$PREFIX/bin" | sed "s/'/'\\\\''/g")
    printf "export PATH='%s':\"\$PATH\"" "$quoted"
  fi
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
  rc_lines | while IFS="$(printf '\t')" read -r file _ _; do unmark "$file"; done
  echo "ssoenv: removed $bin, $share and $direnv_lib"
  exit 0
fi

if [ -z "$binary" ]; then
  command -v cargo >/dev/null 2>&1 || {
    echo "install.sh: cargo is needed (https://rustup.rs)" >&2
    exit 1
  }
  cargo build --release --locked --manifest-path "$here/Cargo.toml"
  # Where cargo put it: CARGO_TARGET_DIR (relative to the working directory) or target/.
  target=${CARGO_TARGET_DIR:-"$here/target"}
  case $target in
  /*) ;;
  *) target="$PWD/$target" ;;
  esac
  binary="$target/release/ssoenv"
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

on_path=no
case ":$PATH:" in
*":$PREFIX/bin:"*) on_path=yes ;;
*)
  suggestion=$(path_line sh)
  [ "$rc" = yes ] || echo "ssoenv: add $PREFIX/bin to PATH, e.g. $suggestion"
  ;;
esac

if [ "$rc" = yes ]; then
  login_shell=$(basename "${SHELL:-}")
  rc_lines | while IFS="$(printf '\t')" read -r file shell line; do
    if [ ! -f "$file" ]; then
      # Your login shell gets its rc file; other shells' absent files are left absent.
      [ "$shell" = "$login_shell" ] || continue
      mkdir -p "$(dirname "$file")"
      : >>"$file"
      echo "ssoenv: created $file"
    fi
    add=$(path_line "$shell")
    if [ "$on_path" = no ] && ! grep -q -F "$add" "$file"; then
      printf '%s %s\n' "$add" "$mark" >>"$file"
      echo "ssoenv: added to $file: $add"
    fi
    if grep -q -F "$line" "$file"; then
      echo "ssoenv: $file already loads the plugin"
    else
      printf '%s %s\n' "$line" "$mark" >>"$file"
      echo "ssoenv: added to $file: $line"
    fi
  done
else
  echo "ssoenv: to load the plugin, add the line for your shell:"
  rc_lines | while IFS="$(printf '\t')" read -r file _ line; do
    echo "  $file:  $line"
  done
  echo "  PowerShell \$PROFILE:  Import-Module '$share/pwsh/ssoenv.psd1'"
  echo "  nushell config.nu:  source $share/ssoenv.nu"
  echo "  direnv .envrc:  use ssoenv PROFILE"
  echo "  (./install.sh --rc appends the bash, zsh and fish lines to the rc files that exist)"
fi
