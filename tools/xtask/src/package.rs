//! `cargo xtask package`: the two Debian packages, `boussole-regie` (the facilitator's laptop:
//! console, director, lint) and `boussole-poste` (tablets, room screen, headset PC: the game),
//! into `<target>/debian/`. cargo-deb (pinned, installed when missing) reads the
//! `[package.metadata.deb]` sections of `director/console/Cargo.toml` and `game/Cargo.toml`;
//! the unit, the desktop entries and the icon are in `tools/packaging/`. The fast test below
//! keeps that metadata true without building anything.

use crate::{BUILD_PACKAGES, cargo, ensure_packages, step, target_dir};
use anyhow::{Context, Result, bail};
use std::process::Command;

/// The cargo-deb release `package` installs and runs (`cargo install --locked`).
pub(crate) const CARGO_DEB_VERSION: &str = "3.8.0";

/// The crates whose `[package.metadata.deb]` make a package, with the package's name.
pub(crate) const DEBS: &[(&str, &str)] = &[
    ("boussole-console", "boussole-regie"),
    ("boussole-game", "boussole-poste"),
];

/// Packages `cargo deb` needs besides the build's.
pub(crate) const PACKAGE_PACKAGES: &[(&str, &str)] = &[(
    "dpkg-dev",
    "dpkg-shlibdeps: the packages' Depends from the libraries the binaries link ($auto)",
)];

/// What the package metadata test (`cargo xtask test`) validates the desktop entries with.
pub(crate) const DESKTOP_CHECK_PACKAGES: &[(&str, &str)] = &[(
    "desktop-file-utils",
    "desktop-file-validate: checks the packages' desktop entries",
)];

/// Builds both packages: system packages, cargo-deb, one release build of the four binaries,
/// then `cargo deb --no-build` per package into `<target>/debian/`.
pub(crate) fn package() -> Result<()> {
    ensure_packages(
        BUILD_PACKAGES
            .iter()
            .chain(PACKAGE_PACKAGES)
            .chain(DESKTOP_CHECK_PACKAGES),
    )?;
    step(&format!("cargo-deb {CARGO_DEB_VERSION}"), ensure_cargo_deb)?;
    step("release build (director, console, lint, game)", || {
        cargo(&[
            "build",
            "--release",
            "--locked",
            "--package",
            "boussole-director",
            "--package",
            "boussole-console",
            "--package",
            "boussole-lint",
            "--package",
            "boussole-game",
        ])
    })?;
    let out = target_dir().join("debian");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let out = out.to_string_lossy();
    for (krate, name) in DEBS {
        step(&format!("{name}.deb (cargo deb -p {krate})"), || {
            // --strip: the release profile keeps line tables for backtraces in development;
            // packaged, they would make each binary several hundred MB.
            cargo(&[
                "deb",
                "--no-build",
                "--strip",
                "--package",
                krate,
                "--output",
                &out,
            ])
        })?;
    }
    eprintln!("    packages in {out}:");
    for entry in std::fs::read_dir(&*out).with_context(|| format!("listing {out}"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "deb") {
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            eprintln!(
                "    {} ({:.1} MB)",
                path.display(),
                size as f64 / 1_000_000.0
            );
        }
    }
    Ok(())
}

