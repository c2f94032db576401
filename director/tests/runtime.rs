//! The session thread fires deadlines on its own, on time, and answers submissions from other
//! threads once they are committed.

use boussole_content::ContentSet;
use boussole_director::engine::{Command, Effect, Input};
use boussole_director::runtime::{Director, unix_ms};
use boussole_director::session::Session;
use boussole_director::store::Store;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// A session of the shipped example scenario, its log in `dir`.
fn example_session(dir: &std::path::Path) -> Result<Session, Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let (content, problems) = ContentSet::load_dir(&root.join("content"));
    assert!(problems.is_empty());
    let store = Store::open(&dir.join("d.db"), "phrase de test")?;
    Ok(Session::create(store, &content, "exemple", "", unix_ms())?)
}

#[test]
fn an_auto_continue_fires_after_its_post_wait_without_any_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let session = example_session(dir.path()).expect("session");
    let (tx, rx) = mpsc::channel();
    let director = Director::start(session, tx);
    let handle = director.handle();
    handle
        .submit(Input::Command(Command::Standby("c_intro".into())))
        .expect("standby");
    let go = handle.submit(Input::Command(Command::Go)).expect("go");
    assert!(
        go.effects
            .iter()
            .any(|e| matches!(e, Effect::FireCue { cue, .. } if cue.as_str() == "c_intro"))
    );
    // c_intro auto-continues after a 5 s post-wait to c_ambiance: the thread fires it alone.
    let fired = loop {
        let out = rx
            .recv_timeout(Duration::from_secs(15))
            .expect("the deadline fires within the guard");
        if let Some(Effect::FireCue { start_at, .. }) = out
            .effects
            .iter()
            .find(|e| matches!(e, Effect::FireCue { cue, .. } if cue.as_str() == "c_ambiance"))
        {
            break *start_at;
        }
    };
    assert_eq!(
        fired.0 - go.at.0,
        5000,
        "scheduled exactly at the post-wait, in session time"
    );
    let standby = handle
        .with(|s| s.engine().standby().map(ToString::to_string))
        .expect("read");
    assert_eq!(standby.as_deref(), Some("c_top_depart"));
    let session = director.stop().expect("the thread gives the session back");
    assert_eq!(
        session.store().log(session.id()).expect("log").len(),
        2,
        "deadlines are not logged, inputs are"
    );
}

#[test]
fn device_events_from_many_threads_are_committed_once_each_then_acknowledged() {
    use boussole_director::engine::DeviceEvent;
    let dir = tempfile::tempdir().expect("tempdir");
    let session = example_session(dir.path()).expect("session");
    let (tx, _rx) = mpsc::channel();
    let director = Director::start(session, tx);
    let (devices, events) = (6, 60);
    let workers: Vec<_> = (0..devices)
        .map(|d| {
            let handle = director.handle();
            std::thread::spawn(move || {
                for seq in 1..=events {
                    // Each event sent twice, as after a lost acknowledgement.
                    for _ in 0..2 {
                        let input = Input::Device {
                            device: format!("tablette_{d}").as_str().into(),
                            seq,
                            event: DeviceEvent::HotspotSeen {
                                immersion: "tutoriel".into(),
                                hotspot: "h_quai".into(),
                            },
                        };
                        let out = handle.submit(input).expect("committed");
                        assert!(
                            out.effects.iter().any(|e| matches!(
                                e,
                                Effect::Ack { device, seq: s } if device.0 == format!("tablette_{d}") && *s == seq
                            )),
                            "every event is acknowledged, new or resent: {out:?}"
                        );
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let session = director.stop().expect("the thread gives the session back");
    let log = session.store().log(session.id()).expect("log");
    assert_eq!(log.len(), devices * events as usize, "each event once");
    assert_eq!(
        session.engine().game_events().len(),
        devices * events as usize,
        "each event handled once"
    );
}

/// Pipelined events: a device sends a window of events without waiting, and a resend of some
/// of them arrives in the same batch (a reconnection in the middle): one transaction, each
/// event logged once, each copy acknowledged.
#[test]
fn a_pipelined_batch_with_resends_logs_each_event_once_and_acknowledges_every_copy() {
    use boussole_director::engine::DeviceEvent;
    let dir = tempfile::tempdir().expect("tempdir");
    let session = example_session(dir.path()).expect("session");
    let (tx, _rx) = mpsc::channel();
    let director = Director::start(session, tx);
    let event = |seq: u64| Input::Device {
        device: "casque_1".into(),
        seq,
        event: DeviceEvent::HotspotSeen {
            immersion: "tutoriel".into(),
            hotspot: "h_quai".into(),
        },
    };
    // 1..=40 in flight, then 21..=40 again and 41..=60: the second copies come in one batch.
    let first: Vec<Input> = (1..=40).map(event).collect();
    let second: Vec<Input> = (21..=60).map(event).collect();
    let handle = director.handle();
    let mut acked = Vec::new();
    for batch in [first, second] {
        for out in handle
            .submit_many(batch)
            .expect("the session thread answers")
        {
            let out = out.expect("committed");
            acked.extend(out.effects.iter().filter_map(|e| match e {
                Effect::Ack { seq, .. } => Some(*seq),
                _ => None,
            }));
        }
    }
    let expected: Vec<u64> = (1..=40).chain(21..=60).collect();
    assert_eq!(acked, expected, "every copy acknowledged, in order");
    let session = director.stop().expect("the thread gives the session back");
    let log = session.store().log(session.id()).expect("log");
    assert_eq!(log.len(), 60, "each event once");
}
