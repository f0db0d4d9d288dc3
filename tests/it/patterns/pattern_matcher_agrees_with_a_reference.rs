//! `Pattern::matches` agrees with a small reference matcher: `*` matches any
//! run of characters (dots included), `?` exactly one, `[..]` / `[!..]` one
//! character of (not of) a class; a pattern without metacharacters matches
//! only the equal string.

use event_center::{Pattern, PatternErrorKind, PatternSet};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Token {
    Lit(char),
    Star,
    Quest,
    Class { negated: bool, set: Vec<char> },
}

const TYPE_CHARS: [char; 4] = ['a', 'b', '.', '_'];

fn render(tokens: &[Token]) -> String {
    let mut out = String::new();
    for token in tokens {
        match token {
            Token::Lit(c) => out.push(*c),
            Token::Star => out.push('*'),
            Token::Quest => out.push('?'),
            Token::Class { negated, set } => {
                out.push('[');
                if *negated {
                    out.push('!');
                }
                out.extend(set);
                out.push(']');
            }
        }
    }
    out
}

fn token_matches_char(token: &Token, c: char) -> bool {
    match token {
        Token::Lit(l) => *l == c,
        Token::Quest => true,
        Token::Class { negated, set } => set.contains(&c) != *negated,
        Token::Star => unreachable!(),
    }
}

/// The reference: a plain dynamic program over tokens and characters.
fn reference(tokens: &[Token], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    // can[i][j]: tokens[i..] match text[j..].
    let mut can = vec![vec![false; text.len() + 1]; tokens.len() + 1];
    can[tokens.len()][text.len()] = true;
    for i in (0..tokens.len()).rev() {
        for j in (0..=text.len()).rev() {
            can[i][j] = match &tokens[i] {
                Token::Star => can[i + 1][j] || (j < text.len() && can[i][j + 1]),
                token => j < text.len() && token_matches_char(token, text[j]) && can[i + 1][j + 1],
            };
        }
    }
    can[0][0]
}

/// A recursive reference straight from the definition, for the string form
/// of simple patterns (alphabet a, b, ., _, *, ?).
fn reference_str(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|skip| reference_str(rest, &text[skip..])),
        Some(('?', rest)) => !text.is_empty() && reference_str(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && reference_str(rest, &text[1..]),
    }
}

fn type_char() -> impl Strategy<Value = char> {
    prop::sample::select(TYPE_CHARS.to_vec())
}

fn event_type() -> impl Strategy<Value = String> {
    prop::collection::vec(type_char(), 0..10).prop_map(|cs| cs.into_iter().collect())
}

fn simple_pattern() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!['a', 'b', '.', '_', '*', '?']),
        1..9,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        4 => type_char().prop_map(Token::Lit),
        2 => Just(Token::Star),
        2 => Just(Token::Quest),
        1 => (any::<bool>(), prop::sample::subsequence(TYPE_CHARS.to_vec(), 1..=3))
            .prop_map(|(negated, set)| Token::Class { negated, set }),
    ]
}

/// A string the tokens could match (or nearly), so matches are common.
fn instantiate(tokens: &[Token], fills: &[String], picks: &[usize]) -> String {
    let mut out = String::new();
    for (k, token) in tokens.iter().enumerate() {
        let pick = picks[k % picks.len()];
        match token {
            Token::Lit(c) => out.push(*c),
            Token::Star => out.push_str(&fills[k % fills.len()]),
            Token::Quest => out.push(TYPE_CHARS[pick % 4]),
            Token::Class { .. } => out.push(TYPE_CHARS[pick % 4]),
        }
    }
    if picks[0].is_multiple_of(7) {
        out.pop();
    }
    out
}

