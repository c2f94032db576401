//! Real `boussole-game --headless` processes for the end-to-end tests: the binary built next
//! to the test's own, a child process whose status lines (`@state`, `@snapshot`, `@stats`)
//! are read on a thread, commands written on its standard input, and its counters read back
//! from the `--stats` file when it quits.

use anyhow::{Context, Result, anyhow, bail, ensure};
use boussole_protocol::DeviceId;
use boussole_protocol::device_session::SessionStats;
use boussole_sim::SimStats;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `boussole-game` binary next to this test's own, built first with the same target
/// folder (a no-op when it is fresh).
///
/// # Errors
/// No target folder above the test binary, or the build failed.
pub fn game_binary() -> Result<PathBuf> {
    crate::process::binary("boussole-game", "boussole-game")
}

/// How a game client is started.
#[derive(Clone, Debug)]
pub struct GameSpec {
    /// `headset`, `screen` or `terminal`; `None`: started without a role, it waits for the
    /// console to give it one (and starts itself again in it).
    pub role: Option<&'static str>,
    /// The pairing code (`None`: [`crate::CODE`]).
    pub code: Option<String>,
    /// Its device name.
    pub device: String,
    /// Its station, if any.
    pub station: Option<String>,
    /// Its participant, if any.
    pub participant: Option<String>,
    /// Its content folder (`None`: the repository's, the director's own).
    pub content: Option<PathBuf>,
}

/// A running `boussole-game --headless`.
pub struct GameProcess {
    /// Its device name.
    pub device: DeviceId,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<String>>>,
    stats_file: PathBuf,
    stderr: PathBuf,
}

impl GameProcess {
    /// Starts `spec` against the director at `addr`, pairing with [`crate::CODE`], its files
    /// under `dir`.
    ///
    /// # Errors
    /// It cannot be started.
    pub fn start(binary: &Path, spec: &GameSpec, addr: SocketAddr, dir: &Path) -> Result<Self> {
        let data = dir.join(&spec.device);
        std::fs::create_dir_all(&data)?;
        let stderr = data.join("stderr.log");
        let stats_file = data.join("stats.ron");
        let mut cmd = Process::new(binary);
        if let Some(role) = spec.role {
            cmd.args(["--role", role]);
        }
        cmd.args(["--headless", "--device", &spec.device])
            .args(["--director", &addr.to_string()])
            .args(["--code", spec.code.as_deref().unwrap_or(crate::CODE)])
            .arg("--data-dir")
            .arg(&data)
            .arg("--content")
            .arg(spec.content.clone().unwrap_or_else(crate::content_dir))
            .arg("--stats")
            .arg(&stats_file)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr)?);
        if let Some(s) = &spec.station {
            cmd.args(["--station", s]);
        }
        if let Some(p) = &spec.participant {
            cmd.args(["--participant", p]);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(mut l) = sink.lock() {
                    l.push(line);
                }
            }
        });
        Ok(Self {
            device: DeviceId::from(spec.device.as_str()),
            stdin: child.stdin.take(),
            child,
            lines,
            stats_file,
            stderr,
        })
    }

    /// Every line printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The last line starting with `prefix`.
    pub fn last(&self, prefix: &str) -> Option<String> {
        self.lines()
            .into_iter()
            .rev()
            .find(|l| l.starts_with(prefix))
    }

    /// Writes one command line.
    ///
    /// # Errors
    /// Its standard input is closed.
    pub fn send(&mut self, line: &str) -> Result<()> {
        let stdin = self.stdin.as_mut().ok_or_else(|| anyhow!("stdin closed"))?;
        writeln!(stdin, "{line}")?;
        stdin.flush()?;
        Ok(())
    }

    /// Polls its output until `done` holds of its lines, at most `guard`.
    ///
    /// # Errors
    /// The guard ran out (with its last lines and its stderr), or it exited.
    pub fn wait_for(
        &mut self,
        what: &str,
        guard: Duration,
        mut done: impl FnMut(&[String]) -> bool,
    ) -> Result<()> {
        let start = Instant::now();
        loop {
            if done(&self.lines()) {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{}: exited ({status}) waiting for {what}{}",
                    self.device,
                    self.tail()
                );
            }
            ensure!(
                start.elapsed() < guard,
                "{}: {what} not reached in {guard:?}{}",
                self.device,
                self.tail()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn tail(&self) -> String {
        let lines = self.lines();
        let last: Vec<&String> = lines.iter().rev().take(6).collect();
        let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let err: String = err.lines().rev().take(15).collect::<Vec<_>>().join("\n");
        format!("\nlast lines: {last:?}\nstderr (last lines, newest first):\n{err}")
    }

    /// Says `quit`, waits for the process to end (at most `guard`) and returns its counters
    /// as a simulated device's, for [`crate::check_exactly_once`].
    ///
    /// # Errors
    /// It did not stop in time, failed, or wrote no stats.
    pub fn quit(mut self, guard: Duration) -> Result<(DeviceId, SimStats)> {
        self.send("quit")?;
        drop(self.stdin.take());
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait()? {
                break status;
            }
            if start.elapsed() > guard {
                let _ = self.child.kill();
                bail!("{}: did not quit in {guard:?}{}", self.device, self.tail());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        ensure!(status.success(), "{}: {status}{}", self.device, self.tail());
        let text = std::fs::read_to_string(&self.stats_file)
            .with_context(|| format!("{}", self.stats_file.display()))?;
        // The game writes its session's counters, the type the simulated devices share.
        let link: SessionStats = ron::from_str(&text).with_context(|| text.clone())?;
        let stats = SimStats {
            link,
            ..SimStats::default()
        };
        Ok((self.device.clone(), stats))
    }
}

impl Drop for GameProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The value of `key=` in a status line (`open=a,b` → `["a", "b"]`).
pub fn field(line: &str, key: &str) -> Vec<String> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .map(|v| {
            v.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
