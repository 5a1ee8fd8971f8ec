//! Randomness from the operating system's secure source (through `ring`, already linked for
//! TLS): PKCE verifiers and `state` (RFC 7636 §7.1), temp names, retry jitter.

use ring::rand::{SecureRandom, SystemRandom};

/// Fills `buf` from the OS. The OS source does not fail in practice; should it, the process
/// must not go on with predictable secrets, so this aborts with a clear message.
pub fn fill(buf: &mut [u8]) {
    if SystemRandom::new().fill(buf).is_err() {
        eprintln!("ssoenv: the operating system's random source failed");
        std::process::exit(1);
    }
}

pub fn u32() -> u32 {
    let mut b = [0u8; 4];
    fill(&mut b);
    u32::from_le_bytes(b)
}

/// `len` characters drawn uniformly from `alphabet` (rejection sampling: no modulo bias).
pub fn string(len: usize, alphabet: &[u8]) -> String {
    debug_assert!(!alphabet.is_empty() && alphabet.len() <= 256);
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        fill(&mut buf);
        for &b in &buf {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_have_the_length_and_alphabet_asked_for_and_differ() {
        let a = super::string(64, b"ab-");
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b"ab-".contains(&b)));
        assert_ne!(
            super::string(32, b"0123456789"),
            super::string(32, b"0123456789")
        );
    }
}
