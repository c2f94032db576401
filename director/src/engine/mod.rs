//! The session engine (being written).
