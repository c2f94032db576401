//! Set-up of third-party back-ends in one place: audio, and the OpenXR seam; video later.

pub mod audio;
pub mod xr;
