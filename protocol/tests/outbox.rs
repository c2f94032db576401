//! The outbox keeps every unacknowledged event, in order, across reopen, crashes that tear the
//! last record, and compaction; it never panics on a damaged file.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail loudly, naming what they could not do"
)]

use boussole_content::Answer;
use boussole_protocol::DeviceEvent;
use boussole_protocol::outbox::{MAGIC, Outbox, OutboxError};
use std::fs;
use std::path::Path;

fn cue_finished(instance: u64) -> DeviceEvent {
    DeviceEvent::CueFinished { instance }
}

fn answer(text: &str) -> DeviceEvent {
    DeviceEvent::Answer {
        puzzle: "p_cadenas".into(),
        station: "tablette_1".into(),
        participant: Some("P3".into()),
        answer: Answer::Text(text.to_owned()),
    }
}

fn seqs(outbox: &Outbox) -> Vec<u64> {
    outbox.pending().into_iter().map(|(seq, _)| seq).collect()
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

#[test]
fn in_memory_events_are_numbered_from_1_and_pending_in_order() {
    let mut outbox = Outbox::open(None).unwrap();
    assert!(outbox.is_empty());
    assert_eq!(outbox.path(), None);
    for i in 1..=5 {
        assert_eq!(outbox.push(cue_finished(i * 10)).unwrap(), i);
    }
    assert_eq!(outbox.len(), 5);
    outbox.ack(2).unwrap();
    outbox.ack(4).unwrap();
    assert_eq!(
        outbox.pending(),
        vec![
            (1, cue_finished(10)),
            (3, cue_finished(30)),
            (5, cue_finished(50))
        ]
    );
    assert_eq!(outbox.next_seq(), 6);
}

#[test]
fn acks_are_idempotent_and_unknown_ones_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.bin");
    let mut outbox = Outbox::open(Some(&path)).unwrap();
    outbox.push(answer("1984")).unwrap();
    outbox.push(answer("1985")).unwrap();
    outbox.ack(1).unwrap();
    let len = file_len(&path);
    outbox.ack(1).unwrap();
    outbox.ack(0).unwrap();
    outbox.ack(99).unwrap();
    // Nothing written for acks that change nothing.
    assert_eq!(file_len(&path), len);
    assert_eq!(seqs(&outbox), vec![2]);
    assert_eq!(outbox.push(answer("1986")).unwrap(), 3);
}

#[test]
fn reopening_keeps_unacknowledged_events_and_the_next_seq() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("headset").join("outbox.bin");
    {
        let mut outbox = Outbox::open(Some(&path)).unwrap();
        assert_eq!(outbox.path(), Some(path.as_path()));
        for i in 1..=5 {
            outbox.push(answer(&format!("essai {i}"))).unwrap();
        }
        outbox.ack(2).unwrap();
        outbox.ack(4).unwrap();
    }
    let mut outbox = Outbox::open(Some(&path)).unwrap();
    assert_eq!(
        outbox.pending(),
        vec![
            (1, answer("essai 1")),
            (3, answer("essai 3")),
            (5, answer("essai 5"))
        ]
    );
    assert_eq!(outbox.push(cue_finished(7)).unwrap(), 6);
    outbox.ack(1).unwrap();
    drop(outbox);
    let outbox = Outbox::open(Some(&path)).unwrap();
    assert_eq!(seqs(&outbox), vec![3, 5, 6]);
    assert_eq!(outbox.next_seq(), 7);
}

#[test]
fn a_second_process_cannot_open_the_same_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.bin");
    let _first = Outbox::open(Some(&path)).unwrap();
    let err = Outbox::open(Some(&path)).unwrap_err();
    assert!(matches!(err, OutboxError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("outbox.bin"), "{err}");
}

