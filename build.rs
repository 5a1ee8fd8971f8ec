//! Link settings that make the binary start faster on Linux with glibc (issue #12: a warm
//! `ssoenv dev` is a millisecond, and the dynamic loader was half of the work in it).
//!
//! - `-z pack-relative-relocs` (DT_RELR): the ~3,200 relative relocations of a position
//!   independent executable become a bitmap of a few hundred bytes instead of 24 bytes each:
//!   ~78 KB less to map and read at every start, fewer instructions to apply them, PIE and
//!   full RELRO unchanged. The linker marks the binary as needing glibc's `GLIBC_ABI_DT_RELR`
//!   (glibc 2.36 and later), so an older loader refuses it by name rather than misreading it.
//! - libgcc's unwinder linked in (`libgcc_eh.a`) rather than loaded (`libgcc_s.so.1`): with
//!   `panic = "abort"` std only needs it for backtraces, and one shared library fewer is one
//!   file fewer to open and map and ~30 symbols fewer to look up at every start. glibc itself
//!   stays dynamically linked (a static glibc breaks name resolution).
//! - No unwind tables (`.eh_frame`, ~320 KB, an eighth of the binary) where panics abort
//!   (`panic = "abort"`, the release profile): nothing unwinds, so they only served the
//!   backtrace `RUST_BACKTRACE` asks for, whose addresses a stripped binary cannot name anyway.
//!   A panic still prints its message and where it happened, then aborts. A two-line linker
//!   script inserted into the linker's own layout discards them; the debug profile, which
//!   unwinds (the tests), keeps them.
//!
//! Each flag is first tried on a one-line C program with the linker rustc will use; a flag
//! the toolchain refuses or warns about is left out, and other platforms get neither.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux" || var("CARGO_CFG_TARGET_ENV") != "gnu" {
        return;
    }
    // The linker driver rustc uses: the configured one, else `cc` (rustc's default on
    // linux-gnu), and that one only when building for the machine it runs on.
    let linker = match std::env::var("RUSTC_LINKER") {
        Ok(l) if !l.is_empty() => l,
        _ if var("TARGET") == var("HOST") => "cc".to_string(),
        _ => return,
    };
    let Some(out) = std::env::var_os("OUT_DIR") else {
        return;
    };
    let out = Path::new(&out);
    let source = out.join("probe.c");
    if std::fs::write(&source, "int main(void) { return 0; }\n").is_err() {
        return;
    }
    let links = |args: &[&str]| {
        Command::new(&linker)
            .arg(&source)
            .arg("-o")
            .arg(out.join("probe"))
            .args(args)
            .output()
            // A warning counts as a refusal: old binutils "ignore" the option with a warning.
            .is_ok_and(|o| o.status.success() && o.stderr.is_empty())
    };
    // Only where the linked glibc knows DT_RELR: the probe must carry the version it needs,
    // which is what makes an older loader refuse the binary instead of skipping relocations.
    let needs_relr_glibc = || {
        std::fs::read(out.join("probe"))
            .is_ok_and(|b| b.windows(17).any(|w| w == b"GLIBC_ABI_DT_RELR"))
    };
    if links(&["-Wl,-z,pack-relative-relocs"]) && needs_relr_glibc() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    // Listed before std's `-lgcc_s`, the archive provides the unwinder's symbols and the
    // linker's `--as-needed` (rustc passes it) then leaves libgcc_s out of the binary.
    if links(&["-Wl,-Bstatic", "-lgcc_eh", "-Wl,-Bdynamic"]) {
        println!("cargo:rustc-link-lib=static=gcc_eh");
    }
    let script = out.join("no-unwind-tables.ld");
    // Cargo tells build scripts the target's default strategy, not the profile's: the release
    // profile (and those inheriting it) is where Cargo.toml sets `panic = "abort"`.
    if var("PROFILE") == "release"
        && std::fs::write(
            &script,
            "SECTIONS { /DISCARD/ : { *(.eh_frame) } }\nINSERT AFTER .text;\n",
        )
        .is_ok()
    {
        let arg = format!("-Wl,-T,{}", script.display());
        if links(&[&arg]) {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    }
}
