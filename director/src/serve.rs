//! The `serve` command: the pairing window at start, [`Serving`] (content catalog, identity, the session
//! thread, the QUIC server and the routing between them) on its own Tokio runtime, and the
//! facilitator script's commands played at their times.

use anyhow::{Context, Result};
use boussole_director::engine::Input;
use boussole_director::script::{Act, Script};
use boussole_director::server::{ServeConfig, Serving};
use boussole_director::session::Session;
use boussole_protocol::pairing::PairingCode;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What `serve` needs.
pub struct Options {
    pub bind: SocketAddr,
    pub content_dir: PathBuf,
    pub data_dir: PathBuf,
    pub name: String,
    pub pairing_code: Option<String>,
    pub script: Option<Script>,
}

pub fn run(opts: Options, session: Session) -> Result<()> {
    let assets_dir = opts
        .content_dir
        .parent()
        .map_or_else(|| PathBuf::from("assets"), |p| p.join("assets"));
    let pairing_code = opts
        .pairing_code
        .as_deref()
        .map(PairingCode::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("pairing code: {e}"))?;
    let config = ServeConfig {
        bind: opts.bind,
        content_dir: opts.content_dir.clone(),
        assets_dir,
        data_dir: opts.data_dir.clone(),
        name: opts.name.clone(),
        pairing_code,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the network runtime")?;
    let session_id = session.id();
    runtime.block_on(async {
        let mut serving = Serving::start(&config, session)?;
        // A closed stdout (the launcher stopped reading) must not stop the director.
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "Séance {} — écoute sur {}",
            session_id,
            serving.local_addr()
        );
        match serving.pairing().window() {
            Some(window) => {
                let _ = writeln!(out, "Code d'appairage : {}", window.code);
                let _ = writeln!(
                    out,
                    "Appairage ouvert {} min ; la console le rouvre ensuite avec un nouveau code.",
                    window.left.as_secs().div_ceil(60)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "Appairage fermé : ouvrez-le depuis la console (écran Appareils ou Préparer)"
                );
            }
        }
        let _ = out.flush();
        // Devices and consoles started without an address find the director on the local
        // network; a loopback bind is for this machine only, so it is not announced.
        let _announcement = if opts.bind.ip().is_loopback() {
            None
        } else {
            let info = boussole_protocol::discovery::DirectorInfo {
                name: opts.name.clone(),
                port: serving.local_addr().port(),
                version: u32::from(boussole_protocol::wire::PROTOCOL_VERSION),
                ca: Some(serving.ca_fingerprint()),
            };
            match boussole_protocol::discovery::announce(&info) {
                Ok(a) => {
                    let _ = writeln!(out, "Annoncé sur le réseau local : {}", a.fullname());
                    Some(a)
                }
                Err(e) => {
                    tracing::warn!(
                        "annonce mDNS impossible (donnez l'adresse aux appareils) : {e}"
                    );
                    None
                }
            }
        };
        if let Some(script) = opts.script {
            let h = serving.handle();
            std::thread::spawn(move || play_commands(&script, &h));
        }
        tokio::select! {
            () = serving.stopped() => {}
            _ = tokio::signal::ctrl_c() => {
                let _ = writeln!(std::io::stdout(), "Arrêt demandé.");
            }
        }
        let _ = serving.stop().await;
        anyhow::Ok(())
    })?;
    Ok(())
}

/// Submits the script's facilitator commands at their times after now. Device steps are left to
/// the devices themselves.
fn play_commands(script: &Script, director: &boussole_director::runtime::DirectorHandle) {
    let start = Instant::now();
    let mut steps: Vec<_> = script.steps.iter().collect();
    steps.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    for p in &script.participants {
        let add = boussole_director::engine::Command::AddParticipant {
            id: p.id.clone(),
            pseudonym: p.pseudonym.clone(),
            colour: p.colour.clone(),
        };
        let _ = director.submit(Input::Command(add));
        if p.station.is_some() {
            let assign = boussole_director::engine::Command::AssignStation {
                participant: p.id.clone(),
                station: p.station.clone(),
            };
            let _ = director.submit(Input::Command(assign));
        }
    }
    for step in steps {
        let Act::Command(c) = &step.act else { continue };
        let due = start + Duration::from_secs_f32(step.at_s.max(0.0));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if let Err(e) = director.submit(Input::Command(c.clone())) {
            eprintln!("script : {e}");
            return;
        }
    }
}
