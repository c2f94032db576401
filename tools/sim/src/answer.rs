//! What a simulated station types: the right answer built from a puzzle's [`SolutionCheck`],
//! a wrong one that the same check refuses, and the station where answers are entered.

use boussole_content::Answer;
use boussole_content::ids::StationId;
use boussole_content::puzzle::{Puzzle, SolutionCheck};

/// The station where a puzzle's answers are entered (see [`Puzzle::answer_station`]).
pub fn answer_station(puzzle: &Puzzle) -> Option<&StationId> {
    puzzle.answer_station()
}

/// An answer `check` accepts (see [`SolutionCheck::right_answer`]).
pub fn right_answer(check: &SolutionCheck) -> Answer {
    check.right_answer()
}

/// An answer of the right shape that `check` refuses (a code with a digit too many, a set
/// with an item missing, an order reversed, a number out of tolerance); `None` when no such
/// answer is found (a one-item order).
pub fn wrong_answer(check: &SolutionCheck) -> Option<Answer> {
    let candidate = match check {
        SolutionCheck::Exact { answer } => Answer::Text(format!("{answer}9")),
        SolutionCheck::NormalisedText { answers } => Answer::Text(format!(
            "{} faux",
            answers.first().map_or("", String::as_str)
        )),
        SolutionCheck::Set { items } => {
            Answer::Items(items.iter().skip(1).cloned().collect::<Vec<_>>())
        }
        SolutionCheck::Order { items } => Answer::Items(items.iter().rev().cloned().collect()),
        SolutionCheck::Numeric { value, tolerance } => {
            Answer::Number(value + tolerance.abs() + 1.0)
        }
    };
    (!check.accepts(&candidate)).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks() -> Vec<SolutionCheck> {
        vec![
            SolutionCheck::Exact {
                answer: "1217".into(),
            },
            SolutionCheck::NormalisedText {
                answers: vec!["chariot D".into(), "D".into()],
            },
            SolutionCheck::Set {
                items: vec!["a".into(), "b".into()],
            },
            SolutionCheck::Order {
                items: vec!["a".into(), "b".into(), "c".into()],
            },
            SolutionCheck::Numeric {
                value: 12.5,
                tolerance: 0.5,
            },
        ]
    }

    #[test]
    fn right_answers_are_accepted_and_wrong_ones_refused() {
        for check in checks() {
            assert!(check.accepts(&right_answer(&check)), "{check:?}");
            let wrong = wrong_answer(&check).expect("a wrong answer exists");
            assert!(!check.accepts(&wrong), "{check:?}");
        }
    }

    #[test]
    fn a_one_item_order_has_no_wrong_answer_of_its_shape() {
        let check = SolutionCheck::Order {
            items: vec!["seul".into()],
        };
        assert_eq!(wrong_answer(&check), None);
    }
}
