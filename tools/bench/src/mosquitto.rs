//! A mosquitto broker (Debian's `mosquitto`, installed by `cargo xtask bench`) started on a free
//! loopback port for the MQTT baseline, stopped when dropped.

use crate::common::{free_tcp_port, ms};
use anyhow::{Context, Result, bail};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running broker.
pub struct Mosquitto {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// Its version line, e.g. `2.0.11`.
    pub version: String,
    /// ms from spawning the process to its port accepting a connection.
    pub ready_ms: f64,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Starts `mosquitto -c <conf>` listening on a free loopback port, anonymous, without
    /// persistence (the MQTT baseline keeps nothing on disk), and waits until it accepts.
    ///
    /// # Errors
    /// The binary is missing (run `cargo xtask bench`, which installs it) or never listens.
    pub async fn start() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let port = free_tcp_port()?;
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 max_queued_messages 10000\nlog_dest none\n"
            ),
        )?;
        let version = Command::new("mosquitto")
            .arg("-h")
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .find_map(|l| l.split("version ").nth(1).map(str::to_owned))
            })
            .unwrap_or_else(|| "?".into());
        let started = Instant::now();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context(
                "starting mosquitto (Debian package `mosquitto`; `cargo xtask bench` installs it)",
            )?;
        let mut broker = Self {
            port,
            version,
            ready_ms: 0.0,
            child,
            _dir: dir,
        };
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                broker.ready_ms = ms(started.elapsed());
                return Ok(broker);
            }
            if started.elapsed() > Duration::from_secs(10) {
                bail!("mosquitto did not listen on port {port} within 10 s");
            }
            if let Ok(Some(status)) = broker.child.try_wait() {
                bail!("mosquitto exited with {status}");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// The broker's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
