//! Renders a participant's synthesis (its own document model: participant, activities,
//! competencies with levels and evidence in words) to an A4 PDF in French with typst. It knows
//! nothing of the director, which fills the model. Filled in by the evaluation issue.
