//! argon2id with a reused work buffer per hashing thread.
//!
//! `Argon2::hash_password` and `verify_password` allocate the whole work
//! area (19 MiB with the OWASP parameters) on every call. With glibc, a
//! freed block that size raises the dynamic mmap threshold, so later ones
//! come from the thread's malloc arena, which keeps them: the server's RSS
//! ended several times 19 MiB above need after a login flood. Here each
//! hashing thread keeps one buffer of [`Block`]s in a thread-local and
//! reuses it, so the memory of hashing is exactly one work area per thread
//! of the pool. The computation is the crate's own
//! ([`Argon2::hash_password_into_with_memory`]); PHC parsing and encoding
//! and the constant-time comparison of outputs are the `password-hash`
//! types' (what `verify_password` itself does, minus the allocation).

use std::cell::RefCell;

use argon2::password_hash::phc::{Output, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

thread_local! {
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// `argon` over `password` and `salt` into `out`, in this thread's buffer.
fn hash_into(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> bool {
    BLOCKS.with(|blocks| {
        let Ok(mut blocks) = blocks.try_borrow_mut() else {
            return false;
        };
        let needed = params.block_count();
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        let area = blocks.get_mut(..needed).unwrap_or_default();
        argon
            .hash_password_into_with_memory(password, salt, out, area)
            .is_ok()
    })
}

/// A PHC string of argon2id with `params` over `password` and a random salt.
pub(crate) fn hash(params: &Params, password: &[u8]) -> Result<String, String> {
    let salt = Salt::generate();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let out = buffer
        .get_mut(..len)
        .ok_or_else(|| "output length out of range".to_owned())?;
    if !hash_into(&argon, params, password, salt.as_ref(), out) {
        return Err("argon2 failed".to_owned());
    }
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params.try_into().map_err(|e| format!("{e}"))?,
        salt: Some(salt),
        hash: Some(Output::new(out).map_err(|e| format!("{e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc` (any argon2 variant,
/// version and parameters it names); a malformed string never matches.
pub(crate) fn verify(password: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let Some(out) = buffer.get_mut(..expected.len()) else {
        return false;
    };
    if !hash_into(&argon, &params, password, salt.as_ref(), out) {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(out).is_ok_and(|computed| computed == *expected)
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    fn cheap() -> Params {
        Params::new(64, 1, 1, None).unwrap()
    }

    #[test]
    fn our_hashes_verify_with_the_crate_and_back() {
        let params = cheap();
        let ours = hash(&params, b"correct horse").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{ours}");
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(argon.verify_password(b"correct horse", &parsed).is_ok());
        assert!(argon.verify_password(b"wrong horse", &parsed).is_err());

        let theirs = argon.hash_password(b"correct horse").unwrap().to_string();
        assert!(verify(b"correct horse", &theirs));
        assert!(!verify(b"wrong horse", &theirs));
    }

    #[test]
    fn other_variants_and_parameters_verify() {
        // A hash made with other settings (argon2i, m=32, t=2, 16-byte output)
        // is checked with the settings it names, in the same reused buffer.
        let params = Params::new(32, 2, 1, Some(16)).unwrap();
        let argon = Argon2::new(Algorithm::Argon2i, Version::V0x13, params);
        let phc = argon.hash_password(b"pw-1234567").unwrap().to_string();
        assert!(phc.starts_with("$argon2i$"), "{phc}");
        assert!(verify(b"pw-1234567", &phc));
        assert!(!verify(b"pw-1234568", &phc));
        // The larger buffer of an earlier call is reused for a smaller one.
        let small = hash(&cheap(), b"x").unwrap();
        assert!(verify(b"x", &small));
    }

    #[test]
    fn malformed_strings_never_match() {
        for phc in [
            "",
            "not a phc string",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ",
            "$bcrypt$x",
        ] {
            assert!(!verify(b"anything", phc), "{phc}");
        }
    }
}
