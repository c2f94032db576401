//! « Démarrer ce poste automatiquement »: the systemd user unit that starts this device's game
//! at each login and starts it again whenever it stops (Bevy-free; the button is in
//! [`crate::autostart`]).
//!
//! The unit is `$XDG_CONFIG_HOME/systemd/user/boussole-poste.service` (else
//! `~/.config/systemd/user/…`): `Restart=always`, wanted by `graphical-session.target` (a
//! window needs the desktop session's display, which `default.target` may come before), with
//! the current executable and the options that make this device what it is (role, director,
//! station, folders), never the pairing code: a paired device keeps its token on disk.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The unit's file name.
pub const UNIT_NAME: &str = "boussole-poste.service";

/// Set in the unit's environment: the game knows it runs under it (see
/// [`KioskUnit::running_under_unit`]).
pub const KIOSK_ENV: &str = "BOUSSOLE_KIOSK";

/// Display variables handed from the session that clicks the button to the user's systemd
/// manager, so the unit started now (`--now`) finds the same screen.
const DISPLAY_ENV: &[&str] = &["DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY"];

/// Why the automatic start could not be set up or removed. Messages are French: the
/// facilitator reads them on the device.
#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    /// Neither `XDG_CONFIG_HOME` nor `HOME` is set: nowhere to put the unit.
    #[error(
        "Démarrage automatique impossible : ce compte n'a pas de dossier personnel où \
         l'inscrire. Signalez-le à la personne qui installe les postes."
    )]
    NoConfigHome,
    /// The unit file could not be written or removed.
    #[error("Démarrage automatique impossible : {path} : {source}")]
    File {
        /// The unit file.
        path: PathBuf,
        /// The error from the file system.
        source: std::io::Error,
    },
    /// `systemctl` is not installed (a system without systemd). The message the device shows
    /// names no command; [`KioskError::technical`] does, for the log.
    #[error(
        "Démarrage automatique impossible : ce système ne sait pas lancer un programme à \
         l'ouverture de session. Démarrez ce poste à la main, et signalez-le à la personne qui \
         installe les postes."
    )]
    NoSystemctl,
    /// `systemctl --user ARGS` did not succeed. The message the device shows names no
    /// command; [`KioskError::technical`] gives the command and what it said, for the log.
    #[error(
        "Démarrage automatique impossible : le système a refusé d'inscrire ce poste au \
         démarrage. Redémarrez l'appareil puis réessayez ; si cela recommence, signalez-le à la \
         personne qui installe les postes."
    )]
    Systemctl {
        /// The arguments after `--user`.
        args: String,
        /// What it wrote on its error output, or its exit status.
        detail: String,
    },
}

impl KioskError {
    /// What went wrong in the system's words (the command and its error output), for the
    /// device's log; the message shown on the device is the error's `Display`.
    pub fn technical(&self) -> String {
        match self {
            Self::NoConfigHome => "neither XDG_CONFIG_HOME nor HOME is set".to_owned(),
            Self::File { path, source } => format!("{}: {source}", path.display()),
            Self::NoSystemctl => "systemctl not found on PATH".to_owned(),
            Self::Systemctl { args, detail } => format!("systemctl --user {args}: {detail}"),
        }
    }
}

/// Runs `systemctl --user ARGS` (injectable: tests record the calls instead).
pub trait Systemctl {
    /// Runs `systemctl --user args…`; [`KioskError::NoSystemctl`] when the command is missing,
    /// [`KioskError::Systemctl`] when it fails.
    fn user(&mut self, args: &[&str]) -> Result<(), KioskError>;
}

/// The real `systemctl`, found on `PATH`, with this process's environment (which
/// `import-environment` reads).
#[derive(Debug, Default, Clone, Copy)]
pub struct HostSystemctl;

impl Systemctl for HostSystemctl {
    fn user(&mut self, args: &[&str]) -> Result<(), KioskError> {
        let output = Command::new("systemctl")
            .arg("--user")
            .args(args)
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => KioskError::NoSystemctl,
                _ => KioskError::Systemctl {
                    args: args.join(" "),
                    detail: e.to_string(),
                },
            })?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        Err(KioskError::Systemctl {
            args: args.join(" "),
            detail: if stderr.is_empty() {
                output.status.to_string()
            } else {
                stderr
            },
        })
    }
}