#[test]
fn compaction_when_all_are_acknowledged_keeps_the_seq_going() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.bin");
    let mut outbox = Outbox::open(Some(&path)).unwrap();
    let fresh = file_len(&path);
    for i in 1..=100 {
        outbox.push(answer(&format!("réponse {i}"))).unwrap();
    }
    let full = file_len(&path);
    assert!(full > fresh + 100 * 20);
    for seq in 1..=99 {
        outbox.ack(seq).unwrap();
    }
    assert!(file_len(&path) > full);
    outbox.ack(100).unwrap();
    // Only the magic and the next seq are left.
    let compacted = file_len(&path);
    assert!(compacted < fresh + 8, "{compacted} bytes");
    assert!(!dir.path().join("outbox.bin.tmp").exists());
    // The file stays appendable after the compaction.
    assert_eq!(outbox.push(cue_finished(1)).unwrap(), 101);
    drop(outbox);
    let mut outbox = Outbox::open(Some(&path)).unwrap();
    assert_eq!(seqs(&outbox), vec![101]);
    assert_eq!(outbox.push(cue_finished(2)).unwrap(), 102);
}

#[test]
fn reopening_a_file_with_acks_compacts_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.bin");
    {
        let mut outbox = Outbox::open(Some(&path)).unwrap();
        for i in 1..=50 {
            outbox.push(cue_finished(i)).unwrap();
        }
        for seq in 1..=49 {
            outbox.ack(seq).unwrap();
        }
    }
    let before = file_len(&path);
    let outbox = Outbox::open(Some(&path)).unwrap();
    assert_eq!(outbox.pending(), vec![(50, cue_finished(50))]);
    assert!(file_len(&path) < before / 10);
}

/// Operations of a scripted session, recorded with the file length after each so that a file
/// cut anywhere can be compared with the state after the last whole record.
enum Op {
    Push(DeviceEvent),
    Ack(u64),
}

/// File length, pending events and next seq after an op.
type State = (u64, Vec<(u64, DeviceEvent)>, u64);

/// Runs `ops` on a fresh outbox at `path`; returns, after each op, the file length and the
/// pending events (what a reopen at exactly that length must give).
fn script(path: &Path, ops: Vec<Op>) -> Vec<State> {
    let mut outbox = Outbox::open(Some(path)).unwrap();
    let mut states = vec![(file_len(path), outbox.pending(), outbox.next_seq())];
    for op in ops {
        match op {
            Op::Push(event) => {
                outbox.push(event).unwrap();
            }
            Op::Ack(seq) => outbox.ack(seq).unwrap(),
        }
        states.push((file_len(path), outbox.pending(), outbox.next_seq()));
    }
    states
}

/// Copies `original` cut to `len` bytes to `path`, opens it, and checks it gives `pending`
/// and `next_seq`, that a push lands at `next_seq`, and that a reopen keeps all of it.
fn check_cut(
    original: &[u8],
    len: usize,
    path: &Path,
    pending: &[(u64, DeviceEvent)],
    next_seq: u64,
) {
    let _ = fs::remove_file(path);
    fs::write(path, &original[..len]).unwrap();
    let mut outbox = Outbox::open(Some(path)).unwrap();
    assert_eq!(outbox.pending(), pending, "cut at {len}");
    assert_eq!(
        outbox.push(cue_finished(999)).unwrap(),
        next_seq,
        "cut at {len}"
    );
    drop(outbox);
    let outbox = Outbox::open(Some(path)).unwrap();
    let mut expected = pending.to_vec();
    expected.push((next_seq, cue_finished(999)));
    assert_eq!(outbox.pending(), expected, "cut at {len}, reopened");
}

