//! Where a content file may sit on a device: the rule every manifest entry and every file a
//! device writes is checked against, so that a forged manifest can never write outside the
//! device's content folder (OWASP "path traversal").

/// The content kinds devices get, each a folder of `content/` (the activity catalogue is the
/// director's alone and is never sent to devices).
pub const CONTENT_KINDS: [&str; 5] = ["scenarios", "immersions", "scenes", "grids", "rubrics"];

/// Longest content path, bytes.
pub const MAX_PATH_BYTES: usize = 1024;

/// A path that must not be written: absolute, with `..`, `.` or empty parts, a backslash, a
/// colon or a control character, longer than [`MAX_PATH_BYTES`], or outside
/// `content/<kind>/` and `assets/`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsafe content path {path:?}: {reason}")]
pub struct UnsafePath {
    /// The path as given.
    pub path: String,
    /// Which rule it breaks.
    pub reason: &'static str,
}

/// Checks that `path` (relative, `/`-separated) may be written under a device's content folder.
///
/// # Errors
/// [`UnsafePath`] naming the rule the path breaks.
pub fn check_path(path: &str) -> Result<(), UnsafePath> {
    let unsafe_path = |reason| {
        Err(UnsafePath {
            path: path.to_owned(),
            reason,
        })
    };
    if path.is_empty() {
        return unsafe_path("empty");
    }
    if path.len() > MAX_PATH_BYTES {
        return unsafe_path("longer than 1024 bytes");
    }
    if path.starts_with('/') {
        return unsafe_path("absolute");
    }
    if path.contains('\\') {
        return unsafe_path("contains a backslash");
    }
    if path.contains(':') {
        return unsafe_path("contains a colon");
    }
    if path.chars().any(char::is_control) {
        return unsafe_path("contains a control character");
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return unsafe_path("has an empty part");
    }
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return unsafe_path("has a `.` or `..` part");
    }
    let placed = match parts.as_slice() {
        ["content", kind, _, ..] => CONTENT_KINDS.contains(kind),
        ["assets", _, ..] => true,
        _ => false,
    };
    if !placed {
        return unsafe_path("not under content/<kind>/ or assets/");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_misplaced_paths_are_refused_with_their_rule() {
        for (path, reason) in [
            (
                "content/scenarios/../../../evil.ron",
                "has a `.` or `..` part",
            ),
            ("assets/../../evil", "has a `.` or `..` part"),
            ("/etc/evil", "absolute"),
            ("assets/a/./b", "has a `.` or `..` part"),
            ("assets//b", "has an empty part"),
            ("assets\\..\\evil", "contains a backslash"),
            ("C:/evil", "contains a colon"),
            ("assets/c:evil", "contains a colon"),
            ("assets/line\nbreak", "contains a control character"),
            ("content/src/lib.rs", "not under content/<kind>/ or assets/"),
            ("evil.txt", "not under content/<kind>/ or assets/"),
            ("assets", "not under content/<kind>/ or assets/"),
            ("", "empty"),
        ] {
            let err = check_path(path).expect_err(path);
            assert_eq!(err.reason, reason, "{path:?}");
            assert_eq!(err.path, path);
        }
        let long = format!("assets/{}", "a".repeat(MAX_PATH_BYTES));
        assert_eq!(
            check_path(&long).map_err(|e| e.reason),
            Err("longer than 1024 bytes")
        );
        for path in [
            "content/scenarios/scape_attitudes.ron",
            "assets/voices/fr/a1b2.ogg",
            "content/rubrics/communication.ron",
        ] {
            assert_eq!(check_path(path), Ok(()), "{path}");
        }
    }
}