/// What the unit starts the game with: the options of `boussole-game` that make this device
/// what it is. The pairing code has no place here on purpose; one-off options (`--headless`,
/// `--preview`, `--immersion`…) neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KioskLaunch {
    /// `headset`, `screen` or `terminal` when fixed at start; `None`: the role the console
    /// gives (kept in the data folder).
    pub role: Option<String>,
    /// `--flat` (headset without OpenXR).
    pub flat: bool,
    /// `--director HOST:PORT`, when given.
    pub director: Option<String>,
    /// `--content`: made absolute (the unit starts in the home folder).
    pub content: Option<PathBuf>,
    /// `--device`, when given.
    pub device: Option<String>,
    /// `--station`, when given.
    pub station: Option<String>,
    /// `--participant`, when given.
    pub participant: Option<String>,
    /// `--data-dir`: made absolute.
    pub data_dir: Option<PathBuf>,
}

impl KioskLaunch {
    /// The command line: `exe` then the options, relative paths joined to `cwd`.
    pub fn command_line(&self, exe: &Path, cwd: &Path) -> Vec<String> {
        let path = |p: &Path| cwd.join(p).to_string_lossy().into_owned();
        let mut line = vec![exe.to_string_lossy().into_owned()];
        if let Some(role) = &self.role {
            line.extend(["--role".to_owned(), role.clone()]);
        }
        if self.flat {
            line.push("--flat".to_owned());
        }
        let options = [
            ("--director", self.director.clone()),
            ("--content", self.content.as_deref().map(path)),
            ("--device", self.device.clone()),
            ("--station", self.station.clone()),
            ("--participant", self.participant.clone()),
            ("--data-dir", self.data_dir.as_deref().map(path)),
        ];
        for (flag, value) in options {
            if let Some(value) = value {
                line.extend([flag.to_owned(), value]);
            }
        }
        line
    }
}

/// The device's automatic start: a user unit at a known path, with a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskUnit {
    path: PathBuf,
    command: Vec<String>,
}

impl KioskUnit {
    /// The unit under `config_home` (`<config_home>/systemd/user/boussole-poste.service`)
    /// starting `command` (program first).
    pub fn in_config_home(config_home: &Path, command: Vec<String>) -> Self {
        Self {
            path: config_home.join("systemd/user").join(UNIT_NAME),
            command,
        }
    }

    /// The unit of the user running this process: `$XDG_CONFIG_HOME`, else `$HOME/.config`.
    pub fn for_user(command: Vec<String>) -> Result<Self, KioskError> {
        let home = config_home(
            std::env::var_os("XDG_CONFIG_HOME"),
            std::env::var_os("HOME"),
        )
        .ok_or(KioskError::NoConfigHome)?;
        Ok(Self::in_config_home(&home, command))
    }

    /// Whether this process was started by the unit (its environment names it).
    pub fn running_under_unit() -> bool {
        std::env::var_os(KIOSK_ENV).is_some()
    }

    /// The unit file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the unit file is there (set up by [`KioskUnit::enable`], not removed since).
    pub fn is_installed(&self) -> bool {
        self.path.is_file()
    }

    /// The unit file's text.
    pub fn contents(&self) -> String {
        let role = self
            .command
            .iter()
            .position(|a| a == "--role")
            .and_then(|i| self.command.get(i + 1))
            .map_or_else(String::new, |r| format!(" {r}"));
        let exec = self
            .command
            .iter()
            .map(|a| exec_word(a))
            .collect::<Vec<_>>()
            .join(" ");
        let mut unit = String::new();
        // `StartLimitIntervalSec=0`: a kiosk keeps trying (every RestartSec) instead of giving
        // up after five quick failures, e.g. while the Wi-Fi comes up.
        let _ = write!(
            unit,
            "# Written by boussole-game (« Démarrer ce poste automatiquement »); the button\n\
             # « Ne plus démarrer automatiquement » removes it.\n\
             [Unit]\n\
             Description=Boussole — poste{role} démarré automatiquement\n\
             After=graphical-session.target\n\
             PartOf=graphical-session.target\n\
             StartLimitIntervalSec=0\n\
             \n\
             [Service]\n\
             ExecStart={exec}\n\
             Environment={KIOSK_ENV}=1\n\
             Restart=always\n\
             RestartSec=3\n\
             \n\
             [Install]\n\
             WantedBy=graphical-session.target\n"
        );
        unit
    }

    /// Writes the unit, reloads the user manager, hands it this session's display, then
    /// `systemctl --user enable --now`: the unit starts a copy of the game now (the caller
    /// should then close its own window) and at each login. On failure the file is removed
    /// again, so [`KioskUnit::is_installed`] keeps saying what systemd will do.
    pub fn enable(&self, systemctl: &mut dyn Systemctl) -> Result<(), KioskError> {
        let file_error = |source| KioskError::File {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(file_error)?;
        }
        std::fs::write(&self.path, self.contents()).map_err(file_error)?;
        let display: Vec<&str> = DISPLAY_ENV
            .iter()
            .copied()
            .filter(|v| std::env::var_os(v).is_some())
            .collect();
        let result = systemctl.user(&["daemon-reload"]).and_then(|()| {
            if !display.is_empty() {
                let mut args = vec!["import-environment"];
                args.extend(&display);
                systemctl.user(&args)?;
            }
            systemctl.user(&["enable", "--now", UNIT_NAME])
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&self.path);
            let _ = systemctl.user(&["daemon-reload"]);
        }
        result
    }

