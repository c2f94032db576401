//! How answers are checked against a puzzle's [`SolutionCheck`]: the one place the rule lives,
//! so the director and any tool agree.

use crate::puzzle::SolutionCheck;
use unicode_normalization::UnicodeNormalization;

/// An answer sent by a station.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Answer {
    /// Typed text or a code.
    Text(String),
    /// Selected item ids (a set, or an order).
    Items(Vec<String>),
    /// A number.
    Number(f64),
}

/// Folds text for [`SolutionCheck::NormalisedText`]: lower case, accents removed (Unicode
/// canonical decomposition, combining marks dropped), every run of characters that are not
/// letters or digits turned into one space, trimmed. `"  L'Égalité ! "` → `"l egalite"`.
pub fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
    {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

impl SolutionCheck {
    /// An answer this check accepts: `Exact` → the answer; `NormalisedText` → its first
    /// answer; `Set` and `Order` → the items as written; `Numeric` → the value. For guides,
    /// simulated stations and play-through tests.
    pub fn right_answer(&self) -> Answer {
        match self {
            Self::Exact { answer } => Answer::Text(answer.clone()),
            Self::NormalisedText { answers } => {
                Answer::Text(answers.first().cloned().unwrap_or_default())
            }
            Self::Set { items } | Self::Order { items } => Answer::Items(items.clone()),
            Self::Numeric { value, .. } => Answer::Number(*value),
        }
    }

    /// Whether `answer` solves the puzzle. An answer of the wrong shape (items for a code) is
    /// simply wrong.
    pub fn accepts(&self, answer: &Answer) -> bool {
        match (self, answer) {
            (Self::Exact { answer: want }, Answer::Text(got)) => got.trim() == want,
            (Self::NormalisedText { answers }, Answer::Text(got)) => {
                let got = normalise(got);
                answers.iter().any(|a| normalise(a) == got)
            }
            (Self::Set { items }, Answer::Items(got)) => {
                let mut want: Vec<&str> = items.iter().map(String::as_str).collect();
                let mut got: Vec<&str> = got.iter().map(String::as_str).collect();
                want.sort_unstable();
                want.dedup();
                got.sort_unstable();
                got.dedup();
                want == got
            }
            (Self::Order { items }, Answer::Items(got)) => items == got,
            (Self::Numeric { value, tolerance }, Answer::Number(got)) => {
                got.is_finite() && (got - value).abs() <= *tolerance
            }
            (Self::Numeric { value, tolerance }, Answer::Text(got)) => got
                .trim()
                .replace(',', ".")
                .parse::<f64>()
                .is_ok_and(|g| g.is_finite() && (g - value).abs() <= *tolerance),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_folds_case_accents_and_punctuation() {
        assert_eq!(normalise("  L'Égalité ! "), "l egalite");
        assert_eq!(normalise("ÇA   va"), "ca va");
        assert_eq!(normalise("!!!"), "");
    }

    #[test]
    fn checks_accept_right_answers_only() {
        let set = SolutionCheck::Set {
            items: vec!["a".into(), "b".into()],
        };
        assert!(set.accepts(&Answer::Items(vec!["b".into(), "a".into()])));
        assert!(!set.accepts(&Answer::Items(vec!["a".into()])));
        assert!(!set.accepts(&Answer::Items(vec!["a".into(), "b".into(), "c".into()])));
        let order = SolutionCheck::Order {
            items: vec!["a".into(), "b".into()],
        };
        assert!(order.accepts(&Answer::Items(vec!["a".into(), "b".into()])));
        assert!(!order.accepts(&Answer::Items(vec!["b".into(), "a".into()])));
        let num = SolutionCheck::Numeric {
            value: 12.5,
            tolerance: 0.5,
        };
        assert!(num.accepts(&Answer::Text("12,8".into())));
        assert!(!num.accepts(&Answer::Number(13.1)));
        assert!(!num.accepts(&Answer::Number(f64::NAN)));
        let text = SolutionCheck::NormalisedText {
            answers: vec!["Égalité".into()],
        };
        assert!(text.accepts(&Answer::Text("egalite!".into())));
        assert!(!text.accepts(&Answer::Items(vec!["egalite".into()])));
        let exact = SolutionCheck::Exact {
            answer: "0471".into(),
        };
        assert!(exact.accepts(&Answer::Text(" 0471".into())));
        assert!(!exact.accepts(&Answer::Text("471".into())));
    }
}