/// Installs cargo-deb at [`CARGO_DEB_VERSION`] unless `cargo deb --version` already says it.
fn ensure_cargo_deb() -> Result<()> {
    let cargo_bin = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let present = Command::new(&cargo_bin)
        .args(["deb", "--version"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    if let Some(version) = &present
        && version.split_whitespace().any(|w| w == CARGO_DEB_VERSION)
    {
        eprintln!("    present: {}", version.trim());
        return Ok(());
    }
    if let Some(version) = present {
        eprintln!("    {} found, {CARGO_DEB_VERSION} wanted", version.trim());
    }
    // Built in a temporary folder of its own: with CARGO_TARGET_DIR set, cargo install would
    // build in the project's release folder and leave cargo-deb's artifacts there.
    let status = Command::new(&cargo_bin)
        .args([
            "install",
            "cargo-deb",
            "--version",
            CARGO_DEB_VERSION,
            "--locked",
        ])
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .context("starting cargo install")?;
    if !status.success() {
        bail!(
            "`cargo install cargo-deb --version {CARGO_DEB_VERSION} --locked` exited with {status}"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Cheap checks of the package metadata (no build, no cargo-deb): what CI runs instead of
    //! building the packages.

    use super::DEBS;
    use crate::root;
    use std::collections::BTreeMap;
    use std::path::{Component, Path, PathBuf};
    use std::process::Command;

    type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

    /// Where the shipped content and media land on the machine.
    const SHARE: &str = "usr/share/boussole";
    /// The director's unit, as the laptop runs it.
    const DIRECTOR_EXEC: &str =
        "/usr/bin/boussole-director --content /usr/share/boussole/content day";
    /// Files under `assets/` that stay out of the packages: the test videos (made by
    /// `boussole-test-videos` for the video tests).
    const TEST_ONLY_ASSETS: &str = "assets/videos/tests/";

    /// One asset line of a `[package.metadata.deb]`: source, destination, mode.
    #[derive(Debug)]
    struct Asset {
        /// The source relative to the repository root, or `target/release/NAME`.
        source: String,
        dest: String,
    }

    /// One package: its crate's folder and assets.
    #[derive(Debug)]
    struct Deb {
        name: String,
        depends: String,
        assets: Vec<Asset>,
        /// Other files the metadata names (`changelog`, `license-file`, `readme`), from the
        /// root.
        named: Vec<String>,
    }

    impl Deb {
        /// The repository files that `dest_prefix` + … receive, and the destination of `source`.
        fn dest_of(&self, repo_path: &str) -> Option<String> {
            self.assets.iter().find_map(|a| {
                glob_match(&a.source, repo_path).map(|rest| {
                    if a.dest.ends_with('/') {
                        format!("{}{rest}", a.dest)
                    } else {
                        a.dest.clone()
                    }
                })
            })
        }

        /// Whether the package installs a file at `dest` (no leading slash).
        fn installs(&self, dest: &str) -> bool {
            self.assets.iter().any(|a| {
                a.dest == dest
                    || (a.dest.ends_with('/')
                        && dest.strip_prefix(a.dest.as_str()).is_some_and(|rest| {
                            let name = Path::new(&a.source)
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned());
                            // A plain file keeps its name; a glob keeps the path below its base.
                            name.as_deref() == Some(rest) || a.source.contains('*')
                        }))
            })
        }
    }

    /// `path` matched against `pattern` (`dir/file`, `dir/*.ext`, `dir/**/*`): what the
    /// destination folder receives (the file name, or the path below the glob's base).
    fn glob_match(pattern: &str, path: &str) -> Option<String> {
        if let Some(base) = pattern.strip_suffix("/**/*") {
            return path.strip_prefix(&format!("{base}/")).map(str::to_owned);
        }
        let (dir, name) = pattern.rsplit_once('/')?;
        let (pdir, pname) = path.rsplit_once('/')?;
        if dir != pdir {
            return None;
        }
        let matches = match name.split_once('*') {
            Some((pre, post)) => {
                pname.len() >= pre.len() + post.len()
                    && pname.starts_with(pre)
                    && pname.ends_with(post)
            }
            None => name == pname,
        };
        matches.then(|| pname.to_owned())
    }

    /// `dir/../x` → `x`, so a source written relative to its crate reads from the root.
    fn normalise(path: &Path) -> String {
        let mut out = PathBuf::new();
        for c in path.components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                c => out.push(c),
            }
        }
        out.to_string_lossy().into_owned()
    }

    /// The two packages' metadata as cargo reads it (`cargo metadata --no-deps`), with the
    /// names of the workspace's binaries.
    fn debs() -> TestResult<(BTreeMap<String, Deb>, Vec<String>)> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let out = Command::new(cargo)
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--offline",
            ])
            .current_dir(root())
            .output()?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
        }
        let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let root = root();
        let mut debs = BTreeMap::new();
        let mut bins = Vec::new();
        for package in meta["packages"].as_array().ok_or("no packages")? {
            for target in package["targets"].as_array().into_iter().flatten() {
                if target["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "bin"))
                {
                    bins.extend(target["name"].as_str().map(str::to_owned));
                }
            }
            let krate = package["name"].as_str().unwrap_or_default();
            if !DEBS.iter().any(|(k, _)| *k == krate) {
                continue;
            }
            let deb = &package["metadata"]["deb"];
            let name = deb["name"]
                .as_str()
                .ok_or(format!("{krate}: no deb name"))?;
            let manifest = Path::new(package["manifest_path"].as_str().ok_or("no manifest")?);
            let dir = manifest.parent().ok_or("manifest without folder")?;
            let mut assets = Vec::new();
            for line in deb["assets"]
                .as_array()
                .ok_or(format!("{name}: no assets"))?
            {
                let line = line
                    .as_array()
                    .ok_or(format!("{name}: an asset is not a list"))?;
                let (Some(source), Some(dest)) = (line[0].as_str(), line[1].as_str()) else {
                    return Err(format!("{name}: asset {line:?}").into());
                };
                let source = if source.starts_with("target/") {
                    source.to_owned()
                } else {
                    let full = normalise(&dir.join(source));
                    Path::new(&full)
                        .strip_prefix(&root)
                        .map_err(|_| format!("{name}: {source} is outside the repository"))?
                        .to_string_lossy()
                        .into_owned()
                };
                assets.push(Asset {
                    source,
                    dest: dest.to_owned(),
                });
            }
            let named = ["changelog", "license-file", "readme"]
                .iter()
                .filter_map(|key| match &deb[*key] {
                    serde_json::Value::Array(a) => a.first().and_then(|v| v.as_str()),
                    v => v.as_str(),
                })
                .map(|f| normalise(&dir.join(f)))
                .collect();
            debs.insert(
                name.to_owned(),
                Deb {
                    name: name.to_owned(),
                    depends: deb["depends"].as_str().unwrap_or_default().to_owned(),
                    assets,
                    named,
                },
            );
        }
        Ok((debs, bins))
    }

    /// Every file under `dir` (relative to the root), sorted.
    fn files_under(dir: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root().join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(root()) {
                    out.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        out.sort();
        out
    }

    /// A desktop entry's groups and their keys.
    fn desktop_entry(text: &str) -> Result<BTreeMap<String, BTreeMap<String, String>>, String> {
        let mut groups: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut group: Option<String> = None;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                if group.is_none() && name != "Desktop Entry" {
                    return Err(format!(
                        "line {}: the first group is not [Desktop Entry]",
                        i + 1
                    ));
                }
                groups.entry(name.to_owned()).or_default();
                group = Some(name.to_owned());
                continue;
            }
            let (Some(g), Some((key, value))) = (&group, line.split_once('=')) else {
                return Err(format!(
                    "line {}: not `key=value` in a group: {line}",
                    i + 1
                ));
            };
            let keys = groups.entry(g.clone()).or_default();
            if keys
                .insert(key.trim().to_owned(), value.trim().to_owned())
                .is_some()
            {
                return Err(format!("line {}: {key} given twice", i + 1));
            }
        }
        Ok(groups)
    }

    /// Width and height of a PNG file, from its IHDR chunk.
    fn png_size(path: &Path) -> TestResult<(u32, u32)> {
        let bytes = std::fs::read(path)?;
        if bytes.get(..8) != Some(b"\x89PNG\r\n\x1a\n".as_slice())
            || bytes.get(12..16) != Some(b"IHDR")
        {
            return Err(format!("{}: not a PNG", path.display()).into());
        }
        let word = |at: usize| -> TestResult<u32> {
            let b: [u8; 4] = bytes.get(at..at + 4).ok_or("short PNG")?.try_into()?;
            Ok(u32::from_be_bytes(b))
        };
        Ok((word(16)?, word(20)?))
    }

    #[test]
    fn package_metadata_is_consistent() -> TestResult {
        let (debs, bins) = debs()?;
        let names: Vec<&str> = debs.keys().map(String::as_str).collect();
        assert_eq!(names, ["boussole-poste", "boussole-regie"]);
        let shipped: Vec<String> = [
            "catalogue",
            "grids",
            "immersions",
            "rubrics",
            "scenarios",
            "scenes",
        ]
        .iter()
        .flat_map(|kind| files_under(&format!("content/{kind}")))
        .chain(
            files_under("assets")
                .into_iter()
                .filter(|f| !f.starts_with(TEST_ONLY_ASSETS)),
        )
        .collect();
        assert!(
            shipped.len() > 100,
            "content and media found: {}",
            shipped.len()
        );
        let mut problems = Vec::new();
        for deb in debs.values() {
            assert!(
                deb.depends.starts_with("$auto"),
                "{}: Depends from the libraries",
                deb.name
            );
            for file in &deb.named {
                if !Path::new(file).is_file() {
                    problems.push(format!("{}: {file} does not exist", deb.name));
                } else if file.contains("changelog") {
                    let text = std::fs::read_to_string(file)?;
                    if text.split_whitespace().next() != Some(deb.name.as_str()) {
                        problems.push(format!("{}: {file} is another package's", deb.name));
                    }
                }
            }
            // Every source exists: a workspace binary, or files in the repository.
            for a in &deb.assets {
                if let Some(bin) = a.source.strip_prefix("target/release/") {
                    if !bins.iter().any(|b| b == bin) {
                        problems.push(format!("{}: no binary {bin} in the workspace", deb.name));
                    }
                    continue;
                }
                let found = if a.source.contains('*') {
                    shipped
                        .iter()
                        .chain(&files_under("tools/packaging"))
                        .any(|f| glob_match(&a.source, f).is_some())
                } else {
                    root().join(&a.source).is_file()
                };
                if !found {
                    problems.push(format!("{}: {} matches no file", deb.name, a.source));
                }
                if a.source.starts_with(TEST_ONLY_ASSETS) {
                    problems.push(format!("{}: ships test-only {}", deb.name, a.source));
                }
            }
            // Every content file and medium lands under /usr/share/boussole, at its own path.
            for file in &shipped {
                match deb.dest_of(file) {
                    Some(dest) if dest == format!("{SHARE}/{file}") => {}
                    Some(dest) => problems.push(format!("{}: {file} goes to {dest}", deb.name)),
                    None => problems.push(format!("{}: {file} is not shipped", deb.name)),
                }
            }
            // The icon, in every size the entries may ask for.
            for (size, dest) in [
                (0, "usr/share/icons/hicolor/scalable/apps/boussole.svg"),
                (48, "usr/share/icons/hicolor/48x48/apps/boussole.png"),
                (128, "usr/share/icons/hicolor/128x128/apps/boussole.png"),
                (256, "usr/share/icons/hicolor/256x256/apps/boussole.png"),
            ] {
                let Some(a) = deb.assets.iter().find(|a| a.dest == dest) else {
                    problems.push(format!("{}: no {dest}", deb.name));
                    continue;
                };
                if size > 0 {
                    let got = png_size(&root().join(&a.source))?;
                    if got != (size, size) {
                        problems.push(format!(
                            "{}: {} is {got:?}, not {size}×{size}",
                            deb.name, a.source
                        ));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        Ok(())
    }

    #[test]
    fn desktop_entries_start_what_their_package_ships() -> TestResult {
        let (debs, _) = debs()?;
        for (deb, file, name_fr, name_en, program) in [
            (
                "boussole-regie",
                "boussole-regie.desktop",
                "Boussole — régie",
                "Boussole — control room",
                "boussole-console",
            ),
            (
                "boussole-poste",
                "boussole-poste.desktop",
                "Boussole — poste",
                "Boussole — station",
                "boussole-game",
            ),
        ] {
            let deb = debs.get(deb).ok_or(deb)?;
            let path = format!("tools/packaging/{file}");
            assert!(
                deb.installs(&format!("usr/share/applications/{file}")),
                "{path} not shipped"
            );
            let text = std::fs::read_to_string(root().join(&path))?;
            let groups = desktop_entry(&text).map_err(|e| format!("{path}: {e}"))?;
            let entry = groups.get("Desktop Entry").ok_or("no [Desktop Entry]")?;
            let key = |k: &str| entry.get(k).map(String::as_str);
            assert_eq!(key("Type"), Some("Application"), "{path}");
            assert_eq!(key("Name"), Some(name_fr), "{path}");
            assert_eq!(key("Name[en]"), Some(name_en), "{path}");
            assert_eq!(key("Icon"), Some("boussole"), "{path}");
            assert_eq!(key("Terminal"), Some("false"), "{path}");
            assert!(
                key("Categories")
                    .is_some_and(|c| c.ends_with(';') && c.split(';').any(|c| c == "Education")),
                "{path}"
            );
            // The main command and each action's run a program the package installs, and a
            // content folder it fills.
            let mut execs = vec![key("Exec").ok_or("no Exec")?];
            for action in key("Actions")
                .unwrap_or_default()
                .split(';')
                .filter(|a| !a.is_empty())
            {
                let group = groups
                    .get(&format!("Desktop Action {action}"))
                    .ok_or(format!("{path}: no action {action}"))?;
                assert!(
                    group.contains_key("Name"),
                    "{path}: action {action} has no Name"
                );
                execs.push(
                    group
                        .get("Exec")
                        .ok_or(format!("{path}: action {action} has no Exec"))?,
                );
            }
            for exec in execs {
                let words: Vec<&str> = exec.split_whitespace().collect();
                assert_eq!(words.first(), Some(&program), "{path}: Exec={exec}");
                assert!(
                    deb.installs(&format!("usr/bin/{program}")),
                    "{path}: {program} not shipped"
                );
                if let Some(i) = words.iter().position(|w| *w == "--content") {
                    assert_eq!(
                        words.get(i + 1),
                        Some(&"/usr/share/boussole/content"),
                        "{path}"
                    );
                }
            }
            // desktop-file-validate where it is installed (`cargo xtask test` installs it).
            match Command::new("desktop-file-validate")
                .arg(root().join(&path))
                .output()
            {
                Ok(out) => assert!(
                    out.status.success() && out.stdout.is_empty(),
                    "desktop-file-validate {path}: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
                Err(_) => {
                    eprintln!("desktop-file-validate not installed: {path} checked in Rust only")
                }
            }
        }
        Ok(())
    }

    #[test]
    fn the_director_unit_runs_the_day_and_stops_at_logout() -> TestResult {
        let (debs, _) = debs()?;
        let deb = debs.get("boussole-regie").ok_or("no boussole-regie")?;
        assert!(deb.installs("usr/lib/systemd/user/boussole-director.service"));
        assert!(deb.installs("usr/bin/boussole-director"));
        let unit =
            std::fs::read_to_string(root().join("tools/packaging/boussole-director.service"))?;
        let lines: Vec<&str> = unit
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert!(
            lines.contains(&format!("ExecStart={DIRECTOR_EXEC}").as_str()),
            "{unit}"
        );
        assert!(lines.contains(&"Restart=on-failure"), "{unit}");
        // A user unit started by the console, never at login and never lingering.
        assert!(!lines.iter().any(|l| l.starts_with("WantedBy=")), "{unit}");
        assert!(!lines.contains(&"[Install]"), "{unit}");
        Ok(())
    }

    #[test]
    fn globs_match_like_cargo_deb() {
        assert_eq!(
            glob_match("assets/audio/**/*", "assets/audio/a/b.ogg").as_deref(),
            Some("a/b.ogg")
        );
        assert_eq!(
            glob_match("content/grids/*.ron", "content/grids/g.ron").as_deref(),
            Some("g.ron")
        );
        assert_eq!(
            glob_match("content/grids/*.ron", "content/grids/sub/g.ron"),
            None
        );
        assert_eq!(
            glob_match("content/grids/*.ron", "content/grids/g.txt"),
            None
        );
        assert_eq!(
            glob_match("tools/packaging/x.desktop", "tools/packaging/x.desktop").as_deref(),
            Some("x.desktop")
        );
    }
}