/// `glob` refuses `**` unless it is a whole path component; with no `/` in
/// event types that is only the pattern `**` itself.
fn glob_refuses(text: &str) -> bool {
    text.contains("**") && text != "**"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn simple_patterns_agree_with_the_recursive_reference(
        pattern in simple_pattern(),
        types in prop::collection::vec(event_type(), 1..8),
    ) {
        match Pattern::new(&pattern) {
            Ok(compiled) => {
                prop_assert!(!glob_refuses(&pattern), "{pattern:?} compiled");
                prop_assert_eq!(compiled.as_str(), pattern.as_str());
                prop_assert_eq!(compiled.is_exact(), !pattern.contains(['*', '?']));
                let p: Vec<char> = pattern.chars().collect();
                for t in &types {
                    let t_chars: Vec<char> = t.chars().collect();
                    prop_assert_eq!(
                        compiled.matches(t),
                        reference_str(&p, &t_chars),
                        "pattern {:?} on {:?}", pattern, t
                    );
                }
            }
            Err(e) => {
                prop_assert!(glob_refuses(&pattern), "{pattern:?} refused: {e}");
                prop_assert_eq!(e.pattern(), pattern.as_str());
                let is_syntax = matches!(e.kind(), PatternErrorKind::Syntax { .. });
                prop_assert!(is_syntax, "{:?}", e.kind());
            }
        }
    }

    #[test]
    fn token_patterns_agree_with_the_dynamic_reference(
        tokens in prop::collection::vec(token(), 1..8),
        fills in prop::collection::vec(event_type(), 1..4),
        picks in prop::collection::vec(0usize..64, 1..8),
        others in prop::collection::vec(event_type(), 0..4),
    ) {
        let text = render(&tokens);
        let near = instantiate(&tokens, &fills, &picks);
        match Pattern::new(&text) {
            Ok(compiled) => {
                prop_assert!(!glob_refuses(&text), "{text:?} compiled");
                for t in std::iter::once(&near).chain(&others) {
                    prop_assert_eq!(
                        compiled.matches(t),
                        reference(&tokens, t),
                        "pattern {:?} on {:?}", text, t
                    );
                }
                // A set of one glob agrees with the glob.
                let set = PatternSet::new(text.as_str()).unwrap();
                prop_assert_eq!(set.matches(&near), compiled.matches(&near));
            }
            Err(e) => prop_assert!(glob_refuses(&text), "{text:?} refused: {e}"),
        }
    }

    #[test]
    fn exact_patterns_match_only_the_equal_string(
        pattern in prop::collection::vec(type_char(), 1..8)
            .prop_map(|cs| cs.into_iter().collect::<String>()),
        other in event_type(),
    ) {
        let compiled = Pattern::new(&pattern).unwrap();
        prop_assert!(compiled.is_exact());
        prop_assert!(compiled.matches(&pattern));
        prop_assert_eq!(compiled.matches(&other), other == pattern);
        let longer = format!("{pattern}a");
        prop_assert!(!compiled.matches(&longer));
        prop_assert!(!compiled.matches(&pattern[1..]));

        let set = PatternSet::new(pattern.as_str()).unwrap();
        prop_assert!(set.matches(&pattern));
        prop_assert_eq!(set.matches(&other), other == pattern);
    }
}

#[test]
fn the_reference_itself_behaves_as_documented() {
    let p = |s: &str| s.chars().collect::<Vec<_>>();
    assert!(reference_str(&p("a.*"), &p("a.b.c")));
    assert!(reference_str(&p("*"), &p("")));
    assert!(!reference_str(&p("a?"), &p("a")));
    assert!(reference_str(&p("a?"), &p("a.")));
    let tokens = [
        Token::Lit('a'),
        Token::Class {
            negated: true,
            set: vec!['.'],
        },
        Token::Star,
    ];
    assert!(reference(&tokens, "ab.x"));
    assert!(!reference(&tokens, "a.b"));
}

#[test]
fn known_cases() {
    let cases: [(&str, &str, bool); 12] = [
        ("action.*", "action.loop_started", true),
        ("action.*", "action.", true),
        ("action.*", "action", false),
        ("*.delta", "model.stream.delta", true),
        ("*_delta", "model.text_delta", true),
        ("model.request_?", "model.request_1", true),
        ("model.request_?", "model.request_", false),
        ("tool.[ab]*", "tool.b", true),
        ("tool.[!ab]*", "tool.b", false),
        ("tool.[!ab]*", "tool.c", true),
        ("**", "a.b", true),
        ("*", "", true),
    ];
    for (pattern, text, expected) in cases {
        assert_eq!(
            Pattern::new(pattern).unwrap().matches(text),
            expected,
            "{pattern} on {text}"
        );
    }
}
