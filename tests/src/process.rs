//! A real `boussole-director serve` process for the tests that kill it: the binary built
//! next to the test's own, the demo script sped up as a file for `--script`, and the child
//! process with the address and session it printed.

use crate::{CODE, PASSPHRASE, content_dir, facilitator_steps};
use anyhow::{Context, Result, anyhow, bail, ensure};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The `boussole-director` binary next to this test's own binary
/// (`<target>/<profile>/deps/e2e_restart-…` → `<target>/<profile>/boussole-director`), built
/// first with the same target folder (a no-op when it is fresh).
///
/// # Errors
/// No target folder above the test binary, or the build failed.
pub fn director_binary() -> Result<PathBuf> {
    binary("boussole-director", "boussole-director")
}

/// Binary `bin` of `package`, next to this test's own binary, built first with the same
/// target folder (a no-op when it is fresh).
///
/// It is built as a member of the workspace (`--workspace --bin`), not with `-p`: features
/// are then resolved as `cargo test --workspace` resolved them, so the binary that run built
/// is reused. With `-p`, Bevy and everything above it were built a second time (four minutes
/// of CI, gigabytes of target folder).
///
/// # Errors
/// No target folder above the test binary, or the build failed.
pub fn binary(package: &str, bin: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow!("no target folder above {}", exe.display()))?;
    let target = profile_dir
        .parent()
        .ok_or_else(|| anyhow!("no target folder above {}", profile_dir.display()))?;
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let mut build = Process::new(cargo);
    build
        .args(["build", "--workspace", "--bin", bin])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(crate::repo_root());
    // What `cargo test` sets for this test only: with it, build scripts that watch the
    // environment (ring, SQLCipher) would run again and their dependants be rebuilt.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || key == "LD_LIBRARY_PATH"
        {
            build.env_remove(key.as_ref());
        }
    }
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build.status().context("running cargo build")?;
    ensure!(status.success(), "cargo build of {bin} ({package}) failed");
    let binary = profile_dir.join(bin);
    ensure!(binary.exists(), "{} was not built", binary.display());
    Ok(binary)
}

/// The demo script's facilitator commands, sped up, as a script file for `serve --script`.
///
/// # Errors
/// A value RON cannot write.
pub fn sped_up_script(script: &boussole_director::script::Script) -> Result<String> {
    let s = |v: &str| ron::to_string(&v.to_owned());
    let mut out = format!(
        "(\n    scenario: {},\n    label: {},\n    participants: [\n",
        s(&script.scenario)?,
        s(&script.label)?
    );
    for p in &script.participants {
        let station = match &p.station {
            Some(st) => format!("Some({})", s(st.as_str())?),
            None => "None".into(),
        };
        out.push_str(&format!(
            "        (id: {}, pseudonym: {}, colour: {}, station: {station}),\n",
            s(&p.id.0)?,
            s(&p.pseudonym)?,
            s(&p.colour)?
        ));
    }
    out.push_str("    ],\n    steps: [\n");
    for (at_s, command) in facilitator_steps(script) {
        out.push_str(&format!(
            "        (at_s: {at_s}, act: Command({})),\n",
            ron::to_string(&command)?
        ));
    }
    out.push_str("    ],\n)\n");
    Ok(out)
}

/// A `boussole-director serve` child process and what it printed.
pub struct DirectorProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The session it serves.
    pub session: i64,
}

impl DirectorProcess {
    /// Starts `serve` with `args` and waits for its address and pairing code on stdout.
    ///
    /// # Errors
    /// It cannot be started, or printed no address or pairing code within 30 s.
    pub fn start(binary: &Path, db: &Path, stderr: &Path, args: &[&str]) -> Result<Self> {
        let mut child = Process::new(binary)
            .arg("--db")
            .arg(db)
            .arg("--content")
            .arg(content_dir())
            .arg("serve")
            .args(args)
            .args(["--pairing-code", CODE])
            .env("BOUSSOLE_PASSPHRASE", PASSPHRASE)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(stderr)?)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut listening = None;
        loop {
            let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) else {
                let _ = child.kill();
                let log = std::fs::read_to_string(stderr).unwrap_or_default();
                bail!("the director printed no pairing code; stderr:\n{log}");
            };
            if let Some((head, addr)) = line.split_once(" — écoute sur ") {
                let session = head
                    .trim_start_matches("Séance ")
                    .parse()
                    .with_context(|| format!("session in {line:?}"))?;
                listening = Some((session, addr.parse().with_context(|| line.clone())?));
            }
            if let Some(code) = line.strip_prefix("Code d'appairage : ") {
                ensure!(code == CODE, "pairing code {code}");
                break;
            }
        }
        let (session, addr) = listening.ok_or_else(|| anyhow!("no address printed"))?;
        Ok(Self {
            child,
            addr,
            session,
        })
    }

    /// SIGKILL: no goodbye, no flush, no closing of connections.
    ///
    /// # Errors
    /// The signal or the wait failed.
    pub fn kill(mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for DirectorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
