//! Case-insensitive matching of names for all of Unicode (people search).
//!
//! [`fold`] is the key both sides of a comparison are reduced to: NFKC
//! normalisation, then full Unicode case folding (`CaseFolding.txt`,
//! statuses C and F, the default rather than the Turkic mapping), then NFKC
//! again, since folding can leave text unnormalised. So "ÉLODIE", "Élodie"
//! (with a combining accent) and "élodie" are one key, "STRASSE" and
//! "Straße" are both "strasse", the ligature "ﬁ" is "fi", a full-width "Ａ"
//! is "a", and the final sigma matches the other sigma. It is what Unicode
//! calls NFKC_Casefold, except that default-ignorable characters (a soft
//! hyphen, a zero-width joiner) are kept. ASCII stays ASCII, lower-cased.
//!
//! The folding runs in Rust before anything is written (a store keeps the
//! folded form beside the name and searches it), so every store agrees
//! whatever its database's own collation does. It uses ICU4X's data for
//! the Unicode version of the `icu_casemap` and `icu_normalizer` crates.

use icu_casemap::CaseMapper;
use icu_normalizer::ComposingNormalizerBorrowed;

/// The comparison key of `text`: NFKC, full case folding, NFKC.
///
/// ```
/// use chatcore::fold::fold;
///
/// assert_eq!(fold("ÉLODIE"), fold("élodie"));
/// assert_eq!(fold("STRASSE"), fold("Straße"));
/// assert!(fold("Élodie Martin").contains(&fold("MARTIN")));
/// ```
pub fn fold(text: &str) -> String {
    let nfkc = ComposingNormalizerBorrowed::new_nfkc();
    let normalized = nfkc.normalize(text);
    let folded = CaseMapper::new().fold_string(&normalized);
    nfkc.normalize(&folded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn letters_of_every_script_fold_to_one_key() {
        for (a, b) in [
            ("ÉLODIE", "élodie"),
            ("E\u{301}LODIE", "élodie"),
            ("STRASSE", "Straße"),
            ("ΣΊΣΥΦΟΣ", "σίσυφος"),
            ("ﬁle", "FILE"),
            ("ＡＤＡ", "ada"),
            ("ПРИВЕТ", "привет"),
            ("ǅemal", "ǆemal"),
            ("Ǆemal", "džemal"),
        ] {
            assert_eq!(fold(a), fold(b), "{a} / {b}");
        }
    }

    #[test]
    fn different_names_stay_different() {
        for (a, b) in [("élodie", "elodie"), ("ada", "adam"), ("ı", "i")] {
            assert_ne!(fold(a), fold(b), "{a} / {b}");
        }
    }

    #[test]
    fn ascii_is_lower_cased_and_nothing_else() {
        assert_eq!(fold("Ada_Lovelace-1815"), "ada_lovelace-1815");
        assert_eq!(fold(""), "");
        assert_eq!(fold("  two  spaces "), "  two  spaces ");
    }

    #[test]
    fn folding_is_idempotent() {
        for text in ["Straße", "ÉLODIE", "ﬃ", "ΐ", "İstanbul"] {
            assert_eq!(fold(&fold(text)), fold(text), "{text}");
        }
    }
}
