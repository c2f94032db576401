//! The paired-device registry on disk: hashes only, survives a restart, and unpairing takes
//! effect at the next connection even while `serve` runs.

use boussole_director::server::FileRegistry;
use boussole_protocol::DeviceId;
use boussole_protocol::pairing::DeviceRegistry;
use boussole_protocol::wire::DeviceToken;

#[test]
fn tokens_are_stored_hashed_and_forgetting_revokes_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("devices.tsv");
    let live = FileRegistry::open(&path).expect("open");
    let device = DeviceId::from("tablette_1");
    let token = DeviceToken::random();
    live.register(&device, &token).expect("register");
    assert!(live.check(&device, &token));
    assert!(
        !live.check(&device, &DeviceToken::random()),
        "another token is refused"
    );
    let text = std::fs::read_to_string(&path).expect("file");
    assert!(text.starts_with("tablette_1\t"), "{text}");
    assert!(
        !text.contains(
            &token
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ),
        "never the token itself"
    );
    // Another process (`pair forget`) edits the file while `serve` holds `live`.
    let cli = FileRegistry::open(&path).expect("reopen");
    assert_eq!(cli.devices(), ["tablette_1"]);
    assert!(cli.forget("tablette_1").expect("forget"));
    assert!(
        !live.check(&device, &token),
        "revoked for the running director too"
    );
    assert!(!live.knows(&device));
    assert!(
        !cli.forget("tablette_1").expect("second forget"),
        "already gone"
    );
}

#[test]
fn devices_connecting_while_others_pair_lose_no_pairing() {
    // `bench cue` met « appareil inconnu » at 50 screens: a connection's re-read of the file
    // put back an older map while another device paired, and the next pairing saved it.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("devices.tsv");
    let live = std::sync::Arc::new(FileRegistry::open(&path).expect("open"));
    let first = DeviceId::from("ecran_00");
    let token = DeviceToken::random();
    live.register(&first, &token).expect("register");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let live = live.clone();
            let done = done.clone();
            let first = first.clone();
            let token = token.clone();
            std::thread::spawn(move || {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    assert!(live.check(&first, &token), "a paired device stays known");
                }
            })
        })
        .collect();
    let tokens: Vec<(DeviceId, DeviceToken)> = (1..60)
        .map(|i| {
            let device = DeviceId::from(format!("ecran_{i:02}").as_str());
            let token = DeviceToken::random();
            live.register(&device, &token).expect("register");
            (device, token)
        })
        .collect();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        reader.join().expect("no reader failed");
    }
    let reopened = FileRegistry::open(&path).expect("reopen");
    assert_eq!(reopened.devices().len(), 60);
    for (device, token) in &tokens {
        assert!(live.check(device, token), "{device} in memory");
        assert!(reopened.check(device, token), "{device} on disk");
    }
}

#[test]
fn a_read_write_console_is_remembered_across_pairings_until_forgotten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("devices.tsv");
    let live = FileRegistry::open(&path).expect("open");
    assert!(!live.has_console(), "nothing paired yet");
    let console = DeviceId::from("console");
    live.register(&console, &DeviceToken::random())
        .expect("register");
    live.register(&DeviceId::from("ecran_1"), &DeviceToken::random())
        .expect("register");
    assert!(
        !live.has_console(),
        "paired, not yet connected as a console"
    );
    assert!(
        !live.mark_console("inconnue").expect("mark"),
        "only a paired device"
    );
    assert!(live.mark_console("console").expect("mark"));
    assert!(!live.mark_console("console").expect("mark"), "once");
    // A restart reads it back; pairing the console again keeps it.
    let token = DeviceToken::random();
    live.register(&console, &token).expect("pair again");
    let reopened = FileRegistry::open(&path).expect("reopen");
    assert!(reopened.has_console());
    assert!(reopened.check(&console, &token));
    assert!(reopened.forget("console").expect("forget"));
    assert!(!live.has_console(), "forgotten with it");
}
