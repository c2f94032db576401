//! The facilitator's console (Bevy + egui), a client of the director with the `console` role:
//! closing or crashing it never stops a session. Panels are plain functions over the session
//! view, tested without Bevy.

pub mod day;
pub mod i18n;
pub mod launch;
pub mod link;
pub mod model;
pub mod spectator;
pub mod spectator_view;
pub mod ui;
pub mod view;
