//! Did-you-mean: the known word closest to what the user wrote (`singel` → `single`, `vpc` →
//! `vpc.main`).
//!
//! Likeness is clap's own for a mistyped subcommand (clap_builder 4,
//! src/parser/features/suggestions.rs): `strsim::jaro` above 0.7, the closest first. clap
//! chose Jaro over Jaro-Winkler because strsim's Winkler rates any two strings sharing ten
//! leading characters as equal, which stack words (`subnet.intra["…`) often do.

/// The candidate most like `word`, when one is like it at all.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::jaro(word, c), c))
        .filter(|(likeness, _)| *likeness > 0.7)
        .fold(None, |best: Option<(f64, &str)>, (likeness, c)| match best {
            Some((b, _)) if b >= likeness => best,
            _ => Some((likeness, c)),
        })
        .map(|(_, c)| c)
}

/// ` did you mean `single`?`, or nothing: to end a message or hint with.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The addresses a mistyped one may have meant: every address of a kind given alone (`vpc` →
/// `vpc.main`), else the closest address, looked for first among those that differ only in
/// their key (`subnet.intra["us-west-2a"]` in a stack of ap-southeast-2).
pub fn addresses<'a>(written: &str, known: &'a [String]) -> Vec<&'a str> {
    let of_kind: Vec<&str> = known.iter().map(String::as_str).filter(|a| a.split('.').next() == Some(written)).collect();
    if !of_kind.is_empty() {
        return of_kind;
    }
    let stem = |a: &str| a.split('[').next().unwrap_or(a).to_string();
    let same_stem: Vec<&str> = known.iter().map(String::as_str).filter(|a| stem(a) == stem(written)).collect();
    let pool = if same_stem.is_empty() { known.iter().map(String::as_str).collect() } else { same_stem };
    closest(written, pool).into_iter().collect()
}

/// The fix for an address that is not known: the addresses meant (up to four), then `list`
/// (where to see them all).
pub fn address_fix(written: &str, known: &[String], list: &str) -> String {
    let meant: Vec<String> = addresses(written, known).into_iter().take(4).map(|a| format!("`{a}`")).collect();
    match meant.as_slice() {
        [] => list.to_string(),
        [one] => format!("did you mean {one}? {list}"),
        many => format!("did you mean one of {}? {list}", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_word_alike_enough() {
        assert_eq!(closest("singel", ["none", "single", "per_az"]), Some("single"));
        assert_eq!(closest("per-az", ["none", "single", "per_az"]), Some("per_az"));
        assert_eq!(closest("cidrr", ["cidr", "secondary_cidrs"]), Some("cidr"));
        assert_eq!(closest("kubernetes", ["none", "single", "per_az"]), None, "nothing alike: no guess");
        assert_eq!(did_you_mean("singel", ["single"]).as_deref(), Some("did you mean `single`?"));
    }

    #[test]
    fn addresses_of_a_kind_or_with_another_key() {
        let known: Vec<String> = ["vpc.main", "subnet.intra[\"ap-southeast-2a\"]", "subnet.intra[\"ap-southeast-2b\"]", "subnet.private[\"ap-southeast-2a\"]"]
            .map(String::from)
            .to_vec();
        assert_eq!(addresses("vpc", &known), ["vpc.main"]);
        assert_eq!(addresses("subnet", &known).len(), 3);
        assert_eq!(addresses("subnet.intra[\"us-west-2a\"]", &known), ["subnet.intra[\"ap-southeast-2a\"]"]);
        assert_eq!(addresses("vpc.mian", &known), ["vpc.main"]);
        assert!(addresses("nodegroup.default", &known).is_empty());
    }
}