#[test]
fn a_file_cut_anywhere_in_its_last_record_loses_only_that_record() {
    let dir = tempfile::tempdir().unwrap();
    for last_is_push in [true, false] {
        let path = dir.path().join(format!("outbox-{last_is_push}.bin"));
        let mut ops = vec![
            Op::Push(answer("premier")),
            Op::Push(cue_finished(2)),
            Op::Ack(1),
            Op::Push(answer("troisième, avec des accents : éàç")),
        ];
        ops.push(if last_is_push {
            Op::Push(answer("le dernier"))
        } else {
            Op::Ack(3)
        });
        let states = script(&path, ops);
        let original = fs::read(&path).unwrap();
        let (before_len, before_pending, before_next) = states[states.len() - 2].clone();
        let (full_len, full_pending, full_next) = states[states.len() - 1].clone();
        assert_eq!(full_len as usize, original.len());
        let scratch = dir.path().join("cut.bin");
        for len in before_len as usize..original.len() {
            check_cut(&original, len, &scratch, &before_pending, before_next);
        }
        check_cut(
            &original,
            original.len(),
            &scratch,
            &full_pending,
            full_next,
        );
    }
}

#[test]
fn a_file_cut_at_any_byte_opens_to_the_state_after_some_whole_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.bin");
    let states = script(
        &path,
        vec![
            Op::Push(answer("a")),
            Op::Push(answer("b")),
            Op::Ack(2),
            Op::Push(cue_finished(3)),
            Op::Ack(1),
            Op::Push(answer("d")),
        ],
    );
    let original = fs::read(&path).unwrap();
    let scratch = dir.path().join("cut.bin");
    for len in 0..=original.len() {
        // The state after the last op whose record ends at or before the cut.
        let (_, pending, next_seq) = states
            .iter()
            .rev()
            .find(|(l, _, _)| *l as usize <= len)
            .cloned()
            .unwrap_or((0, Vec::new(), 1));
        check_cut(&original, len, &scratch, &pending, next_seq);
    }
}

#[test]
fn damaged_or_foreign_files_give_errors_or_drop_the_tail_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.bin");
    let states = script(
        &path,
        vec![
            Op::Push(answer("a")),
            Op::Push(answer("b")),
            Op::Push(answer("c")),
        ],
    );
    let original = fs::read(&path).unwrap();
    let scratch = dir.path().join("flipped.bin");
    // A flipped byte anywhere after the magic: the records before it are kept.
    for i in MAGIC.len()..original.len() {
        let mut bytes = original.clone();
        bytes[i] ^= 0x5a;
        let _ = fs::remove_file(&scratch);
        fs::write(&scratch, &bytes).unwrap();
        let outbox = Outbox::open(Some(&scratch)).unwrap();
        // (A flip inside the first record, written whole by a rename, leaves nothing.)
        let whole = states
            .iter()
            .rev()
            .find(|(l, _, _)| *l as usize <= i)
            .map_or(Vec::new(), |s| s.1.clone());
        assert_eq!(outbox.pending(), whole, "byte {i} flipped");
    }

    let foreign = dir.path().join("notes.txt");
    fs::write(&foreign, "ceci n'est pas une boîte d'envoi").unwrap();
    let err = Outbox::open(Some(&foreign)).unwrap_err();
    assert!(matches!(err, OutboxError::NotAnOutbox { .. }), "{err}");
    assert_eq!(
        fs::read_to_string(&foreign).unwrap(),
        "ceci n'est pas une boîte d'envoi"
    );
    let short = dir.path().join("short.bin");
    fs::write(&short, b"XY").unwrap();
    assert!(matches!(
        Outbox::open(Some(&short)),
        Err(OutboxError::NotAnOutbox { .. })
    ));
}

#[test]
fn a_leftover_temporary_file_from_an_interrupted_compaction_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.bin");
    {
        let mut outbox = Outbox::open(Some(&path)).unwrap();
        outbox.push(answer("gardé")).unwrap();
    }
    fs::write(dir.path().join("outbox.bin.tmp"), b"half a compaction").unwrap();
    let mut outbox = Outbox::open(Some(&path)).unwrap();
    assert_eq!(outbox.pending(), vec![(1, answer("gardé"))]);
    outbox.ack(1).unwrap();
    drop(outbox);
    let outbox = Outbox::open(Some(&path)).unwrap();
    assert!(outbox.is_empty());
    assert_eq!(outbox.next_seq(), 2);
}
