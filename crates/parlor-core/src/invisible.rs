//! Invisible code points: the one rule for names people read (display names, usernames, room
//! titles, file names). Bidi overrides and isolates (U+202A-202E, U+2066-2069) turn
//! `exe.txt` into `txt.exe` on screen, and zero-width and other default-ignorable or format
//! characters make two different names look the same; that is how impersonation is done.
//! Display text has them stripped; identifiers (usernames) refuse them.
//!
//! The set is Unicode's `Default_Ignorable_Code_Point`, the other format characters (`Cf`) and
//! the line and paragraph separators. One exception keeps emoji whole: a zero-width joiner
//! between two pictographs (👩‍💻) and a variation selector after a pictograph or keycap base
//! (❤️, 1️⃣) are what those emoji are made of, and show nothing on their own.

/// Code point ranges, inclusive, that show nothing (or reorder what follows) when rendered.
const INVISIBLE: &[(u32, u32)] = &[
    (0x00AD, 0x00AD), // soft hyphen
    (0x034F, 0x034F), // combining grapheme joiner
    (0x0600, 0x0605), // Arabic number signs (format)
    (0x061C, 0x061C), // Arabic letter mark
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160), // Hangul fillers
    (0x17B4, 0x17B5),
    (0x180B, 0x180F), // Mongolian variation selectors and vowel separator
    (0x200B, 0x200F), // zero-width space, non-joiner, joiner; left-to-right and right-to-left marks
    (0x2028, 0x2029), // line and paragraph separators
    (0x202A, 0x202E), // bidi embeddings and overrides
    (0x2060, 0x206F), // word joiner, invisible operators, bidi isolates (2066-2069), deprecated formats
    (0x3164, 0x3164), // Hangul filler
    (0xFE00, 0xFE0F), // variation selectors
    (0xFEFF, 0xFEFF), // zero-width no-break space (BOM)
    (0xFFA0, 0xFFA0), // halfwidth Hangul filler
    (0xFFF0, 0xFFFB), // unassigned specials, interlinear annotations
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F), // Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3), // shorthand format controls
    (0x1D173, 0x1D17A), // musical symbol format controls
    (0xE0000, 0xE0FFF), // tags, variation selectors supplement
];

const ZERO_WIDTH_JOINER: char = '\u{200D}';

/// True for a code point that shows nothing or changes how its neighbours are shown.
pub fn is_invisible(c: char) -> bool {
    let c = u32::from(c);
    INVISIBLE.iter().any(|(from, to)| (*from..=*to).contains(&c))
}

/// The first invisible code point of `text` (emoji joiners and selectors aside), if any.
pub fn first_invisible(text: &str) -> Option<char> {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len()).find(|i| hidden_at(&chars, *i)).map(|i| chars[i])
}

/// `text` without its invisible code points (emoji joiners and selectors kept).
pub fn strip_invisible(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len()).filter(|i| !hidden_at(&chars, *i)).map(|i| chars[i]).collect()
}

/// Whether `chars[i]` is invisible and not part of an emoji.
fn hidden_at(chars: &[char], i: usize) -> bool {
    let c = chars[i];
    if !is_invisible(c) {
        return false;
    }
    let before = i.checked_sub(1).map(|b| chars[b]);
    let after = chars.get(i + 1).copied();
    let emoji_part = match c {
        ZERO_WIDTH_JOINER => before.is_some_and(|b| pictograph(b) || is_selector(b)) && after.is_some_and(pictograph),
        '\u{FE0E}' | '\u{FE0F}' => before.is_some_and(|b| pictograph(b) || b.is_ascii_digit() || b == '#' || b == '*'),
        _ => false,
    };
    !emoji_part
}

fn is_selector(c: char) -> bool {
    matches!(c, '\u{FE0E}' | '\u{FE0F}')
}

/// Roughly Unicode's `Extended_Pictographic`: the symbol blocks emoji are drawn from.
fn pictograph(c: char) -> bool {
    matches!(u32::from(c), 0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2190..=0x2BFF | 0x3030 | 0x303D
        | 0x3297 | 0x3299 | 0x1F000..=0x1FAFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_and_zero_width_characters_are_invisible() {
        for c in
            ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{200C}', '\u{200E}', '\u{FEFF}', '\u{00AD}']
        {
            assert!(is_invisible(c), "U+{:04X}", u32::from(c));
            assert_eq!(strip_invisible(&format!("a{c}b")), "ab", "U+{:04X}", u32::from(c));
        }
        assert_eq!(strip_invisible("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(first_invisible("ali\u{200B}ce"), Some('\u{200B}'));
        assert_eq!(first_invisible("Zoë Ω 李"), None);
    }

    #[test]
    fn emoji_keep_their_joiners_and_selectors() {
        for emoji in ["👩\u{200D}💻", "❤\u{FE0F}", "1\u{FE0F}\u{20E3}", "👨\u{200D}👩\u{200D}👧", "🏳\u{FE0F}\u{200D}🌈"]
        {
            assert_eq!(strip_invisible(emoji), emoji);
            assert_eq!(first_invisible(emoji), None, "{emoji}");
        }
        // A joiner between letters joins nothing visible.
        assert_eq!(strip_invisible("a\u{200D}b"), "ab");
    }
}
