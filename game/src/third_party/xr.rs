//! OpenXR, the seam: whether this headset client can render in a headset, and why not.
//!
//! Rendering through `bevy_mod_openxr` 0.6 is not built in yet (it replaces the render set-up
//! of `DefaultPlugins` and needs a runtime to test with; none exists for Debian 12). Until it
//! is, the client looks for an active OpenXR runtime the way the OpenXR loader does (the
//! `XR_RUNTIME_JSON` variable, then `active_runtime.json` in the user's and the system's XDG
//! folders) and always falls back to a flat window, saying why in the log and to the
//! director. When XR is added, its controllers and hands feed
//! [`PointerInput`](crate::headset::pointer::PointerInput) from here and nothing else changes.

use bevy::prelude::*;
use std::path::PathBuf;

/// How this headset client shows its scenes.
#[derive(Resource, Debug, Clone, PartialEq, Eq)]
pub enum XrMode {
    /// In the headset, through OpenXR.
    Headset,
    /// In a flat window with mouse and keyboard.
    Flat {
        /// Whether this is a fallback (XR was wanted and is unavailable) rather than `--flat`.
        fallback: bool,
        /// Why, in French, for the facilitator (`None` with `--flat`).
        reason: Option<String>,
    },
}

impl XrMode {
    /// Whether the director should hear `xr_flat_fallback: true`.
    pub fn is_fallback(&self) -> bool {
        matches!(self, Self::Flat { fallback: true, .. })
    }
}

/// The problem told to the director when XR falls back to a flat window.
pub const NO_XR_RUNTIME: &str = "pas de casque VR (OpenXR) : affichage à plat";

/// The active runtime manifest the OpenXR loader would use, if any (`env` reads a variable).
pub fn find_runtime(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(p) = env("XR_RUNTIME_JSON").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let mut dirs = Vec::new();
    match env("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        Some(d) => dirs.push(PathBuf::from(d)),
        None => {
            if let Some(home) = env("HOME") {
                dirs.push(PathBuf::from(home).join(".config"));
            }
        }
    }
    let system = env("XDG_CONFIG_DIRS")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/etc/xdg".into());
    dirs.extend(system.split(':').map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join("openxr/1/active_runtime.json"))
        .find(|p| p.is_file())
}

/// Decides how to show scenes: `flat` (`--flat`) skips XR; otherwise XR is tried and, as it
/// is not available (no runtime, or no XR rendering in this build), a flat fallback with its
/// reason (logged here).
pub fn choose_mode(flat: bool, runtime: Option<PathBuf>) -> XrMode {
    if flat {
        return XrMode::Flat {
            fallback: false,
            reason: None,
        };
    }
    let reason = match runtime {
        None => {
            warn!("Failed to initialize openxr: no active OpenXR runtime; flat window instead");
            NO_XR_RUNTIME.to_owned()
        }
        Some(path) => {
            warn!(
                "OpenXR runtime {} found, but this build renders flat only; flat window instead",
                path.display()
            );
            format!(
                "{NO_XR_RUNTIME} (runtime {} présent, mais ce client ne sait pas encore \
                 l'utiliser)",
                path.display()
            )
        }
    };
    XrMode::Flat {
        fallback: true,
        reason: Some(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_runtime_means_a_flat_fallback_with_its_reason() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let home = dir.path().to_string_lossy().into_owned();
        let none = find_runtime(|k| match k {
            "HOME" => Some(home.clone()),
            "XDG_CONFIG_DIRS" => Some(home.clone()),
            _ => None,
        });
        assert_eq!(none, None);
        let mode = choose_mode(false, none);
        assert!(mode.is_fallback());
        assert_eq!(
            mode,
            XrMode::Flat {
                fallback: true,
                reason: Some(NO_XR_RUNTIME.into())
            }
        );
        let manifest = dir.path().join("openxr/1/active_runtime.json");
        std::fs::create_dir_all(manifest.parent().ok_or("parent")?)?;
        std::fs::write(&manifest, "{}")?;
        let found = find_runtime(|k| (k == "XDG_CONFIG_HOME").then(|| home.clone()));
        assert_eq!(found.as_deref(), Some(manifest.as_path()));
        assert!(
            !choose_mode(true, found).is_fallback(),
            "--flat is no fallback"
        );
        Ok(())
    }
}
