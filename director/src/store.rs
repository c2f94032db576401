//! The session store (being written).