    /// `systemctl --user disable`, removes the unit file, reloads, then stops the unit (last:
    /// when this process is the unit's, the stop ends it). A system without systemctl has
    /// nothing enabled: the file is removed and that is all.
    pub fn disable(&self, systemctl: &mut dyn Systemctl) -> Result<(), KioskError> {
        let disabled = match systemctl.user(&["disable", UNIT_NAME]) {
            Err(KioskError::NoSystemctl) => {
                self.remove_file()?;
                return Ok(());
            }
            other => other,
        };
        self.remove_file()?;
        disabled?;
        systemctl.user(&["daemon-reload"])?;
        systemctl.user(&["stop", UNIT_NAME])
    }

    fn remove_file(&self) -> Result<(), KioskError> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(KioskError::File {
                path: self.path.clone(),
                source: e,
            }),
            _ => Ok(()),
        }
    }
}

/// `$XDG_CONFIG_HOME` when set to an absolute path (the XDG rule: a relative one is ignored),
/// else `$HOME/.config`.
pub fn config_home(xdg_config_home: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    xdg_config_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })
}

/// One word of `ExecStart=` (systemd.service(5), "Command lines"): `%` and `$` doubled so
/// systemd expands nothing; quoted when it holds a space, a quote, a backslash or is `;`.
fn exec_word(word: &str) -> String {
    let escaped = word.replace('%', "%%").replace('$', "$$");
    let plain = !escaped.is_empty()
        && escaped != ";"
        && !escaped
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'));
    if plain {
        return escaped;
    }
    let mut quoted = String::from("\"");
    for c in escaped.chars() {
        match c {
            '"' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            '\n' => quoted.push_str("\\n"),
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the calls; fails the ones whose first argument is in `fail`.
    #[derive(Default)]
    struct Recorder {
        calls: Vec<String>,
        fail: Vec<&'static str>,
        missing: bool,
    }

    impl Systemctl for Recorder {
        fn user(&mut self, args: &[&str]) -> Result<(), KioskError> {
            self.calls.push(args.join(" "));
            if self.missing {
                return Err(KioskError::NoSystemctl);
            }
            match args.first() {
                Some(first) if self.fail.contains(first) => Err(KioskError::Systemctl {
                    args: args.join(" "),
                    detail: "Failed to connect to bus".into(),
                }),
                _ => Ok(()),
            }
        }
    }

    fn terminal_launch() -> KioskLaunch {
        KioskLaunch {
            role: Some("terminal".into()),
            director: Some("192.168.1.10:4433".into()),
            content: Some("content".into()),
            station: Some("accueil".into()),
            ..KioskLaunch::default()
        }
    }

    fn unit_in(dir: &Path) -> KioskUnit {
        let line = terminal_launch().command_line(
            Path::new("/usr/bin/boussole-game"),
            Path::new("/home/poste"),
        );
        KioskUnit::in_config_home(dir, line)
    }

    #[test]
    fn the_command_line_keeps_the_role_and_options_and_makes_paths_absolute() {
        let line = KioskLaunch {
            flat: true,
            data_dir: Some("/var/lib/poste".into()),
            ..terminal_launch()
        }
        .command_line(
            Path::new("/usr/bin/boussole-game"),
            Path::new("/home/poste"),
        );
        assert_eq!(
            line,
            [
                "/usr/bin/boussole-game",
                "--role",
                "terminal",
                "--flat",
                "--director",
                "192.168.1.10:4433",
                "--content",
                "/home/poste/content",
                "--station",
                "accueil",
                "--data-dir",
                "/var/lib/poste",
            ]
        );
        assert!(
            !line.iter().any(|a| a == "--code"),
            "never the pairing code"
        );
    }

    #[test]
    fn the_unit_restarts_always_with_the_exec_line() {
        let unit = unit_in(Path::new("/cfg"));
        assert_eq!(
            unit.path(),
            Path::new("/cfg/systemd/user/boussole-poste.service")
        );
        let text = unit.contents();
        assert!(text.contains(
            "\nExecStart=/usr/bin/boussole-game --role terminal --director 192.168.1.10:4433 \
             --content /home/poste/content --station accueil\n"
        ));
        assert!(text.contains("\nRestart=always\n"));
        assert!(text.contains("\nEnvironment=BOUSSOLE_KIOSK=1\n"));
        assert!(text.contains("\nWantedBy=graphical-session.target\n"));
        assert!(text.contains("Description=Boussole — poste terminal"));
    }

    #[test]
    fn exec_words_are_quoted_for_systemd() {
        assert_eq!(exec_word("plain"), "plain");
        assert_eq!(exec_word("/home/a b/c"), "\"/home/a b/c\"");
        assert_eq!(exec_word("50%$x"), "50%%$$x");
        assert_eq!(exec_word("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"");
        assert_eq!(exec_word(";"), "\";\"");
        assert_eq!(exec_word(""), "\"\"");
    }

    #[test]
    fn config_home_follows_xdg_then_home() {
        assert_eq!(
            config_home(Some("/x/cfg".into()), Some("/home/a".into())),
            Some(PathBuf::from("/x/cfg"))
        );
        assert_eq!(
            config_home(Some("relative".into()), Some("/home/a".into())),
            Some(PathBuf::from("/home/a/.config")),
            "a relative XDG_CONFIG_HOME is ignored"
        );
        assert_eq!(
            config_home(None, Some("/home/a".into())),
            Some(PathBuf::from("/home/a/.config"))
        );
        assert_eq!(config_home(None, None), None);
    }

    #[test]
    fn enable_writes_the_unit_then_enables_it_now() -> Result<(), Box<dyn std::error::Error>> {
        let config = tempfile::tempdir()?;
        let unit = unit_in(config.path());
        assert!(!unit.is_installed());
        let mut systemctl = Recorder::default();
        unit.enable(&mut systemctl)?;
        assert!(unit.is_installed());
        assert_eq!(
            std::fs::read_to_string(config.path().join("systemd/user/boussole-poste.service"))?,
            unit.contents()
        );
        assert_eq!(
            systemctl.calls.first().map(String::as_str),
            Some("daemon-reload")
        );
        assert_eq!(
            systemctl.calls.last().map(String::as_str),
            Some("enable --now boussole-poste.service")
        );
        Ok(())
    }

    #[test]
    fn a_failed_enable_removes_the_unit_and_says_why_in_french()
    -> Result<(), Box<dyn std::error::Error>> {
        let config = tempfile::tempdir()?;
        let unit = unit_in(config.path());
        let mut systemctl = Recorder {
            fail: vec!["enable"],
            ..Recorder::default()
        };
        let Err(e) = unit.enable(&mut systemctl) else {
            return Err("enable should fail".into());
        };
        assert!(!unit.is_installed(), "no unit left behind");
        // The device says what to do, in French, naming no command; the log keeps the
        // command and the system's words.
        assert_eq!(
            e.to_string(),
            "Démarrage automatique impossible : le système a refusé d'inscrire ce poste au \
             démarrage. Redémarrez l'appareil puis réessayez ; si cela recommence, signalez-le à \
             la personne qui installe les postes."
        );
        assert!(!e.to_string().contains("systemctl") && !e.to_string().contains("--"));
        assert_eq!(
            e.technical(),
            "systemctl --user enable --now boussole-poste.service: Failed to connect to bus"
        );
        let mut missing = Recorder {
            missing: true,
            ..Recorder::default()
        };
        let Err(e) = unit.enable(&mut missing) else {
            return Err("enable should fail".into());
        };
        assert!(e.to_string().starts_with(
            "Démarrage automatique impossible : ce système ne sait pas lancer un programme"
        ));
        assert!(!e.to_string().contains("systemctl"));
        assert_eq!(e.technical(), "systemctl not found on PATH");
        assert!(!unit.is_installed());
        Ok(())
    }

    #[test]
    fn disable_removes_the_unit_and_stops_it_last() -> Result<(), Box<dyn std::error::Error>> {
        let config = tempfile::tempdir()?;
        let unit = unit_in(config.path());
        unit.enable(&mut Recorder::default())?;
        let mut systemctl = Recorder::default();
        unit.disable(&mut systemctl)?;
        assert!(!unit.is_installed());
        assert_eq!(
            systemctl.calls,
            [
                "disable boussole-poste.service",
                "daemon-reload",
                "stop boussole-poste.service"
            ]
        );
        // Without systemctl there is nothing to disable: the file goes, and that is all.
        unit.enable(&mut Recorder::default())?;
        unit.disable(&mut Recorder {
            missing: true,
            ..Recorder::default()
        })?;
        assert!(!unit.is_installed());
        // Disabling twice is harmless.
        unit.disable(&mut Recorder::default())?;
        Ok(())
    }
}
