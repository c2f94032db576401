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
