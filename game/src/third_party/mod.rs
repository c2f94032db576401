//! Set-up of third-party back-ends in one place: audio now; XR and video later.

pub mod audio;
