//! The `serve` command: content bundle, identity, pairing code, the session thread, the QUIC
//! server and the facilitator script, wired together.

use anyhow::{Context, Result};
use boussole_director::engine::Input;
use boussole_director::runtime::{Director, Output, unix_ms};
use boussole_director::script::{Act, Script};
use boussole_director::server::{FileRegistry, serve};
use boussole_director::session::Session;
use boussole_protocol::bundle::Bundle;
use boussole_protocol::discovery::{DirectorInfo, announce};
use boussole_protocol::pairing::{PairingCode, PairingState};
use boussole_protocol::tls::DirectorIdentity;
use boussole_protocol::transport::Server;
use boussole_protocol::wire::PROTOCOL_VERSION;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
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

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

pub fn run(opts: Options, session: Session) -> Result<()> {
    let assets = opts
        .content_dir
        .parent()
        .map_or_else(|| PathBuf::from("assets"), |p| p.join("assets"));
    let bundle = Arc::new(
        Bundle::from_dirs(&opts.content_dir, &assets).context("packing the content for devices")?,
    );
    let identity = DirectorIdentity::load_or_create(&opts.data_dir.join("identity"), &host_name())
        .context("loading the director's certificate")?;
    let registry = Arc::new(
        FileRegistry::open(&opts.data_dir.join("devices.tsv"))
            .context("reading the paired devices")?,
    );
    let code = match &opts.pairing_code {
        Some(c) => PairingCode::parse(c).map_err(|e| anyhow::anyhow!("pairing code: {e}"))?,
        None => PairingCode::random(),
    };
    // The transport's clock (clock sync, cue times) counts session milliseconds.
    let age =
        Duration::from_millis(u64::try_from(unix_ms() - session.created_at_unix_ms()).unwrap_or(0));
    let clock_base = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
    let session_id = session.id();
    let (tx, rx) = std::sync::mpsc::channel::<Output>();
    let director = Director::start(session, tx);
    let handle = director.handle();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the network runtime")?;
    runtime.block_on(async {
        let server = Server::bind_with_clock(
            opts.bind,
            &identity,
            registry,
            PairingState::new(code),
            bundle.hash(),
            opts.name.clone(),
            clock_base,
        )
        .context("opening the QUIC endpoint")?;
        server.set_session(Some(session_id.to_string()));
        // Devices on the local network find the director without typing an address.
        let port = server.local_addr().port();
        let info = DirectorInfo {
            name: opts.name.clone(),
            port,
            version: u32::from(PROTOCOL_VERSION),
        };
        let _announcement = match announce(&info) {
            Ok(a) => Some(a),
            Err(e) => {
                eprintln!("annonce mDNS impossible ({e}) : les appareils devront saisir l'adresse");
                None
            }
        };
        println!("Séance {session_id} — écoute sur {}", server.local_addr());
        println!("Code d'appairage : {code}");
        let _ = std::io::stdout().flush();
        // The session thread's effects, into the async world.
        let (out_tx, out_rx) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            while let Ok(o) = rx.recv() {
                if out_tx.send(o).is_err() {
                    break;
                }
            }
        });
        if let Some(script) = opts.script {
            let h = handle.clone();
            std::thread::spawn(move || play_commands(&script, &h));
        }
        tokio::select! {
            () = serve(server, handle, out_rx, Some(bundle)) => {}
            _ = tokio::signal::ctrl_c() => println!("Arrêt demandé."),
        }
        anyhow::Ok(())
    })?;
    drop(runtime);
    let _ = director.stop();
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
